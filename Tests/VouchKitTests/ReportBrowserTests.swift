import Foundation
import Testing

@testable import VouchKit

/// The HTML report as a browser renders it: headless Chromium (Debian's `chromium`, installed by scripts/setup.sh)
/// loads the file and dumps the DOM after any script had its chance to run.
@Suite struct ReportBrowserTests {
  static let attack = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"

  func renderedDOM(of html: String) throws -> String {
    let file = try TestScratch.makeDirectory("browser").appendingPathComponent("report.html")
    try Data(html.utf8).write(to: file)
    return try Command.run(
      "/usr/bin/chromium",
      [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--virtual-time-budget=2000",
        "--dump-dom", file.absoluteString,
      ])
  }

  @Test func theHarnessSeesAScriptThatRuns() throws {
    // Guards the guard: on a page without Vouch's escaping and policy, the same payload does change the title.
    let dom = try renderedDOM(of: "<!DOCTYPE html><html><head><title>clean</title></head><body>\(Self.attack)</body></html>")
    #expect(dom.contains("<title>pwned</title>"))
  }

  @Test func domHoldsTheCountsAndNoInjectedScriptRan() throws {
    var run = ReportFixtures.run()
    run.results[1].title = Self.attack
    run.results[1].findings[0] = Finding(
      fact: "body", op: .contains, expected: .string(Self.attack), actual: .string(Self.attack), message: Self.attack)
    let html = String(decoding: try HTMLReport().render(run, context: ReportFixtures.context), as: UTF8.self)
    let dom = try renderedDOM(of: html)

    #expect(dom.contains("<title>Vouch evidence report · \(run.bundleName)</title>"))
    #expect(!dom.contains("pwned</title>"))
    #expect(!dom.contains("<script"))
    #expect(!dom.contains("<img"))
    // The summary row, as the browser built it: one cell per status, then the total.
    let summary = try #require(dom.firstMatch(of: /<table class="summary">[\s\S]*?<tbody>\s*<tr>([\s\S]*?)<\/tr>/))
    let cells = summary.output.1.matches(of: /<td>(\d+)<\/td>/).map { Int($0.output.1) }
    let counts = run.counts
    #expect(cells == ControlStatus.allCases.map { counts[$0] } + [counts.total])
  }

  @Test func periodReportRendersItsCalendarAndRunsNoInjectedScript() throws {
    var run = ReportFixtures.run()
    run.bundleName = "20261129T060000Z-00000001"
    run.results[1].title = Self.attack
    let summary = PeriodSummary(
      records: [run], from: "2026-11-27", to: "2026-11-29", criteria: [], verificationProblems: [],
      generatedAt: Date(timeIntervalSince1970: 0))
    let html = String(decoding: try PeriodReport.html(summary, evidenceHref: "../../evidence/"), as: UTF8.self)
    let dom = try renderedDOM(of: html)
    #expect(dom.contains("<title>Vouch period report · 2026-11-27 to 2026-11-29</title>"))
    #expect(!dom.contains("<script") && !dom.contains("<img"))
    // Three days per control: two missing nights, then the run's status.
    #expect(dom.components(separatedBy: "<li class=\"day-").count - 1 == summary.controls.count * 3)
    #expect(dom.contains("No run on: 2026-11-27, 2026-11-28"))
  }
}
