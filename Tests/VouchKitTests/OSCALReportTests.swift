import Foundation
import Testing

@testable import VouchKit

/// The OSCAL export is validated against NIST's published OSCAL 1.0.6 assessment-results JSON schema (a copy in
/// Fixtures/oscal) with Python's jsonschema, which scripts/setup.sh installs from Debian.
@Suite struct OSCALReportTests {
  static let schema = ReportFixtures.testsDirectory
    .appendingPathComponent("Fixtures/oscal/oscal_assessment-results_schema-1.0.6.json")
  static let validator = ReportFixtures.testsDirectory.appendingPathComponent("Support/validate_oscal.py")

  func problems(_ document: Data) throws -> String {
    let file = try TestScratch.makeDirectory("oscal").appendingPathComponent("report.oscal.json")
    try document.write(to: file)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = [Self.validator.path, Self.schema.path, file.path]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return process.terminationStatus == 0 ? "" : (text.isEmpty ? "validator exited \(process.terminationStatus)" : text)
  }

  @Test func validatesAgainstNISTSchemaAndMatchesGolden() throws {
    let document = try OSCALReport().render(ReportFixtures.run(), context: ReportFixtures.context)
    #expect(try problems(document) == "")
    try Golden.check(document, against: "report.oscal.json")
  }

  @Test func invalidDocumentIsRejectedByTheValidator() throws {
    // Guards the guard: a document missing required parts must fail, or the test above proves nothing.
    #expect(try problems(Data(#"{"assessment-results": {"uuid": "not-a-uuid"}}"#.utf8)).contains("uuid"))
  }

  @Test func observationsFindingsAndEvidenceFollowTheRun() throws {
    let run = ReportFixtures.run()
    let document = try OSCALReport().render(run, context: ReportFixtures.context)
    let json = try #require(try JSONSerialization.jsonObject(with: document) as? [String: Any])
    let results = try #require((json["assessment-results"] as? [String: Any])?["results"] as? [[String: Any]])
    let result = try #require(results.first)
    let ran = run.results.filter { $0.status != .skipped }
    let observations = try #require(result["observations"] as? [[String: Any]])
    let findings = try #require(result["findings"] as? [[String: Any]])
    #expect(observations.count == ran.count)
    #expect(findings.count == ran.count)
    let states = findings.compactMap { (($0["target"] as? [String: Any])?["status"] as? [String: Any])?["state"] as? String }
    #expect(states == ran.map { $0.status == .pass ? "satisfied" : "not-satisfied" })
    let hrefs = observations.flatMap { ($0["relevant-evidence"] as? [[String: Any]]) ?? [] }.compactMap { $0["href"] as? String }
    #expect(hrefs == ran.flatMap(\.artifacts).map { "\(run.bundleName)/\($0.path)" })
    #expect((result["remarks"] as? String)?.hasPrefix("Skipped: hr.policy-ack") == true)
  }

  @Test func uuidsAreVersionFiveAndStable() {
    let first = OSCALReport.uuid("bundle", "finding", "x")
    #expect(first == OSCALReport.uuid("bundle", "finding", "x"))
    #expect(first != OSCALReport.uuid("bundle", "finding", "y"))
    #expect(first.wholeMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/) != nil)
  }
}
