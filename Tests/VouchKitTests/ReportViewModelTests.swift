import Foundation
import Testing

@testable import VouchKit

/// The HTML view models are read through hand-kept key-path tables; a field missing from its table would vanish
/// from the report without any error, so every table is compared with the type's real fields.
@Suite struct ReportViewModelTests {
  func fieldsMatch<T: MustacheView>(_ value: T) -> Bool {
    Set(Mirror(reflecting: value).children.compactMap(\.label)) == Set(T.fields.keys)
  }

  @Test func everyViewModelFieldIsReachableFromTheTemplate() throws {
    let page = HTMLPage(run: ReportFixtures.run(), context: ReportFixtures.context, documentName: "report.html")
    #expect(fieldsMatch(page))
    #expect(fieldsMatch(try #require(page.runRows.first)))
    #expect(fieldsMatch(try #require(page.counts.first)))
    #expect(fieldsMatch(try #require(page.definitionFiles.first)))
    #expect(fieldsMatch(try #require(page.waivers.first)))
    let comparison = try #require(page.comparison)
    #expect(fieldsMatch(comparison))
    #expect(fieldsMatch(try #require(comparison.changes.first)))
    let controls = page.controls
    #expect(controls.allSatisfy(fieldsMatch))
    #expect(fieldsMatch(try #require(controls.compactMap(\.problem).first)))
    let finding = try #require(controls.flatMap(\.findings).first)
    #expect(fieldsMatch(finding))
    #expect(fieldsMatch(finding.expected))
    #expect(fieldsMatch(try #require(controls.flatMap(\.facts).first)))
    #expect(fieldsMatch(try #require(controls.flatMap(\.artifacts).first)))
  }

  @Test func everyPeriodViewModelFieldIsReachableFromTheTemplate() throws {
    var failing = ReportFixtures.run()
    failing.bundleName = "20261129T060000Z-00000001"
    let summary = PeriodSummary(
      records: [failing], from: "2026-11-28", to: "2026-11-29", criteria: [], verificationProblems: [],
      generatedAt: Date(timeIntervalSince1970: 0))
    let page = PeriodPage(summary, evidenceHref: "../../evidence/")
    #expect(fieldsMatch(page))
    let control = try #require(page.controls.first { !$0.exceptions.isEmpty })
    #expect(fieldsMatch(control))
    #expect(fieldsMatch(try #require(control.days.first)))
    #expect(fieldsMatch(try #require(control.exceptions.first)))
    #expect(fieldsMatch(try #require(page.criteria.first)))
    #expect(fieldsMatch(try #require(page.waivers.first)))
  }
}
