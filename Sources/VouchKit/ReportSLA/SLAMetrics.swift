import Crypto
import Foundation

/// What the promises say, as numbers the metrics are measured against.
struct SLATargets: Sendable {
  let responseBusinessDays: Int
  /// Longest acceptable silence, in business days, between updates while a report is open.
  let updateCadence: Double
  /// Severity (lower-cased) → business days to resolution.
  let resolution: [String: Double]
  /// States that count as resolved for the credit check (when the export has a state).
  let creditedStates: Set<String>
  /// Entries kept in list facts; counts and the per-report table are always complete.
  let maxListed: Int
}

/// One report's computed outcome, as written to the per-report table.
struct ReportOutcome: Sendable {
  let clockStart: Double
  let deadline: Double
  let responseDays: Double?
  /// `within`, `breach`, `overdue` (open, no response, past the deadline) or `pending` (open, not yet due).
  let verdict: String
  let daysLate: Double?
  let resolutionDays: Double?
  let longestGap: Double
}

/// Folds reports one at a time into the SLA facts; holds per-report numbers only where a percentile needs them.
struct SLAAccumulator {
  let targets: SLATargets
  let now: Double
  private(set) var received = 0
  private var within = 0
  private var breachCount = 0
  private var breaches: [FactValue] = []
  private var overdueCount = 0
  private var overdue: [FactValue] = []
  private var pending = 0
  private var responseDays: [Double] = []
  private var longestGap = 0.0
  private var cadenceBreachCount = 0
  private var cadenceBreaches: [String] = []
  private var resolutionDays: [String: [Double]] = [:]
  private var resolutionTargetBreaches = 0
  private var disclosedEarlyCount = 0
  private var disclosedEarly: [String] = []
  private var missingCreditCount = 0
  private var missingCredit: [String] = []
  private var withoutOffset = 0
  private var points: [Double] = []

  init(targets: SLATargets, now: Double) {
    self.targets = targets
    self.now = now
  }

  mutating func add(
    _ report: ReportRecord, table: inout BusinessDayTable, acknowledgments: AcknowledgmentsPage?
  ) -> ReportOutcome {
    received += 1
    if report.withoutOffset { withoutOffset += 1 }
    let start = table.clockStart(received: report.received)
    let deadline = table.deadline(clockStart: start, businessDays: targets.responseBusinessDays)
    var verdict: String
    var responseDays: Double?
    var daysLate: Double?
    if let response = report.firstResponse {
      let days = max(0, table.businessDays(from: start, to: response))
      responseDays = days
      self.responseDays.append(days)
      if response <= deadline {
        verdict = "within"
        within += 1
      } else {
        verdict = "breach"
        let late = table.businessDays(from: deadline, to: response)
        daysLate = late
        breachCount += 1
        if breaches.count < targets.maxListed {
          breaches.append(
            .map([
              "id": .string(report.id), "received_at": .string(UTCFormat.string(report.received)),
              "deadline": .string(UTCFormat.string(deadline)), "responded_at": .string(UTCFormat.string(response)),
              "business_days_late": .number(Self.rounded(late)),
            ]))
        }
      }
    } else if now > deadline && report.resolved == nil {
      verdict = "overdue"
      let late = table.businessDays(from: deadline, to: now)
      daysLate = late
      overdueCount += 1
      if overdue.count < targets.maxListed {
        overdue.append(
          .map([
            "id": .string(report.id), "received_at": .string(UTCFormat.string(report.received)),
            "deadline": .string(UTCFormat.string(deadline)), "business_days_overdue": .number(Self.rounded(late)),
          ]))
      }
    } else if now > deadline {
      // Closed without any recorded first response: the promise was not kept.
      verdict = "breach"
      breachCount += 1
      let end = report.resolved ?? now
      daysLate = table.businessDays(from: deadline, to: end)
      if breaches.count < targets.maxListed {
        breaches.append(
          .map([
            "id": .string(report.id), "received_at": .string(UTCFormat.string(report.received)),
            "deadline": .string(UTCFormat.string(deadline)), "responded_at": .null,
            "business_days_late": .number(Self.rounded(daysLate ?? 0)),
          ]))
      }
    } else {
      verdict = "pending"
      pending += 1
    }

    let end = report.resolved ?? now
    // Points of contact, clamped to the clock start; `points` is reused so a million reports allocate it once.
    points.removeAll(keepingCapacity: true)
    points.append(start)
    if let response = report.firstResponse, response <= end { points.append(max(response, start)) }
    for update in report.updates where update <= end { points.append(max(update, start)) }
    points.sort()
    points.append(end)
    var gap = 0.0
    for index in 1..<points.count {
      gap = max(gap, table.businessDays(from: points[index - 1], to: points[index]))
    }
    longestGap = max(longestGap, gap)
    if gap > targets.updateCadence {
      cadenceBreachCount += 1
      if cadenceBreaches.count < targets.maxListed { cadenceBreaches.append(report.id) }
    }

    var resolutionDays: Double?
    if let resolved = report.resolved {
      let days = max(0, table.businessDays(from: start, to: resolved))
      resolutionDays = days
      self.resolutionDays[report.severity, default: []].append(days)
      if let target = targets.resolution[report.severity], days > target { resolutionTargetBreaches += 1 }
    }
    if let disclosed = report.disclosed, report.resolved.map({ disclosed < $0 }) ?? true {
      disclosedEarlyCount += 1
      if disclosedEarly.count < targets.maxListed { disclosedEarly.append(report.id) }
    }
    if let acknowledgments, report.resolved != nil, report.wantsCredit,
      report.state.map({ targets.creditedStates.contains($0) }) ?? true,
      let name = report.creditName ?? report.reporter, !acknowledgments.lists(name)
    {
      missingCreditCount += 1
      if missingCredit.count < targets.maxListed { missingCredit.append(report.id) }
    }
    return ReportOutcome(
      clockStart: start, deadline: deadline, responseDays: responseDays, verdict: verdict, daysLate: daysLate,
      resolutionDays: resolutionDays, longestGap: gap)
  }

  /// Business-day figures are rounded to thousandths so facts do not carry floating-point noise.
  static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

  /// Linear interpolation between closest ranks, as numpy's default `percentile`.
  static func percentile(_ sorted: [Double], _ fraction: Double) -> Double? {
    guard !sorted.isEmpty else { return nil }
    let position = Double(sorted.count - 1) * fraction
    let lower = Int(position.rounded(.down))
    let upper = min(lower + 1, sorted.count - 1)
    return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
  }

  func facts(acknowledgmentsChecked: Bool) -> [String: FactValue] {
    func number(_ value: Double?) -> FactValue { value.map { .number(Self.rounded($0)) } ?? .null }
    let sortedResponses = responseDays.sorted()
    let due = within + breachCount + overdueCount
    var bySeverity: [String: FactValue] = [:]
    for (severity, days) in resolutionDays {
      let sorted = days.sorted()
      var entry: [String: FactValue] = [
        "resolved": .integer(sorted.count), "p50_business_days": number(Self.percentile(sorted, 0.5)),
        "max_business_days": number(sorted.last),
      ]
      if let target = targets.resolution[severity] {
        entry["target_business_days"] = .number(target)
        entry["over_target"] = .integer(sorted.filter { $0 > target }.count)
      }
      bySeverity[severity] = .map(entry)
    }
    var facts: [String: FactValue] = [
      "reports_received": .integer(received),
      "first_responses_within_sla": .integer(within),
      "first_response_sla_ratio": .number(due == 0 ? 1 : Self.rounded(Double(within) / Double(due))),
      "sla_breaches": .integer(breachCount),
      "sla_breach_details": .list(breaches),
      "overdue_unanswered": .integer(overdueCount),
      "overdue_unanswered_details": .list(overdue),
      "reports_pending": .integer(pending),
      "first_response_p50_business_days": number(Self.percentile(sortedResponses, 0.5)),
      "first_response_p90_business_days": number(Self.percentile(sortedResponses, 0.9)),
      "first_response_max_business_days": number(sortedResponses.last),
      "longest_update_gap_business_days": .number(Self.rounded(longestGap)),
      "update_cadence_breaches": .integer(cadenceBreachCount),
      "update_cadence_breach_ids": .list(cadenceBreaches.map(FactValue.string)),
      "resolution_by_severity": .map(bySeverity),
      "resolution_target_breaches": .integer(resolutionTargetBreaches),
      "disclosed_before_resolved": .integer(disclosedEarlyCount),
      "disclosed_before_resolved_ids": .list(disclosedEarly.map(FactValue.string)),
      "timestamps_without_offset": .integer(withoutOffset),
    ]
    if acknowledgmentsChecked {
      facts["missing_acknowledgments"] = .integer(missingCreditCount)
      facts["missing_acknowledgment_ids"] = .list(missingCredit.map(FactValue.string))
    }
    return facts
  }
}

/// Writes a CSV artifact row by row through a 1 MiB buffer, hashing as it goes.
struct StreamingCSVWriter {
  private let handle: FileHandle
  private let path: String
  private var buffer: [UInt8] = []
  private var hasher = SHA256()
  private(set) var size = 0

  init(url: URL) throws(ReportSLAError) {
    path = url.path
    guard FileManager.default.createFile(atPath: url.path, contents: nil),
      let handle = FileHandle(forWritingAtPath: url.path)
    else { throw ReportSLAError("cannot create artifact \(url.path)") }
    self.handle = handle
    buffer.reserveCapacity(1 << 20)
  }

  private var fieldsInRow = 0

  mutating func row(_ fields: [String]) throws(ReportSLAError) {
    for field in fields { text(field) }
    try endRow()
  }

  private mutating func separate() {
    if fieldsInRow > 0 { buffer.append(0x2C) }
    fieldsInRow += 1
  }

  /// One text field, quoted when it holds a comma, quote or line break.
  mutating func text(_ field: String) {
    separate()
    if field.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
      buffer.append(0x22)
      for byte in field.utf8 {
        if byte == 0x22 { buffer.append(0x22) }
        buffer.append(byte)
      }
      buffer.append(0x22)
    } else {
      buffer.append(contentsOf: field.utf8)
    }
  }

  /// A UTC timestamp, or an empty field.
  mutating func timestamp(_ instant: Double?) {
    separate()
    if let instant { UTCFormat.append(instant, to: &buffer) }
  }

  /// Business days with three decimals, or an empty field.
  mutating func decimal(_ value: Double?) {
    separate()
    if let value { UTCFormat.appendDecimal(value, to: &buffer) }
  }

  mutating func endRow() throws(ReportSLAError) {
    buffer.append(0x0A)
    fieldsInRow = 0
    if buffer.count >= 1 << 20 { try flush() }
  }

  private mutating func flush() throws(ReportSLAError) {
    guard !buffer.isEmpty else { return }
    let data = Data(buffer)
    do {
      try handle.write(contentsOf: data)
    } catch {
      throw ReportSLAError("cannot write artifact \(path): \(error.localizedDescription)")
    }
    hasher.update(data: data)
    size += data.count
    buffer.removeAll(keepingCapacity: true)
  }

  /// Flushes and closes; returns the SHA-256 and size of everything written.
  mutating func finish() throws(ReportSLAError) -> (sha256: String, size: Int) {
    try flush()
    do {
      try handle.close()
    } catch {
      throw ReportSLAError("cannot close artifact \(path): \(error.localizedDescription)")
    }
    return (Digest.hex(hasher.finalize()), size)
  }
}
