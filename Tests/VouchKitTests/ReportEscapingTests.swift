import Foundation
import Testing

@testable import VouchKit

@Suite struct ReportEscapingTests {
  let hostile = ReportFixtures.run(everyStringIs: ReportFixtures.hostileText)
  let benign = ReportFixtures.run(everyStringIs: "plain")

  func html(_ run: RunRecord) throws -> String {
    String(decoding: try HTMLReport().render(run, context: ReportFixtures.context), as: UTF8.self)
  }

  @Test func htmlEscapesEverySuppliedString() throws {
    let page = try html(hostile)
    #expect(!page.contains("<script"))
    #expect(!page.contains("</td></tr></table>"))
    #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    #expect(page.contains("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;"))
    #expect(page.contains("&quot; &#39; &amp; "))
    #expect(page.contains("]]&gt;"))
  }

  /// All markup comes from the template: hostile data must not add a single markup or quote character.
  @Test func hostileDataDoesNotChangeTheDocumentStructure() throws {
    let hostilePage = try html(hostile)
    let benignPage = try html(benign)
    for character in ["<", ">", "\"", "'"] {
      #expect(
        hostilePage.components(separatedBy: character).count == benignPage.components(separatedBy: character).count,
        "the count of \(character) differs between hostile and benign renderings")
    }
  }

  @Test func evidenceLinksCannotBecomeScriptsOrLeaveTheBundle() throws {
    var run = ReportFixtures.run()
    let links = ["javascript:alert(1)", "../../../etc/passwd", "/etc/passwd", "controls/x/a b#c?.json"]
    run.results[0].artifacts = links.map {
      ArtifactRecord(path: $0, sha256: ReportFixtures.digest($0), size: 1, mediaType: "text/plain", summary: "")
    }
    let page = try html(run)
    #expect(page.contains(#"href="../../evidence/20261129T060000Z-1a2b3c4d/javascript%3Aalert%281%29""#))
    #expect(page.contains(#"href="../../evidence/20261129T060000Z-1a2b3c4d/controls/x/a%20b%23c%3F.json""#))
    #expect(!page.contains("href=\"javascript"))
    #expect(!page.contains("etc/passwd\""))
    #expect(page.contains("<code>../../../etc/passwd</code>"))
  }

  @Test func htmlIsSelfContainedWithoutScripts() throws {
    let page = try html(ReportFixtures.run())
    #expect(page.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
    #expect(page.contains("<meta charset=\"utf-8\">"))
    #expect(page.contains("@media print"))
    for forbidden in ["<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "http://", "onload="] {
      #expect(!page.contains(forbidden), "report contains \(forbidden)")
    }
    let externalLinks = page.components(separatedBy: "href=\"").dropFirst().filter {
      !($0.hasPrefix("report.html#") || $0.hasPrefix("../../evidence/"))
    }
    #expect(externalLinks.isEmpty, "unexpected links: \(externalLinks.map { $0.prefix(60) })")
  }

  @Test func longValuesAreTruncatedVisibly() throws {
    var run = ReportFixtures.run()
    run.results[0].facts = ["body": .string(String(repeating: "x", count: 1_000) + "TAIL")]
    let page = try html(run)
    #expect(page.contains(String(repeating: "x", count: HTMLReport.displayLimit) + "…"))
    #expect(page.contains("(truncated, 1004 chars)"))
    #expect(!page.contains("TAIL"))
  }

  @Test func xmlWithControlCharactersIsWellFormedAndValid() throws {
    let xml = try XMLReport().render(hostile, context: ReportFixtures.context)
    let errors = XMLSchemaValidation.errors(in: xml, schema: ReportFixtures.schema)
    #expect(errors.isEmpty, "hostile report.xml is not valid:\n\(errors.joined(separator: "\n"))")

    let titles = try #require(XMLSchemaValidation.texts(of: "title", in: xml), "hostile report.xml does not parse")
    let replaced = "<script>alert(1)</script> \" ' & </td></tr></table> ]]> \u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"
      + "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD} end"
    #expect(titles == [replaced])
    #expect(XMLSchemaValidation.texts(of: "host", in: xml) == [replaced])
    let bytes = [UInt8](xml)
    #expect(!bytes.contains { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D })
  }

  @Test func xmlKeepsTabsNewlinesAndCarriageReturns() throws {
    var run = ReportFixtures.run()
    run.results[0].description = "line 1\r\nline\t2\n"
    run.results[0].facts = ["multi": .string("a\rb")]
    let xml = try XMLReport().render(run, context: ReportFixtures.context)
    #expect(XMLSchemaValidation.errors(in: xml, schema: ReportFixtures.schema).isEmpty)
    #expect(XMLSchemaValidation.texts(of: "description", in: xml)?.first == "line 1\r\nline\t2\n")
    #expect(XMLSchemaValidation.texts(of: "fact", in: xml)?.first == "a\rb")
  }

  @Test func schemaRejectsWhatItShould() throws {
    let data = try XMLReport().render(ReportFixtures.run(), context: ReportFixtures.context)
    let xml = String(decoding: data, as: UTF8.self)
    let broken = [
      xml.replacingOccurrences(of: #"status="pass""#, with: #"status="passed""#),
      xml.replacingOccurrences(of: #"severity="low""#, with: #"severity="trivial""#),
      xml.replacingOccurrences(of: "<startedAt>2026-11-29T06:00:00Z", with: "<startedAt>yesterday"),
      xml.replacingOccurrences(of: ReportFixtures.digest("stdout.txt"), with: "ABC"),
      xml.replacingOccurrences(of: "<owner>security@example.com</owner>", with: ""),
    ]
    for document in broken {
      #expect(document != xml)
      #expect(!XMLSchemaValidation.errors(in: Data(document.utf8), schema: ReportFixtures.schema).isEmpty)
    }
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/xmllint")))
  func xmllintAgreesTheReportIsValid() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-xmllint-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    for (name, run) in [("fixture.xml", ReportFixtures.run()), ("hostile.xml", hostile)] {
      let file = directory.appendingPathComponent(name)
      try XMLReport().render(run, context: ReportFixtures.context).write(to: file)
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/xmllint")
      process.arguments = ["--noout", "--nonet", "--schema", ReportFixtures.schema.path, file.path]
      let errors = Pipe()
      process.standardError = errors
      try process.run()
      let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      process.waitUntilExit()
      #expect(process.terminationStatus == 0, "xmllint rejects \(name): \(output)")
    }
  }
}
