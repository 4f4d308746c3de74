import Crypto
import Foundation

/// Reads a file in 1 MiB chunks, hashing every byte on the way, so the input's digest comes for free and the file is
/// never held whole.
struct HashingByteReader {
  private let handle: FileHandle
  private var chunk: [UInt8] = []
  private var position = 0
  private var finished = false
  private(set) var hasher = SHA256()
  private(set) var size = 0
  let path: String

  init(path: String) throws(ReportSLAError) {
    self.path = path
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw ReportSLAError("cannot open the input \(path): it does not exist or is not readable")
    }
    self.handle = handle
  }

  func close() {
    try? handle.close()
  }

  /// The next byte, or nil at the end of the file.
  @inline(__always)
  mutating func next() throws(ReportSLAError) -> UInt8? {
    if position == chunk.count {
      guard try refill() else { return nil }
    }
    let byte = chunk[position]
    position += 1
    return byte
  }

  /// Appends bytes to `field` up to the next comma, quote, CR or LF, which it consumes and returns; nil at the end.
  /// The CSV reader's fast path: unquoted fields are copied a run at a time rather than byte by byte.
  mutating func scanField(into field: inout [UInt8]) throws(ReportSLAError) -> UInt8? {
    while true {
      if position == chunk.count {
        guard try refill() else { return nil }
      }
      let (end, special): (Int, UInt8?) = chunk.withUnsafeBufferPointer { bytes in
        var index = position
        while index < bytes.count {
          let byte = bytes[index]
          if byte == 0x2C || byte == 0x22 || byte == 0x0A || byte == 0x0D { return (index, byte) }
          index += 1
        }
        return (index, nil)
      }
      field.append(contentsOf: chunk[position..<end])
      if let special {
        position = end + 1
        return special
      }
      position = end
    }
  }

  private mutating func refill() throws(ReportSLAError) -> Bool {
    guard !finished else { return false }
    let data: Data?
    do {
      data = try handle.read(upToCount: 1 << 20)
    } catch {
      throw ReportSLAError("cannot read the input \(path): \(error.localizedDescription)")
    }
    guard let data, !data.isEmpty else {
      finished = true
      return false
    }
    hasher.update(data: data)
    size += data.count
    chunk = Array(data)
    position = 0
    return true
  }

  /// Reads to the end so the digest covers bytes after the last record too.
  mutating func drain() throws(ReportSLAError) {
    position = chunk.count
    while try refill() { position = chunk.count }
  }

  var digest: String { Digest.hex(hasher.finalize()) }
}

/// RFC 4180 CSV, streamed: one record at a time, quoted fields with `""` escapes and line breaks, CRLF or LF.
struct CSVRecordReader {
  private var bytes: HashingByteReader
  /// Number of the record last returned; the header is record 1, as in a spreadsheet.
  private(set) var recordNumber = 0
  private var field: [UInt8] = []

  init(_ bytes: HashingByteReader) {
    self.bytes = bytes
  }

  mutating func finish() throws(ReportSLAError) -> HashingByteReader {
    try bytes.drain()
    return bytes
  }

  /// Reads the next record into `fields` (reused by the caller, so rows do not each allocate an array); false at
  /// the end. A blank line is skipped.
  mutating func next(into fields: inout [String]) throws(ReportSLAError) -> Bool {
    fields.removeAll(keepingCapacity: true)
    field.removeAll(keepingCapacity: true)
    var quoted = false
    var fieldStarted = false
    var sawAnything = false
    while true {
      let byte: UInt8
      if quoted {
        guard let next = try bytes.next() else { break }
        byte = next
      } else {
        let before = field.count
        let special = try bytes.scanField(into: &field)
        if field.count > before {
          fieldStarted = true
          sawAnything = true
        }
        guard let special else { break }
        byte = special
      }
      sawAnything = true
      if quoted {
        if byte == 0x22 {
          guard let following = try bytes.next() else {
            quoted = false
            break
          }
          if following == 0x22 {
            field.append(0x22)
            continue
          }
          quoted = false
          if following == 0x2C {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            fieldStarted = false
            continue
          }
          if following == 0x0A {
            finishRecord(&fields)
            return true
          }
          if following == 0x0D { continue }
          throw ReportSLAError(
            "row \(recordNumber + 1): a quoted field is followed by '\(Character(UnicodeScalar(following)))' "
              + "instead of a comma or line end (RFC 4180: quotes inside a field are doubled)")
        }
        field.append(byte)
        continue
      }
      switch byte {
      case 0x2C:
        fields.append(String(decoding: field, as: UTF8.self))
        field.removeAll(keepingCapacity: true)
        fieldStarted = false
      case 0x0A:
        if fields.isEmpty, field.isEmpty, !fieldStarted {
          recordNumber += 1
          sawAnything = false
          continue
        }
        finishRecord(&fields)
        return true
      case 0x0D:
        continue
      case 0x22 where field.isEmpty && !fieldStarted:
        quoted = true
        fieldStarted = true
      default:
        // A quote inside an unquoted field is kept as data, as most exporters and readers do.
        field.append(byte)
        fieldStarted = true
      }
    }
    if quoted {
      throw ReportSLAError("row \(recordNumber + 1): a quoted field is not closed before the end of the file")
    }
    guard sawAnything, !(fields.isEmpty && field.isEmpty && !fieldStarted) else { return false }
    finishRecord(&fields)
    return true
  }

  private mutating func finishRecord(_ fields: inout [String]) {
    fields.append(String(decoding: field, as: UTF8.self))
    field.removeAll(keepingCapacity: true)
    recordNumber += 1
  }
}

/// JSON Lines, streamed: one JSON value per line; blank lines are skipped.
struct JSONLinesReader {
  private var bytes: HashingByteReader
  private(set) var lineNumber = 0
  private var line: [UInt8] = []

  init(_ bytes: HashingByteReader) {
    self.bytes = bytes
  }

  mutating func finish() throws(ReportSLAError) -> HashingByteReader {
    try bytes.drain()
    return bytes
  }

  /// The next non-blank line's bytes with its line number, or nil at the end.
  mutating func next() throws(ReportSLAError) -> (line: Int, data: Data)? {
    while true {
      line.removeAll(keepingCapacity: true)
      var ended = false
      while let byte = try bytes.next() {
        if byte == 0x0A {
          ended = true
          break
        }
        line.append(byte)
      }
      if !ended && line.isEmpty { return nil }
      lineNumber += 1
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
      return (lineNumber, Data(line))
    }
  }
}
