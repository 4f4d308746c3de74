import Crypto
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// SHA-256 helpers; every digest in Vouch is lowercase hex SHA-256.
public enum Digest {
  public static func sha256(_ data: some DataProtocol) -> String {
    hex(SHA256.hash(data: data))
  }

  public static func sha256(_ text: String) -> String {
    sha256(Data(text.utf8))
  }

  /// Streams a file through SHA-256 without loading it whole.
  ///
  /// - Returns: the hex digest and the size in bytes.
  public static func sha256(fileAt url: URL) throws -> (digest: String, size: Int) {
    try sha256(path: url.path)
  }

  /// The same for a path; reads with plain system calls, since verifying a year of bundles hashes tens of thousands
  /// of small files and per-file Foundation overhead would dominate.
  public static func sha256(path: String) throws -> (digest: String, size: Int) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw DigestError(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var hasher = SHA256()
    var size = 0
    let capacity = 256 * 1024
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      let count = read(fd, buffer.baseAddress, capacity)
      if count == 0 { break }
      guard count > 0 else {
        if errno == EINTR { continue }
        throw DigestError(path: path, reason: String(cString: strerror(errno)))
      }
      hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
      size += count
    }
    return (hex(hasher.finalize()), size)
  }

  static func hex(_ digest: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(64)
    for byte in digest {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
  }
}

/// A file could not be read for hashing.
public struct DigestError: Error, Sendable, CustomStringConvertible {
  public let path: String
  public let reason: String

  public var description: String { "cannot read \(path): \(reason)" }
}
