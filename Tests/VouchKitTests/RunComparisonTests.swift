import Foundation
import Testing

@testable import VouchKit

@Suite struct RunComparisonTests {
  func result(_ id: String, _ status: ControlStatus) throws -> ControlResult {
    ControlResult(
      id: id, title: id, description: "", criteria: ["CC7.1"], owner: "o", severity: .low, frequency: "daily",
      target: nil, collector: "scripted", status: status, reason: nil, facts: [:], expectations: [], findings: [],
      artifacts: [], evidence: [:], startedAt: nil, finishedAt: nil,
      source: SourceLocation(file: "c.yaml", line: 1, column: 1), sourceDigest: "")
  }

  @Test func classifiesEveryKindOfChange() throws {
    let previous = RunRecord(
      runID: "1", bundleName: "20261128T020000Z-00000001", toolVersion: "t", host: "h", startedAt: Date(),
      finishedAt: Date(),
      parameters: RunParameters(
        controlsDirectory: "c", variablesFile: nil, concurrency: 1, timeout: 1, only: [], criteria: []),
      definitionFiles: [],
      results: [
        try result("broke", .pass), try result("errored", .skipped), try result("healed", .error),
        try result("steady", .fail), try result("gone", .pass), try result("worse", .fail),
      ])
    let comparison = RunComparison(
      previous: previous,
      current: [
        try result("broke", .fail), try result("errored", .error), try result("healed", .pass),
        try result("steady", .fail), try result("fresh", .pass), try result("worse", .error),
      ])
    #expect(comparison.previousBundle == "20261128T020000Z-00000001")
    #expect(comparison.newlyFailing.map(\.id) == ["broke", "errored"])
    #expect(comparison.fixed == [RunComparison.Change(id: "healed", from: .error, to: .pass)])
    #expect(comparison.otherChanges == [RunComparison.Change(id: "worse", from: .fail, to: .error)])
    #expect(comparison.added == ["fresh"])
    #expect(comparison.removed == ["gone"])
  }

  @Test func consecutiveRunsCarryTheirComparisonAndAnUnreadablePredecessorDoesNotStopTheRun() async throws {
    let evidence = try TestScratch.makeDirectory("comparison")
    let first = try await makeRunner(at: "2026-11-27T02:00:00Z", runID: "00000001").run(
      TestControls.catalog([try TestControls.scripted("a", value: "x"), try TestControls.scripted("b")]),
      options: runOptions(evidence))
    #expect(first.record.comparison == nil)

    let failing = Expectation(fact: "value", op: .equals, operand: .string("x"))
    let second = try await makeRunner(at: "2026-11-28T02:00:00Z", runID: "00000002").run(
      TestControls.catalog([try TestControls.scripted("a", value: "y", expect: [failing])]),
      options: runOptions(evidence))
    let comparison = try #require(second.record.comparison)
    #expect(comparison.newlyFailing == [RunComparison.Change(id: "a", from: .pass, to: .fail)])
    #expect(comparison.removed == ["b"])
    #expect(try BundleStore(directory: evidence).loadRecord(second.bundle).comparison == comparison)

    try Data("{".utf8).write(to: second.bundle.appendingPathComponent("results.json"))
    let third = try await makeRunner(at: "2026-11-29T02:00:00Z", runID: "00000003").run(
      TestControls.catalog([try TestControls.scripted("a")]), options: runOptions(evidence))
    let problem = try #require(third.record.comparison?.problem)
    #expect(problem.hasPrefix("cannot read the results of bundle 20261128T020000Z-00000002"))
  }
}
