import Foundation
import Testing

@testable import VouchKit

@Suite struct JUnitReportTests {
  static let schema = ReportFixtures.schema.deletingLastPathComponent().appendingPathComponent("junit.xsd")

  @Test func matchesGoldenAndValidatesAgainstTheSchema() throws {
    let xml = try JUnitReport().render(ReportFixtures.run(), context: ReportFixtures.context)
    try Golden.check(xml, against: "report.junit.xml")
    let errors = XMLSchemaValidation.errors(in: xml, schema: Self.schema)
    #expect(errors.isEmpty, "report.junit.xml is not valid:\n\(errors.joined(separator: "\n"))")
  }

  @Test func oneTestCasePerControlWithFailureErrorAndSkipped() throws {
    let run = ReportFixtures.run()
    let text = String(decoding: try JUnitReport().render(run, context: ReportFixtures.context), as: UTF8.self)
    #expect(text.components(separatedBy: "<testcase ").count - 1 == run.results.count)
    let counts = run.counts
    #expect(
      text.contains(
        "<testsuites name=\"vouch\" tests=\"\(counts.total)\" failures=\"\(counts.fail)\" errors=\"\(counts.error)\" skipped=\"\(counts.skipped)\""
      ))
    #expect(text.components(separatedBy: "<failure ").count - 1 == counts.fail)
    #expect(text.components(separatedBy: "<error ").count - 1 == counts.error)
    #expect(text.components(separatedBy: "<skipped ").count - 1 == counts.skipped)
  }

  @Test func hostileTextStaysValid() throws {
    var run = ReportFixtures.run()
    run.results[1].findings[0] = Finding(
      fact: "body", op: .contains, expected: .string("x"), actual: .string("\u{0}]]></failure><script>"),
      message: "body is \u{1}</failure>")
    let xml = try JUnitReport().render(run, context: ReportFixtures.context)
    #expect(XMLSchemaValidation.errors(in: xml, schema: Self.schema) == [])
  }
}
