import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// RFC 4180 CSV, streamed: quoted fields with `""` escapes and line breaks, CRLF or LF. A quote opens a quoted field
// only at the start of a field (a quote inside an unquoted field is data, as most exporters and readers treat it); a
// carriage return outside quotes is dropped; a line without anything but carriage returns is skipped, yet counted, so
// row numbers match a spreadsheet's.
//
// The file is cut into chunks of whole records (`CSVChunkReader`) that `CSVRecordParser`s read independently, on
// as many tasks as there are cores. Cutting needs the parser's state at each byte; `CSVState` is that state reduced
// to what decides where records end, and both sides follow the same transitions.

/// Where a CSV reader stands between two bytes, as far as record boundaries go.
enum CSVState: Sendable {
  /// At the start of a field (nothing but carriage returns read): a quote here opens a quoted field.
  case fieldStart
  /// Inside an unquoted field, or after a quoted field's closing quote and a carriage return.
  case inField
  case quoted
  /// Just read a quote inside a quoted field: an escaped quote, or the field's end.
  case quoteInQuoted

  /// Follows the bytes of `bytes` from this state; returns the index just past the last line feed that ends a record
  /// (or a blank line), if any. The parser throws where a closing quote is followed by anything but a quote, comma,
  /// CR or LF; nothing after that matters, so the scan simply carries on as if in a field.
  mutating func lastRecordEnd(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    guard let base = bytes.baseAddress else { return nil }
    let count = bytes.count
    var index = 0
    var last: Int?
    var state = self
    while index < count {
      switch state {
      case .fieldStart:
        let byte = base[index]
        index += 1
        switch byte {
        case 0x22: state = .quoted
        case 0x2C, 0x0D: break
        case 0x0A: last = index
        default: state = .inField
        }
      case .inField:
        // Eight bytes at a time to the first comma, line feed, quote or carriage return, as the parser does; the last
        // two are data here, so the byte loop walks on past them.
        while index + 8 <= count {
          let found = CSVRecordParser.specialBytes(
            UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)))
          if found != 0 {
            index += found.trailingZeroBitCount >> 3
            break
          }
          index += 8
        }
        while index < count, base[index] != 0x2C, base[index] != 0x0A { index += 1 }
        guard index < count else { break }
        if base[index] == 0x0A { last = index + 1 }
        state = .fieldStart
        index += 1
      case .quoted:
        guard let quote = memchr(base + index, 0x22, count - index) else {
          index = count
          break
        }
        index = base.distance(to: quote.assumingMemoryBound(to: UInt8.self)) + 1
        state = .quoteInQuoted
      case .quoteInQuoted:
        let byte = base[index]
        index += 1
        switch byte {
        case 0x22: state = .quoted
        case 0x2C: state = .fieldStart
        case 0x0A:
          last = index
          state = .fieldStart
        default: state = .inField
        }
      }
    }
    self = state
    return last
  }
}

/// Whole records of a CSV file: `bytes[start..<end]` starts at the beginning of a record and ends just after a line
/// feed that ends one, or at the end of the file.
struct CSVChunk: Sendable {
  let bytes: [UInt8]
  let start: Int
  let end: Int

  /// Parses every record, handing each record's number within the chunk and its fields (valid only during the call)
  /// to `body`; returns how many records and blank lines were read, and the syntax error that stopped the reading.
  func forEachRecord(
    _ body: (_ number: Int, _ fields: [UnsafeBufferPointer<UInt8>]) -> Void
  ) -> (records: Int, error: CSVSyntaxError?) {
    bytes.withUnsafeBufferPointer { all in
      var parser = CSVRecordParser(UnsafeBufferPointer(rebasing: all[start..<end]))
      do throws(CSVSyntaxError) {
        while try parser.next() { body(parser.recordNumber, parser.fields) }
        return (parser.recordNumber, nil)
      } catch {
        return (parser.recordNumber, error)
      }
    }
  }

  /// Why a record whose field count differs from the header's is rejected.
  static func fieldCountReason(_ fields: Int, header: Int) -> String {
    "has \(fields) fields; the header has \(header) (unquoted comma or line break?)"
  }
}

/// Cuts a CSV file into chunks of whole records while hashing it. Reads `blockSize` bytes at a time; bytes after the
/// last record end are carried into the next chunk. A UTF-8 byte order mark at the start of the file is dropped before
/// any cut: Excel's "CSV UTF-8" export writes one, and it would otherwise become part of the first column's name (the
/// digest still covers it).
final class CSVChunkReader {
  static let defaultBlockSize = 4 << 20
  let file: HashingFileReader
  private let blockSize: Int
  /// Bytes read after the last record end, starting at the beginning of a record.
  private var carry: [UInt8] = []
  /// How much of `carry` is known to hold no record end, and the state after it: a record longer than a block is
  /// scanned once, not again with every block added to it.
  private var carryScanned = 0
  private var carryState = CSVState.fieldStart
  private var checkedByteOrderMark = false
  private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

  init(_ file: HashingFileReader, blockSize: Int = CSVChunkReader.defaultBlockSize) {
    self.file = file
    self.blockSize = max(blockSize, 1)
  }

  /// The next chunk, or nil after the last.
  func next() throws(ReportSLAError) -> CSVChunk? {
    while true {
      if file.atEnd {
        guard !carry.isEmpty else { return nil }
        defer { carry = [] }
        return CSVChunk(bytes: carry, start: 0, end: carry.count)
      }
      // At least as much as is carried, so a record longer than a block costs a doubling series of copies, not one
      // copy of everything read so far per block.
      var bytes = try file.read(after: carry[...], upTo: max(blockSize, carry.count))
      if !checkedByteOrderMark, bytes.count >= 3 || file.atEnd || !Self.byteOrderMark.starts(with: bytes) {
        checkedByteOrderMark = true
        if bytes.starts(with: Self.byteOrderMark) {
          bytes.removeFirst(3)
          carryScanned = 0
          carryState = .fieldStart
        }
      }
      let scanFrom = carryScanned
      var state = carryState
      let recordEnd = bytes.withUnsafeBufferPointer { all in
        Self.lastRecordEnd(in: UnsafeBufferPointer(rebasing: all[scanFrom...]), state: &state).map { scanFrom + $0 }
      }
      guard let recordEnd else {
        carry = bytes
        carryScanned = bytes.count
        carryState = state
        continue
      }
      carry = Array(bytes[recordEnd...])
      carryScanned = 0
      carryState = .fieldStart
      return CSVChunk(bytes: bytes, start: 0, end: recordEnd)
    }
  }

  /// The header: its fields, the rest of its chunk and its row number (blank lines before it count); nil when the
  /// file holds no record at all. `file` names a secondary input in errors.
  func header(file label: String? = nil) throws(ReportSLAError) -> (fields: [String], rest: CSVChunk, row: Int)? {
    var rows = 0
    while let chunk = try next() {
      let found: Result<(fields: [String], offset: Int)?, CSVSyntaxError> = chunk.bytes.withUnsafeBufferPointer { all in
        var parser = CSVRecordParser(UnsafeBufferPointer(rebasing: all[chunk.start..<chunk.end]))
        do throws(CSVSyntaxError) {
          let isRecord = try parser.next()
          rows += parser.recordNumber
          return .success(isRecord ? (parser.fields.map(FieldBytes.string), parser.offset) : nil)
        } catch {
          return .failure(error)
        }
      }
      switch found {
      case .failure(let error):
        throw ReportSLAError(error.message(at: RecordLocation(unit: .row, number: rows + error.record, file: label)))
      case .success(let header?):
        return (header.fields, CSVChunk(bytes: chunk.bytes, start: chunk.start + header.offset, end: chunk.end), rows)
      case .success(nil): continue
      }
    }
    return nil
  }

  /// The last record end in `bytes`, read from `state`. Without a quote, every line feed outside a quoted field ends
  /// a record, so the common case is a search for the last line feed rather than a walk through every field.
  private static func lastRecordEnd(in bytes: UnsafeBufferPointer<UInt8>, state: inout CSVState) -> Int? {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
    if state == .fieldStart || state == .inField, memchr(base, 0x22, bytes.count) == nil {
      var index = bytes.count
      while index > 0, base[index - 1] != 0x0A { index -= 1 }
      if index > 0 {
        state = .fieldStart
        return index
      }
    }
    return state.lastRecordEnd(in: bytes)
  }
}

/// A CSV syntax error that makes the whole input unusable, at a record counted from the start of its chunk.
struct CSVSyntaxError: Error, Sendable {
  enum Problem: Sendable {
    case quoteFollowedBy(UInt8)
    case unclosedQuote
  }

  let problem: Problem
  let record: Int

  /// The problem at `location`, which names the file when it is not the export itself.
  func message(at location: RecordLocation) -> String {
    switch problem {
    case .quoteFollowedBy(let byte):
      return "\(location): a quoted field is followed by '\(Character(UnicodeScalar(byte)))' "
        + "instead of a comma or line end (RFC 4180: quotes inside a field are doubled)"
    case .unclosedQuote:
      return "\(location): a quoted field is not closed before the end of the file"
    }
  }
}

/// Reads the records of one chunk in place: a field without quotes or carriage returns is a slice of the chunk; the
/// rare others are assembled in a scratch buffer as long as the chunk, so no record can outgrow it.
struct CSVRecordParser: ~Copyable {
  private let bytes: UnsafeBufferPointer<UInt8>
  private var position = 0
  /// Records and blank lines read so far; the current record's number within the chunk after `next()`.
  private(set) var recordNumber = 0
  /// The current record's fields; valid until the next call to `next()`.
  private(set) var fields: [UnsafeBufferPointer<UInt8>] = []
  private let scratch: UnsafeMutablePointer<UInt8>
  private var scratchUsed = 0

  init(_ bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
    scratch = .allocate(capacity: max(bytes.count, 1))
    fields.reserveCapacity(16)
  }

  deinit { scratch.deallocate() }

  /// Where the unread bytes begin.
  var offset: Int { position }

  private enum Ending {
    case comma, record, blankLine, endOfInput(record: Bool)
  }

  /// Reads the next record into `fields`; false at the end of the chunk. A blank line is skipped.
  mutating func next() throws(CSVSyntaxError) -> Bool {
    fields.removeAll(keepingCapacity: true)
    scratchUsed = 0
    guard let base = bytes.baseAddress else { return false }
    let count = bytes.count
    while true {
      let start = position
      var index = start
      // The common field: no quote, no carriage return, up to a comma or line feed. Eight bytes at a time, then
      // byte by byte from the first that may matter.
      while index + 8 <= count {
        let found = Self.specialBytes(UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)))
        if found != 0 {
          index += found.trailingZeroBitCount >> 3
          break
        }
        index += 8
      }
      while index < count {
        let byte = base[index]
        if byte <= 0x2C, byte == 0x2C || byte == 0x0A || byte == 0x22 || byte == 0x0D { break }
        index += 1
      }
      let ending: Ending
      if index == count {
        position = count
        let record = index > start || !fields.isEmpty
        if record { fields.append(UnsafeBufferPointer(start: base + start, count: index - start)) }
        ending = .endOfInput(record: record)
      } else if base[index] == 0x2C {
        fields.append(UnsafeBufferPointer(start: base + start, count: index - start))
        position = index + 1
        ending = .comma
      } else if base[index] == 0x0A {
        position = index + 1
        if index == start && fields.isEmpty {
          ending = .blankLine
        } else {
          fields.append(UnsafeBufferPointer(start: base + start, count: index - start))
          ending = .record
        }
      } else {
        ending = try assembleField(from: start, at: index)
      }
      switch ending {
      case .comma: continue
      case .blankLine: recordNumber += 1
      case .record:
        recordNumber += 1
        return true
      case .endOfInput(let record):
        if record { recordNumber += 1 }
        return record
      }
    }
  }

  /// A field holding a quote or carriage return from `start`, where `special` is the first of them: copied into
  /// scratch without carriage returns outside quotes, quotes unescaped.
  private mutating func assembleField(from start: Int, at special: Int) throws(CSVSyntaxError) -> Ending {
    guard let base = bytes.baseAddress else { return .endOfInput(record: false) }
    let count = bytes.count
    let fieldStart = scratchUsed
    copy(base + start, special - start)
    var started = special > start
    var index = special
    while true {
      guard index < count else {
        position = count
        let record = started || !fields.isEmpty
        if record { finishField(from: fieldStart) }
        return .endOfInput(record: record)
      }
      let byte = base[index]
      switch byte {
      case 0x2C:
        finishField(from: fieldStart)
        position = index + 1
        return .comma
      case 0x0A:
        position = index + 1
        if !started && fields.isEmpty { return .blankLine }
        finishField(from: fieldStart)
        return .record
      case 0x0D:
        index += 1
      case 0x22 where !started:
        started = true
        index += 1
        while true {
          guard let found = memchr(base + index, 0x22, count - index) else {
            throw CSVSyntaxError(problem: .unclosedQuote, record: recordNumber + 1)
          }
          let quote = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
          copy(base + index, quote - index)
          guard quote + 1 < count else {
            finishField(from: fieldStart)
            position = count
            return .endOfInput(record: true)
          }
          let following = base[quote + 1]
          index = quote + 2
          switch following {
          case 0x22:
            copy(base + quote, 1)
            continue
          case 0x2C:
            finishField(from: fieldStart)
            position = index
            return .comma
          case 0x0A:
            finishField(from: fieldStart)
            position = index
            return .record
          case 0x0D: break
          default: throw CSVSyntaxError(problem: .quoteFollowedBy(following), record: recordNumber + 1)
          }
          break
        }
      default:
        copy(base + index, 1)
        started = true
        index += 1
      }
    }
  }

  /// A mask whose lowest set bit falls in the first byte of `word` that is a comma, line feed, quote or carriage
  /// return (bits above it may be spurious); 0 when there is none.
  @inline(__always)
  static func specialBytes(_ word: UInt64) -> UInt64 {
    @inline(__always)
    func zeroBytes(_ value: UInt64) -> UInt64 {
      (value &- 0x0101_0101_0101_0101) & ~value & 0x8080_8080_8080_8080
    }
    return zeroBytes(word ^ 0x2C2C_2C2C_2C2C_2C2C) | zeroBytes(word ^ 0x0A0A_0A0A_0A0A_0A0A)
      | zeroBytes(word ^ 0x2222_2222_2222_2222) | zeroBytes(word ^ 0x0D0D_0D0D_0D0D_0D0D)
  }

  private mutating func copy(_ source: UnsafePointer<UInt8>, _ length: Int) {
    guard length > 0 else { return }
    (scratch + scratchUsed).update(from: source, count: length)
    scratchUsed += length
  }

  private mutating func finishField(from fieldStart: Int) {
    fields.append(UnsafeBufferPointer(start: scratch + fieldStart, count: scratchUsed - fieldStart))
  }
}
