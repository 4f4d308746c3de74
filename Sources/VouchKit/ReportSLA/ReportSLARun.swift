import Foundation

/// One pass over an export: validates each record, keeps it only if it falls in the window, writes its normalised
/// row and folds it into the metrics. Rejected records are written to their own table and counted, never dropped.
///
/// Records are validated, measured and formatted in `RowBatch`es (on every core for CSV); the run merges batches in
/// input order, which is where duplicates, the updates file, rejections, metrics and both tables are decided, so the
/// result is the one a single pass in order gives.
struct ReportSLARun {
  static let reportColumns = [
    "id", "received_at", "clock_start", "deadline", "first_response_at", "first_response_business_days", "verdict",
    "business_days_late", "severity", "state", "resolved_at", "resolution_business_days", "disclosed_at",
    "longest_update_gap_business_days", "reporter_pseudonym", "credit", "flags",
  ]
  static let rejectedColumns = ["location", "id", "reasons"]

  let window: Range<Double>
  private let rules: SLARules
  private let pseudonymizer: Pseudonymizer?
  let acknowledgments: AcknowledgmentsPage?
  /// The calendar's day table as the records merged so far left it.
  private(set) var table: BusinessDayTable
  private var metrics: SLAAccumulator
  private var reports: StreamingCSVWriter
  private var rejectedTable: StreamingCSVWriter
  private let hashSeed = UInt64.random(in: .min ... .max)
  /// Every valid id seen and where, to reject later duplicates by naming the first.
  private var seen: FirstOccurrences
  private(set) var outsideWindow = 0
  private(set) var rejectedCount = 0
  private(set) var rejectedReasons: [String] = []
  /// Timestamps from `updates_file` by report id, waiting for their report in the export. Loaded whole before the
  /// export streams: an updates file holds a few rows per report, far less than the export itself.
  private var pendingUpdates: [String: [FileUpdate]] = [:]
  /// Where a report with pending updates was rejected, to say why its updates found no report.
  private var rejectedReportsWithUpdates: [String: RecordLocation] = [:]

  init(
    window: Range<Double>, calendar: BusinessCalendar, targets: SLATargets, now: Double,
    pseudonymizer: Pseudonymizer?, acknowledgments: AcknowledgmentsPage?, reportsURL: URL, rejectedURL: URL
  ) throws(ReportSLAError) {
    self.window = window
    rules = SLARules(targets: targets, now: now)
    self.pseudonymizer = pseudonymizer
    self.acknowledgments = acknowledgments
    table = BusinessDayTable(calendar, around: Int((window.lowerBound / 86_400).rounded(.down)))
    // Cover the days up to now once here rather than in every task's copy of the table.
    table.prepare(through: Int((max(now, window.upperBound) / 86_400).rounded(.down)) + 1)
    metrics = SLAAccumulator(targets: targets)
    seen = FirstOccurrences(seed: hashSeed)
    reports = try StreamingCSVWriter(url: reportsURL)
    rejectedTable = try StreamingCSVWriter(url: rejectedURL)
    try reports.row(Self.reportColumns)
    try rejectedTable.row(Self.rejectedColumns)
  }

  /// Sizes the duplicate check for about `records` ids, sparing a million-row input repeated rehashing.
  mutating func expect(records: Int) {
    seen.reserve(records)
  }

  /// What the tasks measuring records need.
  var context: RowContext {
    RowContext(
      window: window, rules: rules, pseudonymizer: pseudonymizer, acknowledgments: acknowledgments,
      pendingUpdates: pendingUpdates, hashSeed: hashSeed)
  }

  mutating func reject(_ rejection: RejectedRecord) throws(ReportSLAError) {
    rejectedCount += 1
    if rejectedReasons.count < metrics.targets.maxListed { rejectedReasons.append(rejection.message) }
    try rejectedTable.row([rejection.location.description, rejection.id ?? "", rejection.reasons.joined(separator: "; ")])
  }

  /// Validates one row of the updates file like a row of the export: a missing id or timestamp, or one that does not
  /// parse, rejects the row with every reason.
  mutating func addUpdate(id rawID: String, at rawAt: String, location: RecordLocation) throws(ReportSLAError) {
    let id = ASCIITrim.trim(rawID)
    let text = ASCIITrim.trim(rawAt)
    var reasons: [String] = []
    if id.isEmpty { reasons.append("id: missing or empty (required)") }
    var parsed: (at: Double, withoutOffset: Bool)?
    if text.isEmpty {
      reasons.append("at: missing or empty (required)")
    } else {
      switch ParsedTimestamp.parse(text) {
      case .instant(let value)?: parsed = (value, false)
      case .local(let day, let seconds)?: parsed = (table.instant(localDay: day, seconds: seconds), true)
      case nil: reasons.append("at: '\(text)' is not a timestamp (\(RecordValidator.timestampHint))")
      }
    }
    guard reasons.isEmpty, let parsed else {
      try reject(RejectedRecord(location: location, id: id.isEmpty ? nil : id, reasons: reasons))
      return
    }
    pendingUpdates[id, default: []].append(
      FileUpdate(at: parsed.at, location: location, withoutOffset: parsed.withoutOffset))
  }

  /// Rejects every update row whose report never arrived: the id is not in the export, or its report was rejected.
  mutating func finishUpdates() throws(ReportSLAError) {
    let leftovers = pendingUpdates.flatMap { id, updates in updates.map { (id, $0) } }
      .sorted { $0.1.location.number < $1.1.location.number }
    pendingUpdates = [:]
    for (id, update) in leftovers {
      let reason =
        rejectedReportsWithUpdates[id].map { "id: report '\(id)' was rejected (\($0))" }
        ?? "id: no report '\(id)' in the export"
      try reject(RejectedRecord(location: update.location, id: id, reasons: [reason]))
    }
  }

  /// Folds in a batch, record by record in input order: rejections, duplicates (the first occurrence is kept), the
  /// updates file, the window, the metrics and the per-report table. `location` places a record number of the batch.
  mutating func merge(_ batch: RowBatch, location: (Int) -> RecordLocation) throws(ReportSLAError) {
    try batch.ids.withUnsafeBufferPointer { ids throws(ReportSLAError) in
      try batch.output.withUnsafeBufferPointer { output throws(ReportSLAError) in
        // The table's rows are written from the batch's memory; whatever is not written yet is copied before it goes.
        defer { reports.returnBorrowed() }
        try merge(batch, ids: ids, output: output, location: location)
      }
    }
    table = batch.table
    if let error = batch.error {
      throw ReportSLAError(error.message(at: location(error.record)))
    }
  }

  /// The rows of `merge(_:location:)`, with the batch's ids and table rows in hand as raw bytes, so a row costs no
  /// reference counting.
  private mutating func merge(
    _ batch: borrowing RowBatch, ids: UnsafeBufferPointer<UInt8>, output: UnsafeBufferPointer<UInt8>,
    location: (Int) -> RecordLocation
  ) throws(ReportSLAError) {
    var outputStart = 0
    for row in batch.rows {
      let place = location(row.number)
      if row.kind == .rejected {
        let rejection = batch.rejections[row.detail]
        if !pendingUpdates.isEmpty, let id = rejection.id, pendingUpdates[id] != nil,
          rejectedReportsWithUpdates[id] == nil
        {
          rejectedReportsWithUpdates[id] = place
        }
        try reject(RejectedRecord(location: place, id: rejection.id, reasons: rejection.reasons))
        continue
      }
      let rowOutput = outputStart..<(row.kind == .measured ? row.outputEnd : outputStart)
      outputStart = rowOutput.upperBound
      let keyRange = row.keyEnd > row.idEnd ? row.idEnd..<row.keyEnd : row.idStart..<row.idEnd
      let first = seen.firstOccurrence(
        of: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: ids[keyRange])), hash: row.hash,
        location: FirstOccurrences.Location(number: place.number, page: place.page ?? 0))
      let id = UnsafeBufferPointer(rebasing: ids[row.idStart..<row.idEnd])
      if let first {
        let firstPlace = RecordLocation(unit: place.unit, number: first.number, page: first.page == 0 ? nil : first.page)
        try reject(
          RejectedRecord(location: place, id: FieldBytes.string(id), reasons: ["id: duplicates \(firstPlace)"]))
        continue
      }
      if row.detail >= 0 {
        let merge = batch.updateMerges[row.detail]
        pendingUpdates.removeValue(forKey: merge.id)
        for update in merge.early {
          try reject(
            RejectedRecord(
              location: update.location, id: merge.id,
              reasons: [
                "at: \(UTCFormat.string(update.at)) is before received_at \(UTCFormat.string(merge.received)) "
                  + "(\(place))"
              ]))
        }
      }
      guard let outcome = row.outcome else {
        outsideWindow += 1
        continue
      }
      metrics.add(outcome, severity: outcome.severity >= 0 ? batch.severities[outcome.severity] : nil) {
        FieldBytes.string(id)
      }
      try reports.formattedRow(UnsafeBufferPointer(rebasing: output[rowOutput]))
    }
  }

  /// Streams the records of a CSV export after its header: chunks are measured on every core while this task reads
  /// and hashes the next, and merged in input order. `rowsBefore` is the header's row number.
  mutating func consumeCSV(
    _ reader: CSVChunkReader, after first: CSVChunk?, rowsBefore: Int, columns: [Int?], headerCount: Int
  ) async throws(ReportSLAError) {
    let context = self.context
    let inFlight = ProcessInfo.processInfo.activeProcessorCount + 1
    let result: Result<Void, ReportSLAError> = await withTaskGroup(of: (Int, RowBatch).self) { group in
      var chunks: [Int: CSVChunk] = [:]
      var measured: [Int: RowBatch] = [:]
      var dispatched = 0
      var merged = 0
      var rowsBefore = rowsBefore
      var next = first
      var readFailure: ReportSLAError?
      var exhausted = false
      while true {
        while !exhausted, dispatched - merged < inFlight {
          var chunk = next
          do throws(ReportSLAError) {
            if chunk == nil { chunk = try reader.next() }
          } catch {
            // Records before the failed read are still merged, as a single pass would have.
            readFailure = error
            exhausted = true
            break
          }
          next = nil
          guard let chunk else {
            exhausted = true
            break
          }
          let index = dispatched
          let table = self.table
          chunks[index] = chunk
          group.addTask {
            (index, Self.measure(chunk, columns: columns, headerCount: headerCount, context: context, table: table))
          }
          dispatched += 1
        }
        guard merged < dispatched, let (index, batch) = await group.next() else { break }
        measured[index] = batch
        while var batch = measured.removeValue(forKey: merged), let chunk = chunks.removeValue(forKey: merged) {
          // Positions in business days count from the table's first day; if an earlier chunk moved it (a timestamp
          // far before the window), this one is measured again from the table as it now stands.
          if batch.firstDay != table.firstDay {
            batch = Self.measure(chunk, columns: columns, headerCount: headerCount, context: context, table: table)
          }
          let base = rowsBefore
          do throws(ReportSLAError) {
            try merge(batch) { RecordLocation(unit: .row, number: base + $0) }
          } catch {
            return .failure(error)
          }
          rowsBefore += batch.records
          merged += 1
        }
      }
      return readFailure.map { .failure($0) } ?? .success(())
    }
    try result.get()
  }

  /// Validates, measures and formats the records of one chunk; `values` is reused so rows do not each allocate it.
  static func measure(
    _ chunk: CSVChunk, columns: [Int?], headerCount: Int, context: RowContext, table: BusinessDayTable
  ) -> RowBatch {
    var measurer = RowMeasurer(context: context, table: table, expectedBytes: chunk.end - chunk.start)
    var values = [FieldInput](repeating: .absent, count: columns.count)
    let read = chunk.forEachRecord { number, fields in
      guard fields.count == headerCount else {
        measurer.reject(number: number, reasons: [CSVChunk.fieldCountReason(fields.count, header: headerCount)])
        return
      }
      for (index, column) in columns.enumerated() {
        if let column, !fields[column].isEmpty {
          values[index] = .text(fields[column])
        } else {
          values[index] = .absent
        }
      }
      measurer.process(values, number: number)
    }
    return measurer.finish(records: read.records, error: read.error)
  }

  /// Closes both tables and returns their digests and sizes.
  mutating func finish() throws(ReportSLAError) -> (reports: (sha256: String, size: Int), rejected: (sha256: String, size: Int)) {
    (try reports.finish(), try rejectedTable.finish())
  }

  mutating func facts() -> [String: FactValue] {
    var facts = metrics.facts(acknowledgmentsChecked: acknowledgments != nil)
    facts["reports_outside_window"] = .integer(outsideWindow)
    facts["rejected_rows"] = .integer(rejectedCount)
    facts["rejected_row_reasons"] = .list(rejectedReasons.map(FactValue.string))
    return facts
  }
}
