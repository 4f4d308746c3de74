import Foundation
import Testing

@testable import VouchKit

@Suite struct WaiverAndStatusTests {
  static let now = "2026-11-29T06:00:00Z"

  func waiver(
    _ id: String, control: String, target: String? = nil, approved: String = "2026-11-01T00:00:00Z",
    expires: String = "2027-01-01T00:00:00Z"
  ) -> Waiver {
    Waiver(
      id: id, control: control, target: target, justification: "accepted for the test", approver: "CISO",
      approvedAt: Timestamp.parse(approved)!, expires: Timestamp.parse(expires)!, risk: .medium,
      source: SourceLocation(file: "waivers/w.yaml", line: 1, column: 1))
  }

  let failing = [Expectation(fact: "value", op: .equals, operand: .string("expected"))]

  @Test func waiversTurnFailuresIntoWaivedAndEveryWaiverIsAccountedFor() async throws {
    let evidence = try TestScratch.makeDirectory("waivers")
    let catalog = TestControls.catalog([
      try TestControls.scripted("web.api", value: "x", expect: failing),
      try TestControls.scripted("web.www", value: "x", expect: failing),
      try TestControls.scripted("db", value: "x", expect: failing),
      try TestControls.scripted("mail", value: "x", expect: failing),
      try TestControls.scripted("fine"),
    ])
    var options = runOptions(evidence)
    options.waivers = [
      waiver("W-scoped", control: "web", target: "api"),
      waiver("W-expired", control: "db", expires: "2026-11-28T00:00:00Z"),
      waiver("W-unused", control: "fine"),
      waiver("W-pending", control: "mail", approved: "2026-12-01T00:00:00Z"),
    ]
    let record = try await makeRunner(at: Self.now).run(catalog, options: options).record
    let status = Dictionary(uniqueKeysWithValues: record.results.map { ($0.id, $0.status) })
    #expect(status == ["web.api": .waived, "web.www": .fail, "db": .fail, "mail": .fail, "fine": .pass])
    #expect(record.results.first { $0.id == "web.api" }?.waiver == "W-scoped")
    let outcomes = Dictionary(uniqueKeysWithValues: record.waivers.map { ($0.waiver.id, $0) })
    #expect(outcomes["W-scoped"]?.state == .applied)
    #expect(outcomes["W-scoped"]?.appliedTo == ["web.api"])
    #expect(outcomes["W-expired"]?.state == .expired)
    #expect(outcomes["W-expired"]?.failingBecauseExpired == ["db"])
    #expect(outcomes["W-unused"]?.state == .active)
    #expect(outcomes["W-pending"]?.state == .pending)
    #expect(try BundleStore(directory: evidence).loadRecord(named: record.bundleName).waivers == record.waivers)
    // A waived failure does not fail the job by default; the unwaived ones do.
    #expect(VouchExitCode.forRun(StatusCounts(record.results.filter { $0.status != .fail })) == .success)
    #expect(VouchExitCode.forRun(record.counts) == .failures)
  }

  @Test func staleEvidenceIsNeverAPassAndNotApplicableControlsDoNotRun() async throws {
    let evidence = try TestScratch.makeDirectory("stale")
    let catalog = TestControls.catalog([
      try TestControls.scripted("fresh", evidenceDate: Timestamp.parse("2026-11-10T00:00:00Z"), frequency: "monthly"),
      try TestControls.scripted("old", evidenceDate: Timestamp.parse("2026-10-01T00:00:00Z"), frequency: "monthly"),
      try TestControls.scripted(
        "old-and-failing", value: "x", expect: failing, evidenceDate: Timestamp.parse("2026-01-01T00:00:00Z")),
      try TestControls.scripted("na", behaviour: "throw", notApplicable: "no customer data is stored in this region"),
    ])
    let record = try await makeRunner(at: Self.now).run(catalog, options: runOptions(evidence)).record
    let byID = Dictionary(uniqueKeysWithValues: record.results.map { ($0.id, $0) })
    #expect(byID["fresh"]?.status == .pass)
    #expect(byID["old"]?.status == .stale)
    #expect(byID["old"]?.reason == "the evidence dates from 2026-10-01T00:00:00Z, older than its frequency (monthly) allows")
    #expect(byID["old-and-failing"]?.status == .fail)
    #expect(byID["na"]?.status == .notApplicable)
    #expect(byID["na"]?.reason == "no customer data is stored in this region")
    #expect(record.counts.stale == 1 && record.counts.notApplicable == 1)
    #expect(VouchExitCode.forRun(record.counts) == .failures)
    #expect(VouchExitCode.forRun(record.counts, failOn: [.error]) == .success)
    #expect(VouchExitCode.forRun(record.counts, failOn: [.stale]) == .failures)
  }

  @Test func badWaiverFilesReportEveryProblemWithItsLocation() throws {
    let folder = ReportFixtures.testsDirectory.appendingPathComponent("Fixtures/waivers/bad")
    let loader = WaiverLoader(controlIDs: ["web.api", "web.www", "db"], currentDirectory: folder.path)
    #expect {
      try loader.load(directory: folder)
    } throws: { error in
      guard let errors = error as? DefinitionErrors else { return false }
      let lines = errors.problems.map(\.description)
      let expected = [
        "waivers.yaml:9:5: error: id: duplicate waiver id 'W-1', first defined at waivers.yaml:1:5",
        "waivers.yaml:17:1: error: justification: missing required key 'justification'",
        "waivers.yaml:19:9: error: target: no control 'wbe.api' in the catalogue (did you mean 'web.api'?)",
        "waivers.yaml:20:1: error: justifcation: unknown key 'justifcation' (did you mean 'justification'?)",
        "waivers.yaml:23:10: error: expires: expires before it was approved (2026-12-01T00:00:00Z)",
        "waivers.yaml:24:7: error: risk: unknown risk 'severe' (one of low, medium, high, critical)",
      ]
      #expect(lines == expected)
      return lines == expected
    }
  }
}
