import Foundation

/// What every task measuring records needs to know; the same for the whole run.
struct RowContext: Sendable {
  let window: Range<Double>
  let rules: SLARules
  let pseudonymizer: Pseudonymizer?
  let acknowledgments: AcknowledgmentsPage?
  /// Timestamps from `updates_file` by report id, as they were before the export streamed. Only the first valid
  /// record with an id takes them, and a later one with that id is a duplicate, so a snapshot answers as the live
  /// table would.
  let pendingUpdates: [String: [FileUpdate]]
  /// Seeds the id hash, so crafted ids cannot make the duplicate check slow.
  let hashSeed: UInt64
}

/// One valid row of the updates file.
struct FileUpdate: Sendable {
  let at: Double
  let location: RecordLocation
  let withoutOffset: Bool
}

/// One record's result, in input order; the merge decides duplicates, since only it sees every earlier record.
struct RowOutcome: Sendable {
  enum Kind: Sendable {
    /// Invalid: `detail` indexes the batch's `rejections`.
    case rejected
    /// Valid, received outside the window.
    case outside
    /// Valid and measured: its row of the per-report table ends at `outputEnd`.
    case measured
  }

  var kind: Kind
  /// The record's number within its batch (CSV row, JSON Lines line, JSON record).
  var number: Int
  /// Rejected: index into `rejections`; valid: index into `updateMerges`, or -1.
  var detail = -1
  /// The id as written (trimmed, invalid UTF-8 replaced) is `ids[idStart..<idEnd]`; the duplicate check compares
  /// `ids[idEnd..<keyEnd]` if not empty (the NFC form of a non-ASCII id, as Swift compares strings), else the id.
  var idStart = 0
  var idEnd = 0
  var keyEnd = 0
  var hash: UInt64 = 0
  var outputEnd = 0
  var outcome: ReportOutcome?
}

/// A rejected record's id (if it had one) and reasons, placed by the merge.
struct BatchRejection: Sendable {
  let id: String?
  let reasons: [String]
}

/// A report that takes timestamps from the updates file; those before its receipt are rejected once the merge knows
/// the report is not a duplicate.
struct UpdateMerge: Sendable {
  let id: String
  let received: Double
  let early: [FileUpdate]
}

/// What a task measured from a run of records, for the merge to fold in input order.
struct RowBatch: Sendable {
  var rows: [RowOutcome] = []
  /// Rows of the per-report table, one per measured record, back to back.
  var output: [UInt8] = []
  var ids: [UInt8] = []
  var rejections: [BatchRejection] = []
  var updateMerges: [UpdateMerge] = []
  /// Lower-cased severities of resolved reports, indexed by `ReportOutcome.severity`.
  var severities: [String] = []
  /// CSV records and blank lines read, to number the next batch's rows.
  var records = 0
  /// A syntax error that ends the input after `rows`.
  var error: CSVSyntaxError?
  /// The calendar table's first day when the batch started: its business-day positions count from there, so the
  /// batch is only exact if the run's table started there too.
  let firstDay: Int
  /// The table as the batch left it (extended, possibly rebuilt).
  var table: BusinessDayTable
}

/// Validates and measures records into a `RowBatch`, formatting each measured report's row of the per-report table.
/// One per task: it holds raw scratch memory, which never crosses tasks.
struct RowMeasurer: ~Copyable {
  private let context: RowContext
  private var table: BusinessDayTable
  private let firstDay: Int
  private let mac: PseudonymMAC?
  private var validator = RecordValidator()
  private var points: [Double] = []
  private var timestamps = TimestampWriter()
  private var output: ByteBuffer
  private var ids = ByteBuffer(capacity: 1 << 16)
  /// An identity lower-cased, before it is MACed.
  private var lowered = ByteBuffer(capacity: 256)
  private var rows: [RowOutcome] = []
  private var rejections: [BatchRejection] = []
  private var updateMerges: [UpdateMerge] = []
  private var severities: [String] = []
  private var severityNumbers: [String: Int] = [:]
  /// The first severities seen, as read, with their index in `severities`: most exports use a handful, found here
  /// without making a string.
  private var recentSeverities: [(raw: [UInt8], index: Int)] = []

  init(context: RowContext, table: BusinessDayTable, expectedBytes: Int) {
    self.context = context
    self.table = table
    firstDay = table.firstDay
    mac = context.pseudonymizer?.mac
    output = ByteBuffer(capacity: expectedBytes + expectedBytes / 4 + 1024)
    rows.reserveCapacity(expectedBytes / 100 + 16)
  }

  /// Hands the results over: what was measured, the records read (CSV) and the error that stopped the batch, if any.
  consuming func finish(records: Int = 0, error: CSVSyntaxError? = nil) -> RowBatch {
    var batch = RowBatch(firstDay: firstDay, table: table)
    batch.rows = rows
    batch.output = output.array()
    batch.ids = ids.array()
    batch.rejections = rejections
    batch.updateMerges = updateMerges
    batch.severities = severities
    batch.records = records
    batch.error = error
    return batch
  }

  /// Rejects a record before validation (wrong number of fields, not a JSON object).
  mutating func reject(number: Int, reasons: [String]) {
    rows.append(RowOutcome(kind: .rejected, number: number, detail: rejections.count))
    rejections.append(BatchRejection(id: nil, reasons: reasons))
  }

  mutating func process(_ values: [FieldInput], _ extras: FieldExtras = FieldExtras(), number: Int) {
    guard var report = validator.validate(values, extras, table: &table) else {
      rows.append(RowOutcome(kind: .rejected, number: number, detail: rejections.count))
      rejections.append(BatchRejection(id: validator.rejectedID, reasons: validator.reasons))
      return
    }
    var row = RowOutcome(kind: .outside, number: number)
    identify(report.id, &row)
    if !context.pendingUpdates.isEmpty {
      let id = FieldBytes.string(report.id)
      if let updates = context.pendingUpdates[id] {
        var early: [FileUpdate] = []
        for update in updates {
          guard update.at >= report.received else {
            early.append(update)
            continue
          }
          validator.updates.append(update.at)
          if update.withoutOffset { report.withoutOffset = true }
        }
        validator.updates.sort()
        row.detail = updateMerges.count
        updateMerges.append(UpdateMerge(id: id, received: report.received, early: early))
      }
    }
    guard context.window.contains(report.received) else {
      rows.append(row)
      return
    }
    var resolutionTarget: Double?
    var severity = -1
    if report.resolved != nil {
      severity = severityNumber(report.severity)
      resolutionTarget = context.rules.targets.resolution[severities[severity]]
    }
    var outcome = context.rules.measure(
      report, updates: validator.updates, resolutionTarget: resolutionTarget, table: &table, points: &points)
    outcome.severity = severity
    if let acknowledgments = context.acknowledgments {
      outcome.missingCredit = Self.missesCredit(report, acknowledgments, context.rules.targets.creditedStates)
    }
    write(report, outcome, id: UnsafeBufferPointer(start: ids.base + row.idStart, count: row.idEnd - row.idStart))
    row.kind = .measured
    row.outputEnd = output.count
    row.outcome = outcome
    rows.append(row)
  }

  /// A JSON record: its strings are copied into one buffer so the validator reads them as it reads CSV fields.
  mutating func process(json values: [RawValue], number: Int) {
    var storage: [UInt8] = []
    var ranges: [Range<Int>] = []
    for value in values {
      let start = storage.count
      if case .text(let text) = value { storage.append(contentsOf: text.utf8) }
      ranges.append(start..<storage.count)
    }
    storage.withUnsafeBufferPointer { buffer in
      var inputs: [FieldInput] = []
      var extras = FieldExtras()
      for (value, range) in zip(values, ranges) {
        switch value {
        case .absent: inputs.append(.absent)
        case .text: inputs.append(.text(UnsafeBufferPointer(rebasing: buffer[range])))
        case .list(let items):
          inputs.append(.list(extras.lists.count))
          extras.lists.append(items)
        case .wrongType(let description):
          inputs.append(.wrongType(extras.descriptions.count))
          extras.descriptions.append(description)
        }
      }
      process(inputs, extras, number: number)
    }
  }

  /// Stores the id as written and, for a non-ASCII id, the form Swift compares strings in; hashes the latter.
  private mutating func identify(_ id: UnsafeBufferPointer<UInt8>, _ row: inout RowOutcome) {
    row.idStart = ids.count
    if FieldBytes.isASCII(id) {
      ids.append(id)
      row.idEnd = ids.count
      row.keyEnd = ids.count
      row.hash = IDHash.hash(UnsafeRawBufferPointer(id), seed: context.hashSeed)
      return
    }
    var text = FieldBytes.string(id)
    text.withUTF8 { ids.append($0) }
    row.idEnd = ids.count
    let key = text._nfcCodeUnits
    key.withUnsafeBufferPointer { ids.append($0) }
    row.keyEnd = ids.count
    row.hash = key.withUnsafeBytes { IDHash.hash($0, seed: context.hashSeed) }
  }

  /// The index in `severities` of a report's severity, lower-cased (`unrated` when absent).
  private mutating func severityNumber(_ raw: UnsafeBufferPointer<UInt8>?) -> Int {
    let raw = raw ?? UnsafeBufferPointer(start: nil, count: 0)
    for entry in recentSeverities where entry.raw.elementsEqual(raw) { return entry.index }
    let name = raw.isEmpty ? "unrated" : Self.lowercased(raw)
    let index: Int
    if let known = severityNumbers[name] {
      index = known
    } else {
      index = severities.count
      severities.append(name)
      severityNumbers[name] = index
    }
    if recentSeverities.count < 16 { recentSeverities.append((Array(raw), index)) }
    return index
  }

  private static func lowercased(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    guard FieldBytes.isASCII(bytes) else { return FieldBytes.string(bytes).lowercased() }
    return String(unsafeUninitializedCapacity: bytes.count) { buffer in
      for (index, byte) in bytes.enumerated() { buffer[index] = FieldBytes.asciiLower(byte) }
      return bytes.count
    }
  }

  private static func missesCredit(
    _ report: ValidRecord, _ acknowledgments: AcknowledgmentsPage, _ creditedStates: Set<String>
  ) -> Bool {
    guard report.resolved != nil, report.wantsCredit,
      report.state.map({ creditedStates.contains(lowercased($0)) }) ?? true,
      let name = report.creditName ?? report.reporter
    else { return false }
    return !acknowledgments.lists(FieldBytes.string(name))
  }

  /// The report's row of `reports.csv` (`ReportSLARun.reportColumns`).
  private mutating func write(_ report: ValidRecord, _ outcome: ReportOutcome, id: UnsafeBufferPointer<UInt8>) {
    output.reserve(512)
    CSVText.append(id, to: &output)
    output.append(0x2C)
    timestamps.append(report.received, to: &output)
    output.append(0x2C)
    timestamps.append(outcome.clockStart, to: &output)
    output.append(0x2C)
    timestamps.append(outcome.deadline, to: &output)
    output.append(0x2C)
    if let response = report.firstResponse { timestamps.append(response, to: &output) }
    output.append(0x2C)
    if let days = outcome.responseDays { UTCFormat.appendDecimal(days, to: &output) }
    output.append(0x2C)
    Self.append(outcome.verdict.text, to: &output)
    output.append(0x2C)
    if let late = outcome.daysLate { UTCFormat.appendDecimal(late, to: &output) }
    output.append(0x2C)
    if let severity = report.severity {
      appendLowercased(severity)
    } else {
      Self.append("unrated", to: &output)
    }
    output.append(0x2C)
    if let state = report.state { appendLowercased(state) }
    output.append(0x2C)
    if let resolved = report.resolved { timestamps.append(resolved, to: &output) }
    output.append(0x2C)
    if let days = outcome.resolutionDays { UTCFormat.appendDecimal(days, to: &output) }
    output.append(0x2C)
    if let disclosed = report.disclosed { timestamps.append(disclosed, to: &output) }
    output.append(0x2C)
    UTCFormat.appendDecimal(outcome.longestGap, to: &output)
    output.append(0x2C)
    if let reporter = report.reporter, let mac {
      mac.appendPseudonym(ofIdentity: reporter, scratch: &lowered, to: &output)
    }
    output.append(0x2C)
    Self.append(report.wantsCredit ? "credit" : "anonymous", to: &output)
    output.append(0x2C)
    if report.withoutOffset { Self.append("timestamp-without-offset", to: &output) }
    output.append(0x0A)
  }

  private mutating func appendLowercased(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard FieldBytes.isASCII(bytes) else {
      CSVText.append(FieldBytes.string(bytes).lowercased(), to: &output)
      return
    }
    // Lower-casing changes no comma, quote or line break, so the field is quoted as the original would be.
    let start = output.count
    CSVText.append(bytes, to: &output)
    for index in start..<output.count { output.base[index] = FieldBytes.asciiLower(output.base[index]) }
  }

  private static func append(_ text: StaticString, to buffer: inout ByteBuffer) {
    buffer.append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
  }
}

/// A seeded 64-bit hash of id bytes for the duplicate check: far cheaper than `Hasher` for short keys.
enum IDHash {
  static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
    var state = seed ^ (UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15)
    var index = 0
    while index + 8 <= bytes.count {
      state = mix(state ^ bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
      index += 8
    }
    if index < bytes.count {
      var tail: UInt64 = 0
      for offset in index..<bytes.count { tail |= UInt64(bytes[offset]) << (8 * UInt64(offset - index)) }
      state = mix(state ^ tail)
    }
    return mix(state)
  }

  @inline(__always)
  private static func mix(_ value: UInt64) -> UInt64 {
    var value = value
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }
}
