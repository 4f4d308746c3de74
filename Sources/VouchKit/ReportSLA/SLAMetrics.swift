import Crypto
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

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

/// A report's first-response verdict.
enum Verdict: UInt8, Sendable {
  /// Answered at or before the deadline.
  case within
  /// Answered after the deadline, or closed without any response after it.
  case breach
  /// Open, no response, past the deadline.
  case overdue
  /// Open, no response, not yet due.
  case pending

  var text: StaticString {
    switch self {
    case .within: return "within"
    case .breach: return "breach"
    case .overdue: return "overdue"
    case .pending: return "pending"
    }
  }
}

/// One report's computed outcome: what its row of the per-report table shows and what it adds to the facts.
struct ReportOutcome: Sendable {
  var received: Double
  var clockStart: Double
  var deadline: Double
  var response: Double?
  var responseDays: Double?
  var verdict: Verdict
  var daysLate: Double?
  var resolutionDays: Double?
  var longestGap: Double
  var cadenceBreach: Bool
  var overResolutionTarget: Bool
  var disclosedEarly: Bool
  var missingCredit = false
  var withoutOffset: Bool
  /// The report's severity as an index into its batch's `severities`; set for resolved reports only.
  var severity = -1
}

/// The promises as arithmetic on one report. Touches nothing but the calendar table's cache, so every task measures
/// its own reports; `SLAAccumulator` folds the outcomes in input order.
struct SLARules: Sendable {
  let targets: SLATargets
  let now: Double

  /// Measures `report` (with its sorted `updates`); `points` is scratch, reused so reports do not each allocate it.
  /// The table is consulted in the same order for every report, as its cache may be rebuilt on the way.
  func measure(
    _ report: ValidRecord, updates: [Double], resolutionTarget: Double?, table: inout BusinessDayTable,
    points: inout [Double]
  ) -> ReportOutcome {
    let start = table.clockStart(received: report.received)
    let deadline = table.deadline(clockStart: start, businessDays: targets.responseBusinessDays)
    let verdict: Verdict
    var responseDays: Double?
    var daysLate: Double?
    if let response = report.firstResponse {
      responseDays = max(0, table.businessDays(from: start, to: response))
      if response <= deadline {
        verdict = .within
      } else {
        verdict = .breach
        daysLate = table.businessDays(from: deadline, to: response)
      }
    } else if now > deadline && report.resolved == nil {
      verdict = .overdue
      daysLate = table.businessDays(from: deadline, to: now)
    } else if now > deadline {
      // Closed without any recorded first response: the promise was not kept.
      verdict = .breach
      daysLate = table.businessDays(from: deadline, to: report.resolved ?? now)
    } else {
      verdict = .pending
    }

    let end = report.resolved ?? now
    // Points of contact, clamped to the clock start.
    points.removeAll(keepingCapacity: true)
    points.append(start)
    if let response = report.firstResponse, response <= end { points.append(max(response, start)) }
    for update in updates where update <= end { points.append(max(update, start)) }
    points.sort()
    points.append(end)
    var gap = 0.0
    var previous = table.locate(points[0])
    var firstDay = table.firstDay
    for index in 1..<points.count {
      let current = table.locate(points[index])
      // Positions count from the table's first day; if locating moved it, place the previous point anew.
      if table.firstDay != firstDay {
        previous.position = table.position(points[index - 1], day: previous.day)
        firstDay = table.firstDay
      }
      gap = max(gap, current.position - previous.position)
      previous = current
    }

    var resolutionDays: Double?
    var overTarget = false
    if let resolved = report.resolved {
      let days = max(0, table.businessDays(from: start, to: resolved))
      resolutionDays = days
      if let resolutionTarget, days > resolutionTarget { overTarget = true }
    }
    let disclosedEarly = report.disclosed.map { disclosed in report.resolved.map { disclosed < $0 } ?? true } ?? false
    return ReportOutcome(
      received: report.received, clockStart: start, deadline: deadline, response: report.firstResponse,
      responseDays: responseDays, verdict: verdict, daysLate: daysLate, resolutionDays: resolutionDays,
      longestGap: gap, cadenceBreach: gap > targets.updateCadence, overResolutionTarget: overTarget,
      disclosedEarly: disclosedEarly, withoutOffset: report.withoutOffset)
  }
}

/// Folds measured reports, in input order, into the SLA facts; holds per-report numbers only where a percentile needs
/// them.
struct SLAAccumulator {
  let targets: SLATargets
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

  init(targets: SLATargets) {
    self.targets = targets
  }

  /// Adds one measured report; `id` is only asked for while a list still has room.
  mutating func add(_ outcome: ReportOutcome, severity: String?, id: () -> String) {
    received += 1
    if outcome.withoutOffset { withoutOffset += 1 }
    if let days = outcome.responseDays { responseDays.append(days) }
    let listed = targets.maxListed
    switch outcome.verdict {
    case .within: within += 1
    case .breach:
      breachCount += 1
      if breaches.count < listed {
        breaches.append(
          .map([
            "id": .string(id()), "received_at": .string(UTCFormat.string(outcome.received)),
            "deadline": .string(UTCFormat.string(outcome.deadline)),
            "responded_at": outcome.response.map { .string(UTCFormat.string($0)) } ?? .null,
            "business_days_late": .number(Self.rounded(outcome.daysLate ?? 0)),
          ]))
      }
    case .overdue:
      overdueCount += 1
      if overdue.count < listed {
        overdue.append(
          .map([
            "id": .string(id()), "received_at": .string(UTCFormat.string(outcome.received)),
            "deadline": .string(UTCFormat.string(outcome.deadline)),
            "business_days_overdue": .number(Self.rounded(outcome.daysLate ?? 0)),
          ]))
      }
    case .pending: pending += 1
    }
    longestGap = max(longestGap, outcome.longestGap)
    if outcome.cadenceBreach {
      cadenceBreachCount += 1
      if cadenceBreaches.count < listed { cadenceBreaches.append(id()) }
    }
    if let days = outcome.resolutionDays, let severity {
      resolutionDays[severity, default: []].append(days)
      if outcome.overResolutionTarget { resolutionTargetBreaches += 1 }
    }
    if outcome.disclosedEarly {
      disclosedEarlyCount += 1
      if disclosedEarly.count < listed { disclosedEarly.append(id()) }
    }
    if outcome.missingCredit {
      missingCreditCount += 1
      if missingCredit.count < listed { missingCredit.append(id()) }
    }
  }

  /// Business-day figures are rounded to thousandths so facts do not carry floating-point noise.
  static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

  /// Linear interpolation between closest ranks, as numpy's default `percentile`. Selects the two ranks it needs
  /// rather than sorting a million values; reorders `values`.
  static func percentile(_ values: inout [Double], _ fraction: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let position = Double(values.count - 1) * fraction
    let lower = Int(position.rounded(.down))
    let low = select(&values, rank: lower)
    // Selection leaves every value after `lower` at least as large, so the next rank is their minimum.
    let high = lower + 1 < values.count ? values[(lower + 1)...].min() ?? low : low
    return low + (high - low) * (position - Double(lower))
  }

  /// The value of rank `rank` (0-based) in sorted order (Hoare's selection with a median-of-three pivot); leaves
  /// smaller values before it and larger ones after it.
  static func select(_ values: inout [Double], rank: Int) -> Double {
    values.withUnsafeMutableBufferPointer { items in
      var low = 0
      var high = items.count - 1
      while low < high {
        let middle = low + (high - low) / 2
        if items[middle] < items[low] { items.swapAt(middle, low) }
        if items[high] < items[low] { items.swapAt(high, low) }
        if items[high] < items[middle] { items.swapAt(high, middle) }
        let pivot = items[middle]
        var left = low
        var right = high
        while left <= right {
          while items[left] < pivot { left += 1 }
          while pivot < items[right] { right -= 1 }
          if left <= right {
            items.swapAt(left, right)
            left += 1
            right -= 1
          }
        }
        if rank <= right {
          high = right
        } else if rank >= left {
          low = left
        } else {
          break
        }
      }
      return items[rank]
    }
  }

  mutating func facts(acknowledgmentsChecked: Bool) -> [String: FactValue] {
    func number(_ value: Double?) -> FactValue { value.map { .number(Self.rounded($0)) } ?? .null }
    let due = within + breachCount + overdueCount
    var bySeverity: [String: FactValue] = [:]
    for (severity, var days) in resolutionDays {
      var entry: [String: FactValue] = [
        "resolved": .integer(days.count), "p50_business_days": number(Self.percentile(&days, 0.5)),
        "max_business_days": number(days.max()),
      ]
      if let target = targets.resolution[severity] {
        entry["target_business_days"] = .number(target)
        entry["over_target"] = .integer(days.filter { $0 > target }.count)
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
      "first_response_p50_business_days": number(Self.percentile(&responseDays, 0.5)),
      "first_response_p90_business_days": number(Self.percentile(&responseDays, 0.9)),
      "first_response_max_business_days": number(responseDays.max()),
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

/// CSV text fields as the artifacts write them: quoted when they hold a comma, quote or line break.
enum CSVText {
  @inline(__always)
  static func append<Sink: ByteSink & ~Copyable>(_ field: UnsafeBufferPointer<UInt8>, to sink: inout Sink) {
    var needsQuotes = false
    for byte in field where byte <= 0x2C && (byte == 0x2C || byte == 0x22 || byte == 0x0A || byte == 0x0D) {
      needsQuotes = true
      break
    }
    guard needsQuotes else {
      sink.append(field)
      return
    }
    sink.append(0x22)
    for byte in field {
      if byte == 0x22 { sink.append(0x22) }
      sink.append(byte)
    }
    sink.append(0x22)
  }

  static func append<Sink: ByteSink & ~Copyable>(_ field: String, to sink: inout Sink) {
    var field = field
    field.withUTF8 { append($0, to: &sink) }
  }
}

/// Writes a CSV artifact with `write(2)` about 1 MiB at a time, hashing as it goes. Rows of the per-report table
/// arrive already formatted, in a batch's memory, and are written from there rather than copied: `borrowed` holds
/// them until the next flush or `returnBorrowed()`. Flushes happen where writing row by row into a 1 MiB buffer put
/// them, so even the part written before an error is byte for byte what it was.
struct StreamingCSVWriter {
  private let handle: FileHandle
  private let path: String
  /// Pending bytes the writer owns; they come before `borrowed`.
  private var buffer: [UInt8] = []
  /// Pending formatted rows in a batch's memory, adjacent rows joined.
  private var borrowed: [UnsafeBufferPointer<UInt8>] = []
  private var pending = 0
  private var hasher = SHA256()
  private(set) var size = 0

  init(url: URL) throws(ReportSLAError) {
    path = url.path
    guard FileManager.default.createFile(atPath: url.path, contents: nil),
      let handle = FileHandle(forWritingAtPath: url.path)
    else { throw ReportSLAError("cannot create artifact \(url.path)") }
    self.handle = handle
    buffer.reserveCapacity(1 << 21)
  }

  mutating func row(_ fields: [String]) throws(ReportSLAError) {
    returnBorrowed()
    let start = buffer.count
    for (index, field) in fields.enumerated() {
      if index > 0 { buffer.append(0x2C) }
      CSVText.append(field, to: &buffer)
    }
    buffer.append(0x0A)
    try ended(buffer.count - start)
  }

  /// A whole formatted row, line feed included, in memory that stays valid until `returnBorrowed()`.
  mutating func formattedRow(_ row: UnsafeBufferPointer<UInt8>) throws(ReportSLAError) {
    if let last = borrowed.last, let end = last.baseAddress.map({ $0 + last.count }), end == row.baseAddress {
      borrowed[borrowed.count - 1] = UnsafeBufferPointer(start: last.baseAddress, count: last.count + row.count)
    } else {
      borrowed.append(row)
    }
    try ended(row.count)
  }

  /// Copies borrowed rows not yet written, before the memory they are in goes away.
  mutating func returnBorrowed() {
    for rows in borrowed { buffer.append(contentsOf: rows) }
    borrowed.removeAll(keepingCapacity: true)
  }

  private mutating func ended(_ rowBytes: Int) throws(ReportSLAError) {
    pending += rowBytes
    if pending >= 1 << 20 { try flush() }
  }

  private mutating func flush() throws(ReportSLAError) {
    var owned: [UInt8] = []
    swap(&owned, &buffer)
    try owned.withUnsafeBufferPointer { bytes throws(ReportSLAError) in try send(UnsafeRawBufferPointer(bytes)) }
    for rows in borrowed { try send(UnsafeRawBufferPointer(rows)) }
    borrowed.removeAll(keepingCapacity: true)
    owned.removeAll(keepingCapacity: true)
    swap(&owned, &buffer)
    size += pending
    pending = 0
  }

  /// Hashes and writes `bytes`.
  private mutating func send(_ bytes: UnsafeRawBufferPointer) throws(ReportSLAError) {
    hasher.update(bufferPointer: bytes)
    guard writeAll(handle.fileDescriptor, bytes) else {
      throw ReportSLAError("cannot write artifact \(path): \(String(cString: strerror(errno)))")
    }
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
