import Foundation
import Logging
import Testing

@testable import VouchKit

/// Sixty nights of history made by the real runner against servers on 127.0.0.1, with a fake clock: three missed
/// nights, a page that breaks twice (the second time under a waiver), an API that times out twice, and an attested
/// document whose review goes stale. The period report must count all of it exactly.
@Suite struct PeriodReportTests {
  static let start = Timestamp.parse("2026-09-01T00:00:00Z")!
  static let missed: Set<Int> = [10, 11, 40]
  static let pageBroken: Set<Int> = [5, 20, 21, 22]
  static let apiDown: Set<Int> = [30, 31]

  func day(_ index: Int) -> String { Verifier.utcDay(Self.start.addingTimeInterval(Double(index) * 86_400)) }

  func http(_ id: String, url: String, criteria: [String]) throws -> ControlDefinition {
    let parameters = Parameters(["url": .string(url), "timeout": .duration(1)])
    return ControlDefinition(
      id: id, title: "Title of \(id)", description: "d", criteria: criteria, owner: "platform", severity: .high,
      frequency: Frequency("daily")!, enabled: true, target: nil,
      collector: CollectorInvocation(kind: "http", parameters: parameters, collector: try HTTPCollector(parameters: parameters)),
      expectations: [Expectation(fact: "status", op: .equals, operand: .integer(200))],
      source: SourceLocation(file: "controls/c.yaml", line: 1, column: 1), sourceDigest: Digest.sha256("c"),
      secrets: [])
  }

  @Test func sixtyNightsAddUpInThePeriodReport() async throws {
    let nginx = try await NginxServer.start([
      .http("site", [.text("= /ok", body: "fine"), .text("= /api", body: "{}", contentType: "application/json")])
    ])
    defer { nginx.stop() }
    let silent = try SilentServer()
    let work = try TestScratch.makeDirectory("period")
    let evidence = work.appendingPathComponent("evidence")
    let waiver = Waiver(
      id: "W-page", control: "web", target: nil, justification: "CDN migration", approver: "CISO",
      approvedAt: Timestamp.parse("2026-09-22T00:00:00Z")!, expires: Timestamp.parse("2026-09-25T00:00:00Z")!,
      risk: .low, source: SourceLocation(file: "waivers/w.yaml", line: 1, column: 5))

    for index in 0..<60 where !Self.missed.contains(index) {
      let catalog = TestControls.catalog([
        try http("web", url: nginx.url("site", Self.pageBroken.contains(index) ? "/gone" : "/ok"), criteria: ["CC7.1"]),
        try http("api", url: Self.apiDown.contains(index) ? silent.url : nginx.url("site", "/api"), criteria: ["CC7.2"]),
        try TestControls.scripted(
          "policy", criteria: ["CC7.1"], evidenceDate: Self.start, frequency: "30d"),
      ])
      var options = runOptions(evidence, timeout: 5)
      options.waivers = [waiver]
      let night = Self.start.addingTimeInterval(Double(index) * 86_400 + 7_200)
      _ = try await makeRunner(at: Timestamp.format(night), runID: String(format: "%08x", index)).run(catalog, options: options)
    }

    let reports = work.appendingPathComponent("reports")
    let (summary, files) = try PeriodReport(clock: FixedClock(Timestamp.parse("2026-11-01T00:00:00Z")!)).write(
      evidence: evidence, reports: reports, from: Self.start, to: Self.start.addingTimeInterval(59 * 86_400),
      criteria: [], key: nil)

    #expect(summary.verificationProblems == [])
    #expect(summary.bundles.count == 57)
    #expect(summary.daysWithoutRun == Self.missed.sorted().map(day))
    let controls = Dictionary(uniqueKeysWithValues: summary.controls.map { ($0.id, $0) })

    let web = try #require(controls["web"])
    #expect(web.evaluatedDays == 57 && web.passDays == 53)
    #expect(web.exceptions.map(\.date) == Self.pageBroken.sorted().map(day))
    #expect(web.exceptions.map(\.status) == [.fail, .fail, .waived, .waived])
    #expect(web.exceptions[0].detail == "status is 404, expected equals 200")
    #expect(web.exceptions[0].bundle == "20260906T020000Z-00000005")
    #expect(web.days.filter { $0.status == "missing" }.map(\.date) == Self.missed.sorted().map(day))

    let api = try #require(controls["api"])
    // The first night down is an error; by the second, the daily control has had no fresh evidence for too long.
    #expect(api.exceptions.map(\.status) == [.error, .stale])
    #expect(api.exceptions.map(\.date) == Self.apiDown.sorted().map(day))

    // Reviewed on day 0 with a 30-day frequency: fresh through day 29, stale from day 30.
    let policy = try #require(controls["policy"])
    #expect(policy.passDays == 28)
    #expect(policy.exceptions.count == 29 && policy.exceptions.allSatisfy { $0.status == .stale })

    let cc71 = try #require(summary.criteria.first { $0.criterion == "CC7.1" })
    #expect(cc71.controls == ["policy", "web"])
    #expect(cc71.evaluatedDays == 114 && cc71.passDays == 81 && cc71.exceptions == 33)
    let cc72 = try #require(summary.criteria.first { $0.criterion == "CC7.2" })
    #expect(cc72.evaluatedDays == 57 && cc72.passDays == 55 && cc72.exceptions == 2)

    let schema = ReportFixtures.schema.deletingLastPathComponent().appendingPathComponent("vouch-period-1.xsd")
    let xmlErrors = XMLSchemaValidation.errors(in: try Data(contentsOf: files[1]), schema: schema)
    #expect(xmlErrors.isEmpty, "period.xml is not valid:\n\(xmlErrors.joined(separator: "\n"))")
    let html = try String(contentsOf: files[0], encoding: .utf8)
    #expect(html.contains("No run on: 2026-09-11, 2026-09-12, 2026-10-11"))
    #expect(html.contains("<a href=\"../../evidence/20260906T020000Z-00000005/\">20260906T020000Z-00000005</a>"))
    let narrowed = try PeriodReport(clock: SystemClock()).write(
      evidence: evidence, reports: reports, from: Self.start, to: Self.start.addingTimeInterval(59 * 86_400),
      criteria: ["CC7.2"], key: nil)
    #expect(narrowed.0.controls.map(\.id) == ["api"])
  }
}
