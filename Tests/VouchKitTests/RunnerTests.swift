import Foundation
import Testing

@testable import VouchKit

@Suite struct RunnerTests {
  @Test func resultsComeOutInIdOrderWhateverOrderCollectorsFinish() async throws {
    let temp = try TestScratch.makeDirectory("bundle")
    // c-first finishes first, a-last finishes last: order must still be by id.
    let catalog = TestControls.catalog([
      try TestControls.scripted("a-last", delayMilliseconds: 300),
      try TestControls.scripted("b-middle", delayMilliseconds: 150),
      try TestControls.scripted("c-first"),
    ])
    let outcome = try await makeRunner().run(catalog, options: runOptions(temp, concurrency: 3))
    #expect(outcome.record.results.map(\.id) == ["a-last", "b-middle", "c-first"])
    #expect(outcome.record.results.allSatisfy { $0.status == .pass })
  }

  @Test func failingExpectationBecomesFindingWithExpectedAndActual() async throws {
    let temp = try TestScratch.makeDirectory("bundle")
    let catalog = TestControls.catalog([
      try TestControls.scripted(
        "x", value: "actual",
        expect: [
          Expectation(fact: "value", op: .equals, operand: .string("wanted")),
          Expectation(fact: "count", op: .atLeast, operand: .integer(2)),
        ])
    ])
    let result = try await makeRunner().run(catalog, options: runOptions(temp)).record.results[0]
    #expect(result.status == .fail)
    #expect(result.findings.count == 1)
    #expect(result.findings[0].expected == .string("wanted"))
    #expect(result.findings[0].actual == .string("actual"))
    #expect(result.findings[0].message == "value is actual, expected equals wanted")
    #expect(result.evidence["value"] == ["controls/x/value.txt"])
  }

  @Test func throwingHangingAndStuckCollectorsBecomeErrorsAndTheRunGoesOn() async throws {
    let temp = try TestScratch.makeDirectory("bundle")
    let catalog = TestControls.catalog([
      try TestControls.scripted("boom", behaviour: "throw"),
      try TestControls.scripted("hang", behaviour: "hang"),
      try TestControls.scripted("stuck", behaviour: "hang-uncancellable"),
      try TestControls.scripted("fine"),
    ])
    let start = Date()
    let outcome = try await makeRunner().run(catalog, options: runOptions(temp, timeout: 0.5))
    // The stuck collector ignores cancellation for 60 s; the run must end soon after the 0.5 s timeout instead.
    #expect(Date().timeIntervalSince(start) < 30, "a stuck collector must not hold the run beyond its timeout")
    let byID = Dictionary(uniqueKeysWithValues: outcome.record.results.map { ($0.id, $0) })
    #expect(byID["boom"]?.status == .error)
    #expect(byID["boom"]?.reason == "scripted failure for boom")
    #expect(byID["hang"]?.status == .error)
    #expect(byID["hang"]?.reason == "collector did not finish within 0.5 s")
    #expect(byID["stuck"]?.status == .error)
    #expect(byID["fine"]?.status == .pass)
    #expect(VouchExitCode.forRun(outcome.record.counts) == .errors)
  }

  @Test func disabledAndFilteredControlsAreSkippedWithAReason() async throws {
    let temp = try TestScratch.makeDirectory("bundle")
    let catalog = TestControls.catalog([
      try TestControls.scripted("off", enabled: false),
      try TestControls.scripted("web.www", criteria: ["CC6.1"]),
      try TestControls.scripted("web.api", criteria: ["CC7.2"]),
      try TestControls.scripted("other", criteria: ["CC7.1"]),
    ])
    let outcome = try await makeRunner().run(catalog, options: runOptions(temp, only: ["web"], criteria: ["CC7"]))
    let byID = Dictionary(uniqueKeysWithValues: outcome.record.results.map { ($0.id, $0) })
    #expect(byID["off"]?.status == .skipped)
    #expect(byID["off"]?.reason == "disabled in its definition (enabled: false)")
    #expect(byID["web.www"]?.reason == "not selected by --criteria CC7")
    #expect(byID["web.api"]?.status == .pass)
    #expect(byID["other"]?.reason == "not selected by --only web")
    #expect(VouchExitCode.forRun(outcome.record.counts) == .success)
  }

  @Test func secretsNeverReachErrorMessages() async throws {
    let temp = try TestScratch.makeDirectory("bundle")
    let catalog = TestControls.catalog([
      try TestControls.scripted("boom", behaviour: "throw", secrets: ["boom"])
    ])
    let result = try await makeRunner().run(catalog, options: runOptions(temp)).record.results[0]
    #expect(result.reason == "scripted failure for [REDACTED]")
  }
}
