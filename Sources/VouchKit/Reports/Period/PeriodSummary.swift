import Foundation

/// A SOC 2 Type 2 period seen through its nightly bundles: for each control, day by day, what the evidence showed.
///
/// Built from the sealed bundles only (never from live systems), after they were verified, so every number in the
/// period report traces back to a bundle an auditor can re-check.
public struct PeriodSummary: Sendable, Codable, Hashable {
  /// One control's status on one UTC day: the latest run of that day, or `missing` when no run covered it.
  public struct Day: Sendable, Codable, Hashable {
    public let date: String
    /// A `ControlStatus` raw value, or `missing`.
    public let status: String
    /// The bundle holding that day's evidence.
    public let bundle: String?
  }

  /// A day on which a control did not pass, with the evidence that says why.
  public struct Exception: Sendable, Codable, Hashable {
    public let date: String
    public let status: ControlStatus
    public let bundle: String
    public let detail: String
  }

  public struct Control: Sendable, Codable, Hashable {
    public let id: String
    public let title: String
    public let criteria: [String]
    public let owner: String
    public let days: [Day]
    /// Days on which the control was evaluated (pass, fail, error, stale, waived).
    public let evaluatedDays: Int
    public let passDays: Int
    /// Pass days over evaluated days; `nil` when never evaluated.
    public let passRate: Double?
    public let exceptions: [Exception]
  }

  /// Criteria-level roll-up for the auditor's sheet.
  public struct Criterion: Sendable, Codable, Hashable {
    public let criterion: String
    public let controls: [String]
    public let evaluatedDays: Int
    public let passDays: Int
    public let exceptions: Int
    public let passRate: Double?
  }

  public let from: String
  public let to: String
  /// Criteria the report was limited to (empty: all).
  public let criteriaFilter: [String]
  public let bundles: [String]
  /// Days with no bundle at all: nights the job did not run.
  public let daysWithoutRun: [String]
  public let controls: [Control]
  public let criteria: [Criterion]
  /// Every waiver seen in the period, as the latest run in it saw it.
  public let waivers: [WaiverOutcome]
  /// Integrity problems `vouch verify` found in the period's bundles; the report is not trustworthy unless empty.
  public let verificationProblems: [String]
  public let generatedAt: Date

  /// Summarises `records` (sealed runs, any order) over the UTC days `from`…`to`.
  public init(
    records: [RunRecord], from: String, to: String, criteria filter: [String], verificationProblems: [String],
    generatedAt: Date
  ) {
    self.from = from
    self.to = to
    let days = Verifier.days(from: from, to: to)
    let runs = records.filter { days.contains(Verifier.day(of: $0.bundleName)) }
      .sorted { $0.bundleName < $1.bundleName }
    // The latest run of each day speaks for that day.
    var latestByDay: [String: RunRecord] = [:]
    for run in runs { latestByDay[Verifier.day(of: run.bundleName)] = run }
    let resultsByDay = latestByDay.mapValues { run in
      Dictionary(run.results.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }
    let selected = { (result: ControlResult) -> Bool in
      filter.isEmpty || result.criteria.contains { RunOptions.inCriteria($0, selected: filter) }
    }
    var latestResult: [String: ControlResult] = [:]
    for run in runs { for result in run.results where selected(result) { latestResult[result.id] = result } }

    let builtControls = latestResult.keys.sorted().compactMap { id -> Control? in
      guard let latest = latestResult[id] else { return nil }
      var dayRows: [Day] = []
      var exceptions: [Exception] = []
      // Evidence lives for the control's frequency: once a failing collector has left it without fresh evidence for
      // longer than that, the day is stale rather than a one-off error.
      let lifetimeDays = max(1, (Frequency(latest.frequency)?.seconds ?? 86_400) / 86_400)
      var lastEvidence: Int?
      for (index, date) in days.enumerated() {
        guard let run = latestByDay[date], let result = resultsByDay[date]?[id] else {
          dayRows.append(Day(date: date, status: "missing", bundle: latestByDay[date]?.bundleName))
          continue
        }
        var status = result.status
        var detail = Self.detail(of: result)
        if [.pass, .fail, .waived].contains(status) { lastEvidence = index }
        if status == .error, index - (lastEvidence ?? -1) > lifetimeDays {
          status = .stale
          let since = lastEvidence.map { "since \(days[$0])" } ?? "in the period"
          detail = "no fresh evidence \(since), longer than its frequency (\(latest.frequency)); \(detail)"
        }
        dayRows.append(Day(date: date, status: status.rawValue, bundle: run.bundleName))
        if [.fail, .error, .stale, .waived].contains(status) {
          exceptions.append(Exception(date: date, status: status, bundle: run.bundleName, detail: detail))
        }
      }
      let evaluated = dayRows.filter { ["pass", "fail", "error", "stale", "waived"].contains($0.status) }.count
      let passed = dayRows.filter { $0.status == "pass" }.count
      return Control(
        id: id, title: latest.title, criteria: latest.criteria, owner: latest.owner, days: dayRows,
        evaluatedDays: evaluated, passDays: passed, passRate: evaluated == 0 ? nil : Double(passed) / Double(evaluated),
        exceptions: exceptions)
    }
    let allCriteria = Set(builtControls.flatMap(\.criteria)).filter { criterion in
      filter.isEmpty || RunOptions.inCriteria(criterion, selected: filter)
    }
    controls = builtControls
    criteria = allCriteria.sorted().map { criterion in
      let members = builtControls.filter { $0.criteria.contains(criterion) }
      let evaluated = members.reduce(0) { $0 + $1.evaluatedDays }
      let passed = members.reduce(0) { $0 + $1.passDays }
      return Criterion(
        criterion: criterion, controls: members.map(\.id), evaluatedDays: evaluated, passDays: passed,
        exceptions: members.reduce(0) { $0 + $1.exceptions.count },
        passRate: evaluated == 0 ? nil : Double(passed) / Double(evaluated))
    }
    criteriaFilter = filter
    bundles = runs.map(\.bundleName)
    daysWithoutRun = days.filter { latestByDay[$0] == nil }
    waivers = runs.last?.waivers ?? []
    self.verificationProblems = verificationProblems
    self.generatedAt = generatedAt
  }

  static func detail(of result: ControlResult) -> String {
    switch result.status {
    case .fail: return result.findings.map(\.message).joined(separator: "; ")
    case .waived:
      return "waived by \(result.waiver ?? "a waiver"): " + result.findings.map(\.message).joined(separator: "; ")
    default: return result.reason ?? result.status.rawValue
    }
  }
}
