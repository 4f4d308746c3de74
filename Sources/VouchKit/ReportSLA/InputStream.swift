import Crypto
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads a file with plain `read(2)` in large blocks, hashing every byte as it arrives, so the input's digest comes
/// from the same buffers the parser reads and the file is never held whole. Owns its descriptor, so it stays with
/// the task that opened it.
final class HashingFileReader {
  let path: String
  private let descriptor: Int32
  private var hasher = SHA256()
  private(set) var size = 0
  /// Set once a read found the end of the file.
  private(set) var atEnd = false

  init(path: String) throws(ReportSLAError) {
    self.path = path
    descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw ReportSLAError("cannot open the input \(path): it does not exist or is not readable")
    }
  }

  deinit { close(descriptor) }

  /// A new array holding `prefix` and then up to `count` further bytes of the file; fewer only at its end.
  func read(after prefix: ArraySlice<UInt8>, upTo count: Int) throws(ReportSLAError) -> [UInt8] {
    var failure: Int32 = 0
    var reachedEnd = false
    let descriptor = descriptor
    let result = [UInt8](unsafeUninitializedCapacity: prefix.count + count) { buffer, initialized in
      guard let base = buffer.baseAddress else { return }
      prefix.withUnsafeBufferPointer { carried in
        if let source = carried.baseAddress { base.initialize(from: source, count: carried.count) }
      }
      var filled = prefix.count
      while filled < buffer.count {
        let got = systemRead(descriptor, base + filled, buffer.count - filled)
        if got > 0 {
          filled += got
        } else if got == 0 {
          reachedEnd = true
          break
        } else if errno != EINTR {
          failure = errno
          break
        }
      }
      initialized = filled
    }
    guard failure == 0 else {
      throw ReportSLAError("cannot read the input \(path): \(String(cString: strerror(failure)))")
    }
    if reachedEnd { atEnd = true }
    result.withUnsafeBufferPointer { all in
      let fresh = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: all[prefix.count...]))
      hasher.update(bufferPointer: fresh)
      size += fresh.count
    }
    return result
  }

  /// Reads to the end so the digest covers bytes after the last record too.
  func drain() throws(ReportSLAError) {
    while !atEnd { _ = try read(after: [], upTo: 1 << 20) }
  }

  /// The rest of the file, for a format that must be parsed whole (a JSON document); hashed like every other read.
  func readToEnd() throws(ReportSLAError) -> [UInt8] {
    var bytes: [UInt8] = []
    while !atEnd { bytes = try read(after: bytes[...], upTo: max(1 << 20, bytes.count)) }
    return bytes
  }

  var digest: String { Digest.hex(hasher.finalize()) }
}

/// `read(2)`, named apart from the reader's own `read` method.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
  read(descriptor, buffer, count)
}

/// JSON Lines, streamed: one JSON value per line; blank lines are skipped.
struct JSONLinesReader {
  private let file: HashingFileReader
  private var buffer: [UInt8] = []
  private var position = 0
  /// Bytes from `position` known to hold no line feed, so a long line is searched once.
  private var searched = 0
  private(set) var lineNumber = 0

  init(_ file: HashingFileReader) {
    self.file = file
  }

  /// The next non-blank line's bytes with its line number, or nil at the end.
  mutating func next() throws(ReportSLAError) -> (line: Int, data: Data)? {
    while true {
      let line: ArraySlice<UInt8>
      if let newline = buffer[(position + searched)...].firstIndex(of: 0x0A) {
        line = buffer[position..<newline]
        position = newline + 1
        searched = 0
      } else if file.atEnd {
        guard position < buffer.count else { return nil }
        line = buffer[position...]
        position = buffer.count
        searched = 0
      } else {
        // At least as much as is carried, so a long line costs a doubling series of copies.
        searched = buffer.count - position
        buffer = try file.read(after: buffer[position...], upTo: max(1 << 20, searched))
        position = 0
        continue
      }
      lineNumber += 1
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
      return (lineNumber, Data(line))
    }
  }
}
