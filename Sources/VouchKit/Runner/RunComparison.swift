import Foundation

/// What changed since the previous run in the chain, shown at the top of every report so a reviewer sees
/// regressions and fixes first.
public struct RunComparison: Sendable, Codable, Hashable {
  /// One control whose status moved.
  public struct Change: Sendable, Codable, Hashable {
    public let id: String
    public let from: ControlStatus
    public let to: ControlStatus

    public init(id: String, from: ControlStatus, to: ControlStatus) {
      self.id = id
      self.from = from
      self.to = to
    }
  }

  /// The bundle compared against.
  public let previousBundle: String
  /// Passed (or was skipped) last time, fails or errors now.
  public let newlyFailing: [Change]
  /// Failed or errored last time, passes now.
  public let fixed: [Change]
  /// Every other status change.
  public let otherChanges: [Change]
  public let added: [String]
  public let removed: [String]
  /// Why the previous results could not be compared (unreadable bundle); the lists are then empty.
  public let problem: String?

  public init(
    previousBundle: String, newlyFailing: [Change], fixed: [Change], otherChanges: [Change], added: [String],
    removed: [String], problem: String? = nil
  ) {
    self.previousBundle = previousBundle
    self.problem = problem
    self.newlyFailing = newlyFailing
    self.fixed = fixed
    self.otherChanges = otherChanges
    self.added = added
    self.removed = removed
  }

  /// Compares two runs' results by control id; every list is in id order.
  public init(previous: RunRecord, current: [ControlResult]) {
    let before = Dictionary(previous.results.map { ($0.id, $0.status) }, uniquingKeysWith: { first, _ in first })
    let now = Dictionary(current.map { ($0.id, $0.status) }, uniquingKeysWith: { first, _ in first })
    var newlyFailing: [Change] = []
    var fixed: [Change] = []
    var other: [Change] = []
    for result in current.sorted(by: { $0.id < $1.id }) {
      guard let old = before[result.id], old != result.status else { continue }
      let change = Change(id: result.id, from: old, to: result.status)
      let wasBad = old == .fail || old == .error
      let isBad = result.status == .fail || result.status == .error
      if isBad && !wasBad {
        newlyFailing.append(change)
      } else if wasBad && result.status == .pass {
        fixed.append(change)
      } else {
        other.append(change)
      }
    }
    self.init(
      previousBundle: previous.bundleName, newlyFailing: newlyFailing, fixed: fixed, otherChanges: other,
      added: now.keys.filter { before[$0] == nil }.sorted(), removed: before.keys.filter { now[$0] == nil }.sorted())
  }

  /// A comparison that could not be made; the run goes on and the reports say why.
  public static func unavailable(previousBundle: String, problem: String) -> RunComparison {
    RunComparison(
      previousBundle: previousBundle, newlyFailing: [], fixed: [], otherChanges: [], added: [], removed: [],
      problem: problem)
  }

  public var isEmpty: Bool {
    newlyFailing.isEmpty && fixed.isEmpty && otherChanges.isEmpty && added.isEmpty && removed.isEmpty
  }
}
