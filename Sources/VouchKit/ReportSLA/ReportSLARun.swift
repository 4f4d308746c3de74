import Foundation

/// One pass over an export: validates each record, keeps it only if it falls in the window, writes its normalised
/// row and folds it into the metrics. Rejected records are written to their own table and counted, never dropped.
struct ReportSLARun {
  static let reportColumns = [
    "id", "received_at", "clock_start", "deadline", "first_response_at", "first_response_business_days", "verdict",
    "business_days_late", "severity", "state", "resolved_at", "resolution_business_days", "disclosed_at",
    "longest_update_gap_business_days", "reporter_pseudonym", "credit", "flags",
  ]
  static let rejectedColumns = ["location", "id", "reasons"]

  let window: Range<Double>
  private var pseudonyms: PseudonymCache?
  let acknowledgments: AcknowledgmentsPage?
  private let validator = RecordValidator()
  var table: BusinessDayTable
  var metrics: SLAAccumulator
  private var reports: StreamingCSVWriter
  private var rejectedTable: StreamingCSVWriter
  /// Every valid id seen and where, to reject later duplicates by naming the first.
  private var seen: [String: RecordLocation] = [:]
  private(set) var outsideWindow = 0
  private(set) var rejectedCount = 0
  private(set) var rejectedReasons: [String] = []
  /// Timestamps from `updates_file` by report id, waiting for their report in the export. Loaded whole before the
  /// export streams: an updates file holds a few rows per report, far less than the export itself.
  private var pendingUpdates: [String: [FileUpdate]] = [:]
  /// Where a report with pending updates was rejected, to say why its updates found no report.
  private var rejectedReportsWithUpdates: [String: RecordLocation] = [:]

  /// One valid row of the updates file.
  struct FileUpdate {
    let at: Double
    let location: RecordLocation
    let withoutOffset: Bool
  }

  init(
    window: Range<Double>, calendar: BusinessCalendar, targets: SLATargets, now: Double,
    pseudonymizer: Pseudonymizer?, acknowledgments: AcknowledgmentsPage?, reportsURL: URL, rejectedURL: URL
  ) throws(ReportSLAError) {
    self.window = window
    pseudonyms = pseudonymizer.map(PseudonymCache.init)
    self.acknowledgments = acknowledgments
    table = BusinessDayTable(calendar, around: Int((window.lowerBound / 86_400).rounded(.down)))
    metrics = SLAAccumulator(targets: targets, now: now)
    reports = try StreamingCSVWriter(url: reportsURL)
    rejectedTable = try StreamingCSVWriter(url: rejectedURL)
    try reports.row(Self.reportColumns)
    try rejectedTable.row(Self.rejectedColumns)
  }

  /// Sizes the duplicate check for about `records` ids, sparing a million-row input repeated rehashing.
  mutating func expect(records: Int) {
    seen.reserveCapacity(records)
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

  mutating func consume(_ values: [RawValue], at location: RecordLocation) throws(ReportSLAError) {
    var report: ReportRecord
    switch validator.validate(values, at: location, table: &table) {
    case .failure(let rejection):
      if !pendingUpdates.isEmpty, let id = rejection.id, pendingUpdates[id] != nil,
        rejectedReportsWithUpdates[id] == nil
      {
        rejectedReportsWithUpdates[id] = location
      }
      try reject(rejection)
      return
    case .success(let record): report = record
    }
    if let first = seen[report.id] {
      try reject(RejectedRecord(location: location, id: report.id, reasons: ["id: duplicates \(first)"]))
      return
    }
    seen[report.id] = location
    if !pendingUpdates.isEmpty, let updates = pendingUpdates.removeValue(forKey: report.id) {
      try merge(updates, into: &report, at: location)
    }
    guard window.contains(report.received) else {
      outsideWindow += 1
      return
    }
    let outcome = metrics.add(report, table: &table, acknowledgments: acknowledgments)
    reports.text(report.id)
    reports.timestamp(report.received)
    reports.timestamp(outcome.clockStart)
    reports.timestamp(outcome.deadline)
    reports.timestamp(report.firstResponse)
    reports.decimal(outcome.responseDays)
    reports.text(outcome.verdict)
    reports.decimal(outcome.daysLate)
    reports.text(report.severity)
    reports.text(report.state ?? "")
    reports.timestamp(report.resolved)
    reports.decimal(outcome.resolutionDays)
    reports.timestamp(report.disclosed)
    reports.decimal(outcome.longestGap)
    var pseudonym = ""
    if let reporter = report.reporter, pseudonyms != nil { pseudonym = pseudonyms?.pseudonym(for: reporter) ?? "" }
    reports.text(pseudonym)
    reports.text(report.wantsCredit ? "credit" : "anonymous")
    reports.text(report.withoutOffset ? "timestamp-without-offset" : "")
    try reports.endRow()
  }

  /// Adds the updates file's timestamps to a report's own; one before the report's receipt rejects that update row,
  /// as it would reject the report if it were in the export's `updates` column.
  private mutating func merge(
    _ updates: [FileUpdate], into report: inout ReportRecord, at location: RecordLocation
  ) throws(ReportSLAError) {
    for update in updates {
      guard update.at >= report.received else {
        try reject(
          RejectedRecord(
            location: update.location, id: report.id,
            reasons: [
              "at: \(UTCFormat.string(update.at)) is before received_at \(UTCFormat.string(report.received)) "
                + "(\(location))"
            ]))
        continue
      }
      report.updates.append(update.at)
      if update.withoutOffset { report.withoutOffset = true }
    }
    report.updates.sort()
  }

  /// Closes both tables and returns their digests and sizes.
  mutating func finish() throws(ReportSLAError) -> (reports: (sha256: String, size: Int), rejected: (sha256: String, size: Int)) {
    (try reports.finish(), try rejectedTable.finish())
  }

  var facts: [String: FactValue] {
    var facts = metrics.facts(acknowledgmentsChecked: acknowledgments != nil)
    facts["reports_outside_window"] = .integer(outsideWindow)
    facts["rejected_rows"] = .integer(rejectedCount)
    facts["rejected_row_reasons"] = .list(rejectedReasons.map(FactValue.string))
    return facts
  }
}
