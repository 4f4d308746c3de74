import Crypto
import Foundation
import Testing

@testable import VouchKit

/// The parallel CSV path of `report-sla`: an export cut into chunks and measured on several tasks must read exactly
/// as one pass over the file did — quoted fields and line breaks across chunk boundaries, CRLF, a UTF-8 BOM, blank
/// lines, a file without a final line feed, rejected rows and syntax errors named with their row — and pseudonyms
/// must stay HMAC-SHA-256.
@Suite struct ReportSLAChunkingTests {
  typealias Fixture = ReportSLACollectorTests

  /// The CSV reader as it was before chunking, byte by byte: the model the chunked reader is held to.
  struct ReferenceCSV {
    let bytes: [UInt8]
    var position = 0
    var recordNumber = 0

    mutating func next() throws -> [[UInt8]]? {
      var fields: [[UInt8]] = []
      var field: [UInt8] = []
      var quoted = false
      var fieldStarted = false
      var sawAnything = false
      func nextByte() -> UInt8? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
      }
      while true {
        let byte: UInt8
        if quoted {
          guard let next = nextByte() else { break }
          byte = next
        } else {
          var special: UInt8?
          while let next = nextByte() {
            if next == 0x2C || next == 0x22 || next == 0x0A || next == 0x0D {
              special = next
              break
            }
            field.append(next)
            fieldStarted = true
            sawAnything = true
          }
          guard let special else { break }
          byte = special
        }
        sawAnything = true
        if quoted {
          if byte == 0x22 {
            guard let following = nextByte() else {
              quoted = false
              break
            }
            if following == 0x22 {
              field.append(0x22)
              continue
            }
            quoted = false
            if following == 0x2C {
              fields.append(field)
              field = []
              fieldStarted = false
              continue
            }
            if following == 0x0A {
              fields.append(field)
              recordNumber += 1
              return fields
            }
            if following == 0x0D { continue }
            throw CSVSyntaxError(problem: .quoteFollowedBy(following), record: recordNumber + 1)
          }
          field.append(byte)
          continue
        }
        switch byte {
        case 0x2C:
          fields.append(field)
          field = []
          fieldStarted = false
        case 0x0A:
          if fields.isEmpty, field.isEmpty, !fieldStarted {
            recordNumber += 1
            sawAnything = false
            continue
          }
          fields.append(field)
          recordNumber += 1
          return fields
        case 0x0D: continue
        case 0x22 where field.isEmpty && !fieldStarted:
          quoted = true
          fieldStarted = true
        default:
          field.append(byte)
          fieldStarted = true
        }
      }
      if quoted { throw CSVSyntaxError(problem: .unclosedQuote, record: recordNumber + 1) }
      guard sawAnything, !(fields.isEmpty && field.isEmpty && !fieldStarted) else { return nil }
      fields.append(field)
      recordNumber += 1
      return fields
    }
  }

  struct Read: Equatable, CustomStringConvertible {
    var records: [String] = []
    var error: String?
    var description: String { "\(records) \(error ?? "")" }
  }

  static func reference(_ bytes: [UInt8]) -> Read {
    var reader = ReferenceCSV(bytes: bytes)
    var read = Read()
    do {
      while let fields = try reader.next() { read.records.append("\(reader.recordNumber):\(fields)") }
    } catch let error as CSVSyntaxError {
      read.error = error.message(at: RecordLocation(unit: .row, number: error.record))
    } catch {
      read.error = "\(error)"
    }
    return read
  }

  /// Reads a file through `CSVChunkReader` in blocks of `blockSize`, numbering rows across chunks as the run does.
  static func chunked(_ file: URL, blockSize: Int) throws -> Read {
    let reader = CSVChunkReader(try HashingFileReader(path: file.path), blockSize: blockSize)
    var read = Read()
    var rowsBefore = 0
    while let chunk = try reader.next() {
      let base = rowsBefore
      let failure: CSVSyntaxError? = chunk.bytes.withUnsafeBufferPointer { all in
        var parser = CSVRecordParser(UnsafeBufferPointer(rebasing: all[chunk.start..<chunk.end]))
        defer { rowsBefore += parser.recordNumber }
        do throws(CSVSyntaxError) {
          while try parser.next() {
            read.records.append("\(base + parser.recordNumber):\(parser.fields.map(Array.init))")
          }
          return nil
        } catch {
          return error
        }
      }
      if let failure {
        read.error = failure.message(at: RecordLocation(unit: .row, number: base + failure.record))
        return read
      }
    }
    return read
  }

  @Test func chunkedReadingMatchesTheByteByByteReaderOnRandomInput() throws {
    var random = SplitMix(seed: 2026)
    let alphabet: [UInt8] = [0x61, 0x62, 0x2C, 0x2C, 0x22, 0x22, 0x0A, 0x0A, 0x0D, 0x20, 0xC3, 0xA9, 0x78]
    let file = try TestScratch.makeDirectory("csv-chunks").appendingPathComponent("input.csv")
    for _ in 0..<600 {
      let length = Int(random.next() % 160)
      let bytes = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
      try Data(bytes).write(to: file)
      let expected = Self.reference(bytes)
      for blockSize in [1, 2, 3, 5, 8, 13, 40, 4096] {
        let read = try Self.chunked(file, blockSize: blockSize)
        #expect(read == expected, "block \(blockSize): \(Array(bytes))")
      }
    }
  }

  /// A byte order mark is dropped before the file is cut: a quote right after it opens a field for the cutter as for
  /// the parser, so a header field holding a line break is not cut in two.
  @Test func byteOrderMarkIsDroppedBeforeCutting() throws {
    let file = try TestScratch.makeDirectory("csv-bom").appendingPathComponent("input.csv")
    for text in ["\"a\nb\",c\n1,\"2\n3\"\n4,5\n", "\"x\"\"\n\",y\r\n\n1,2", "id\n\"\n\"\n"] {
      let plain = Array(text.utf8)
      try Data([0xEF, 0xBB, 0xBF] + plain).write(to: file)
      let expected = Self.reference(plain)
      for blockSize in [1, 2, 3, 4, 5, 8, 4096] {
        #expect(try Self.chunked(file, blockSize: blockSize) == expected, "block \(blockSize): \(text)")
      }
    }
  }

  // MARK: The collector at several chunk sizes

  /// What a collection produced: facts and every artifact's bytes.
  struct Collected {
    let facts: [String: FactValue]
    let artifacts: [String: Data]
  }

  static func collect(_ parameters: [String: ParameterValue], blockSize: Int) async throws -> Collected {
    var collector = try ReportSLACollector(parameters: Parameters(parameters))
    collector.csvBlockSize = blockSize
    let run = try Fixture.Run()
    let output = try await collector.collect(run.context)
    var artifacts: [String: Data] = [:]
    for record in run.harness.artifacts.records {
      let name = String(record.path.dropFirst("controls/\(CollectorHarness.controlID)/".count))
      artifacts[name] = try Data(contentsOf: run.harness.file(name))
    }
    return Collected(facts: output.facts, artifacts: artifacts)
  }

  /// An export in `Fixture.csvParameters`' columns: the fixture's rows, then `count` generated reports.
  static func export(_ count: Int, lineEnd: String = "\n", edit: (inout [String]) -> Void = { _ in }) throws -> URL {
    var rows = try String(contentsOf: Fixture.fixtures.appendingPathComponent("tracker-export.csv"), encoding: .utf8)
      .split(separator: "\n").map(String.init)
    for number in 1...max(count, 1) where count > 0 {
      let day = 2 + number % 27
      let received = String(format: "2026-03-%02dT%02d:%02d:00+01:00", day, number % 24, number % 60)
      let reply = number % 5 == 0 ? "" : String(format: "2026-04-%02dT10:00:00+02:00", 1 + number % 20)
      let name = number % 7 == 0 ? "\"Reporter\(lineEnd)\(number), \"\"nick\"\"\"" : "Reporter \(number)"
      rows.append(
        "G-\(number),\(received),\(reply),,,,\(["Low", "High", "Critical"][number % 3]),New,"
          + "r\(number % 50)@Example.org,\(name),\(number % 4 == 0 ? "anonymous" : "credit")")
    }
    edit(&rows)
    let file = try TestScratch.makeDirectory("sla-chunks").appendingPathComponent("export.csv")
    try Data((rows.joined(separator: lineEnd) + lineEnd).utf8).write(to: file)
    return file
  }

  static func parameters(_ file: URL) throws -> [String: ParameterValue] {
    try Fixture.csvParameters(["path": .string(file.path)])
  }

  /// Facts and artifacts must not depend on how the file was cut.
  static func expectSameInAnyChunkSize(_ file: URL, sizes: [Int] = [7, 61, 500, 4096]) async throws {
    let whole = try await collect(try parameters(file), blockSize: CSVChunkReader.defaultBlockSize)
    for size in sizes {
      let chunked = try await collect(try parameters(file), blockSize: size)
      #expect(chunked.facts == whole.facts, "block size \(size)")
      #expect(chunked.artifacts == whole.artifacts, "block size \(size)")
    }
  }

  @Test func quotedLineBreaksAndQuotesAcrossChunksReadTheSame() async throws {
    let file = try Self.export(400)
    try await Self.expectSameInAnyChunkSize(file)
    let facts = try await Self.collect(try Self.parameters(file), blockSize: 61).facts
    #expect(facts["reports_received"] == .integer(405))
    #expect(facts["rejected_rows"] == .integer(6))
  }

  @Test func crlfAndBlankLinesReadTheSame() async throws {
    let file = try Self.export(300, lineEnd: "\r\n") { rows in
      rows.insert("", at: 150)
      rows.insert("\r", at: 40)
    }
    try await Self.expectSameInAnyChunkSize(file)
    let facts = try await Self.collect(try Self.parameters(file), blockSize: 61).facts
    #expect(facts["reports_received"] == .integer(305))
    // Blank lines count as rows, as in a spreadsheet: the fixture's bad rows keep their numbers before them.
    #expect(facts["rejected_row_reasons"]?.rendered.contains("row 13: id: missing or empty (required)") == true)
  }

  @Test func rejectedRowsInLaterChunksAreNamedByTheirRow() async throws {
    let file = try Self.export(3000) { rows in
      rows[1500] = rows[1500].replacingOccurrences(of: ",2026-03-", with: ",2026-13-", options: [], range: nil)
      rows[2500] = rows[2500].replacingOccurrences(of: "G-2488,", with: "G-17,")
    }
    try await Self.expectSameInAnyChunkSize(file, sizes: [4096])
    let facts = try await Self.collect(try Self.parameters(file), blockSize: 4096).facts
    guard case .list(let reasons)? = facts["rejected_row_reasons"] else {
      Issue.record("no rejected rows")
      return
    }
    let messages = reasons.map(\.rendered)
    #expect(messages.contains { $0.hasPrefix("row 1501 (id G-1488): received_at: '2026-13-") })
    #expect(messages.contains("row 2501 (id G-17): id: duplicates row 30"))
  }

  @Test func syntaxErrorInALaterChunkNamesItsRow() async throws {
    let file = try Self.export(3000) { rows in
      rows[2200] = rows[2200].replacingOccurrences(of: ",New,", with: ",\"New\"x,")
    }
    for size in [4096, CSVChunkReader.defaultBlockSize] {
      await #expect {
        _ = try await Self.collect(try Self.parameters(file), blockSize: size)
      } throws: {
        "\($0)" == "row 2201: a quoted field is followed by 'x' instead of a comma or line end "
          + "(RFC 4180: quotes inside a field are doubled)"
      }
    }
  }

  @Test func fileWithoutFinalLineFeedKeepsItsLastRecord() async throws {
    let file = try Self.export(200)
    var bytes = try Data(contentsOf: file)
    bytes.removeLast()
    try bytes.write(to: file)
    try await Self.expectSameInAnyChunkSize(file)
    let collected = try await Self.collect(try Self.parameters(file), blockSize: 61)
    #expect(collected.facts["reports_received"] == .integer(205))
    let table = String(decoding: collected.artifacts["reports.csv"] ?? Data(), as: UTF8.self)
    #expect(table.contains("\nG-200,"))
  }

  /// Excel's "CSV UTF-8" export starts with a byte order mark: the first column is still found by its name and the
  /// measurement equals the plain file's, while the input digest covers the exact bytes.
  @Test func utf8ByteOrderMarkBeforeTheHeaderIsSkipped() async throws {
    let plain = try Self.export(50)
    let file = plain.deletingLastPathComponent().appendingPathComponent("bom.csv")
    let bytes = Data([0xEF, 0xBB, 0xBF]) + (try Data(contentsOf: plain))
    try bytes.write(to: file)
    try await Self.expectSameInAnyChunkSize(file, sizes: [1, 2, 61])
    let marked = try await Self.collect(try Self.parameters(file), blockSize: 61).facts
    let unmarked = try await Self.collect(try Self.parameters(plain), blockSize: 61).facts
    #expect(marked["reports_received"] == unmarked["reports_received"])
    #expect(marked["first_response_p90_business_days"] == unmarked["first_response_p90_business_days"])
    #expect(marked["input_sha256"] == .string(Digest.sha256(bytes)))
  }

  /// A timestamp without an offset far before the window makes the calendar table start earlier part-way through
  /// the file; chunks measured in parallel from the old start are measured again, so nothing changes.
  @Test func calendarTableRebuiltPartWayReadsTheSame() async throws {
    let file = try Self.export(3000) { rows in
      rows[1800] = "Z-1,2019-01-07 10:00:00,2019-01-08 10:00:00,,,,Low,New,z@example.org,Z,credit"
    }
    try await Self.expectSameInAnyChunkSize(file, sizes: [4096])
  }

  /// The per-task timestamp writer remembers dates by day; what it writes must be `UTCFormat`'s text for any instant.
  @Test func timestampWriterWritesWhatUTCFormatWrites() {
    var random = SplitMix(seed: 86_400)
    var writer = TimestampWriter()
    var buffer = ByteBuffer(capacity: 64)
    var instants: [Double] = [0, -0.5, -1, -86_400, -86_400.25, 1_772_445_600.9, 253_402_300_799, 253_402_300_800, -62_167_219_201]
    for _ in 0..<20_000 {
      // Mostly days that share a slot of the writer's cache, some far out.
      let day = Double(Int(random.next() % 4096)) - 2048 + 20_000
      instants.append(day * 86_400 + Double(random.next() % 86_400_000) / 1000)
      instants.append(Double(Int64(bitPattern: random.next()) % 400_000_000_000))
    }
    for instant in instants {
      buffer.removeAll()
      writer.append(instant, to: &buffer)
      #expect(String(decoding: buffer.bytes, as: UTF8.self) == UTCFormat.string(instant), "\(instant)")
    }
  }

  // MARK: Pseudonyms

  /// Each row's pseudonym is the `Pseudonymizer`'s, however often the reporter recurs (from the memo) and whatever
  /// the identity's case, spacing, script or length (longer ones are never remembered).
  @Test func tablePseudonymsAreThePseudonymizersForRecurringReporters() async throws {
    let identities = [
      "alice@example.org", " Alice@Example.org ", "ALICE@EXAMPLE.ORG", "j\u{F6}rg@example.org", "J\u{D6}RG@example.org",
      "a.very.long.reporter.address.beyond.the.memo@example.org", "x", "\u{212A}elvin@example.org",
    ]
    let file = try Self.export(0) { rows in
      rows = [rows[0]]
      for number in 1...400 {
        rows.append(
          "P-\(number),2026-03-02T10:00:00Z,,,,,Low,New,\(identities[number % identities.count]),Name,credit")
      }
    }
    let pseudonymizer = try Pseudonymizer(key: Data("0123456789abcdef0123456789abcdef".utf8))
    for size in [61, CSVChunkReader.defaultBlockSize] {
      let collected = try await Self.collect(try Self.parameters(file), blockSize: size)
      let rows = String(decoding: collected.artifacts["reports.csv"] ?? Data(), as: UTF8.self).split(separator: "\n")
      #expect(rows.count == 401)
      for row in rows.dropFirst() {
        let fields = row.split(separator: ",", omittingEmptySubsequences: false)
        let number = Int(fields[0].dropFirst(2)) ?? -1
        #expect(String(fields[14]) == pseudonymizer.pseudonym(for: identities[number % identities.count]), "\(row)")
      }
    }
  }

  @Test func pseudonymMACIsHMACSHA256() throws {
    // RFC 4231 test cases 2 and 6.
    let jefe = try PseudonymMAC(key: Data("Jefe".utf8))
    let code = Array("what do ya want for nothing?".utf8).withUnsafeBytes { jefe.code(of: $0) }
    #expect(Digest.hex(code) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    let long = try PseudonymMAC(key: Data(repeating: 0xAA, count: 131))
    let longCode = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8).withUnsafeBytes {
      long.code(of: $0)
    }
    #expect(Digest.hex(longCode) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")

    var random = SplitMix(seed: 4231)
    for keyLength in [16, 32, 63, 64, 65, 100] {
      let key = Data((0..<keyLength).map { _ in UInt8(truncatingIfNeeded: random.next()) })
      let mac = try PseudonymMAC(key: key)
      for length in 0...200 {
        let message = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let ours = message.withUnsafeBytes { mac.code(of: $0) }
        let crypto = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
        #expect(ours == crypto, "key \(keyLength) bytes, message \(length) bytes")
      }
    }

    // The published form: `rp-` and the first 96 bits of HMAC-SHA-256 over the trimmed, lower-cased identity.
    let key = Data("0123456789abcdef0123456789abcdef".utf8)
    let mac = HMAC<SHA256>.authenticationCode(for: Data("alice@example.org".utf8), using: SymmetricKey(data: key))
    #expect(try Pseudonymizer(key: key).pseudonym(for: " Alice@Example.ORG ") == "rp-" + Digest.hex(Array(mac).prefix(12)))
  }
}

/// A seeded generator, so random inputs are the same in every run.
struct SplitMix: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) {
    state = seed
  }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var value = state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }
}
