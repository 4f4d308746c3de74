// Golden-file tests of the HTML and XML reports.
//
// The expected documents live in Tests/VouchKitTests/Fixtures/golden/. After an intended change to a report,
// regenerate them and review the diff before committing:
//
//   VOUCH_UPDATE_GOLDEN=1 swift test --filter ReportGoldenTests
//   git diff Tests/VouchKitTests/Fixtures/golden
//
// Without the variable the tests compare, and on a mismatch print the first differing lines and where the actual
// output was written for a full `diff -u`.

import Foundation
import Testing

@testable import VouchKit

@Suite struct ReportGoldenTests {
  @Test func htmlMatchesGolden() throws {
    let html = try HTMLReport().render(ReportFixtures.run(), context: ReportFixtures.context)
    try Golden.check(html, against: "report.html")
  }

  @Test func latestHTMLMatchesGolden() throws {
    let format = HTMLReport()
    let html = format.published(
      try format.render(ReportFixtures.run(), context: ReportFixtures.context), baseHref: "\(ReportFixtures.bundleName)/")
    try Golden.check(html, against: "latest.html")
  }

  @Test func xmlMatchesGolden() throws {
    let xml = try XMLReport().render(ReportFixtures.run(), context: ReportFixtures.context)
    try Golden.check(xml, against: "report.xml")
  }

  @Test func xmlIsValidAgainstSchema() throws {
    let xml = try XMLReport().render(ReportFixtures.run(), context: ReportFixtures.context)
    let errors = XMLSchemaValidation.errors(in: xml, schema: ReportFixtures.schema)
    #expect(errors.isEmpty, "report.xml is not valid:\n\(errors.joined(separator: "\n"))")
  }

  @Test(arguments: ReportRegistry.builtIn.map(\.name))
  func renderingIsDeterministic(format name: String) throws {
    let format = try #require(ReportRegistry.builtIn.first { $0.name == name })
    // Rebuilding the record re-creates its dictionaries, whose iteration order varies between instances.
    let first = try format.render(ReportFixtures.run(), context: ReportFixtures.context)
    let second = try format.render(ReportFixtures.run(), context: ReportFixtures.context)
    #expect(first == second)
  }
}

enum Golden {
  static var updating: Bool { ProcessInfo.processInfo.environment["VOUCH_UPDATE_GOLDEN"] == "1" }
  static let regenerate = "VOUCH_UPDATE_GOLDEN=1 swift test --filter ReportGoldenTests"

  static func check(
    _ actual: Data, against name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation
  ) throws {
    let url = ReportFixtures.goldenDirectory.appendingPathComponent(name)
    if updating {
      try FileManager.default.createDirectory(at: ReportFixtures.goldenDirectory, withIntermediateDirectories: true)
      try actual.write(to: url, options: .atomic)
      return
    }
    guard let expected = try? Data(contentsOf: url) else {
      Issue.record(
        "golden file \(url.path) is missing; create it with \(regenerate)",
        sourceLocation: sourceLocation)
      return
    }
    guard expected != actual else { return }
    let actualURL = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-actual-\(name)")
    try actual.write(to: actualURL, options: .atomic)
    Issue.record(
      """
      \(name) differs from its golden file.
      \(lineDiff(expected: String(decoding: expected, as: UTF8.self), actual: String(decoding: actual, as: UTF8.self)))
      Full comparison: diff -u \(url.path) \(actualURL.path)
      If the change is intended: \(regenerate)
      """, sourceLocation: sourceLocation)
  }

  /// The first differing region, with two lines of context, as `-` expected / `+` actual lines.
  static func lineDiff(expected: String, actual: String) -> String {
    let old = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let new = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var first = 0
    while first < old.count, first < new.count, old[first] == new[first] { first += 1 }
    let start = max(0, first - 2)
    var lines = ["first difference at line \(first + 1) (golden has \(old.count) lines, actual \(new.count)):"]
    for index in start..<first { lines.append("  \(old[index])") }
    for index in first..<min(old.count, first + 6) { lines.append("- \(old[index])") }
    for index in first..<min(new.count, first + 6) { lines.append("+ \(new[index])") }
    return lines.joined(separator: "\n")
  }
}
