import Foundation
import Logging
import Testing

@testable import VouchKit

/// The `report-sla` collector on fixture exports: facts worked out by hand (docs/report-sla.md), rejected rows with
/// their reasons, HackerOne pages over HTTP, the acknowledgments check, and confidentiality of reporters.
@Suite struct ReportSLACollectorTests {
  static let fixtures = Repository.file("Tests/VouchKitTests/Fixtures/report-sla")
  static let now = Date(timeIntervalSince1970: 1_776_686_400)  // 2026-04-20T12:00:00Z, a Monday
  static let identities = [
    "alice@example.org", "Alice Liddell", "bob@example.net", "Tables, Bobby", "Bobby", "carol@example.com",
    "Carol Danvers", "dave@example.org", "Dave Lister", "erin@example.org", "Erin Hunter", "frank@example.org",
    "grace@example.org", "Grace Hopper", "heidi@example.org", "ivan@example.org", "judy@example.org", "Judy Hopps",
    "mallory@example.org", "Mallory Knox", "wonderland_alice", "bobby_tables", "carol_d",
  ]

  /// A harness whose clock reads `now`, for windows and overdue reports.
  struct Run {
    let harness: CollectorHarness
    let context: CollectionContext

    init(secrets: [String] = [], environment: [String: String] = [:]) throws {
      harness = try CollectorHarness(secrets: secrets)
      let base = harness.context
      context = CollectionContext(
        controlID: base.controlID, artifacts: base.artifacts, http: base.http, clock: FixedClock(ReportSLACollectorTests.now),
        redactor: base.redactor, logger: base.logger, baseDirectory: base.baseDirectory, environment: environment)
    }
  }

  static func keyFile() throws -> URL {
    let file = try TestScratch.makeDirectory("key").appendingPathComponent("pseudonym.key")
    try Data("0123456789abcdef0123456789abcdef\n".utf8).write(to: file)
    return file
  }

  static func csvParameters(_ extra: [String: ParameterValue] = [:]) throws -> [String: ParameterValue] {
    var values: [String: ParameterValue] = [
      "path": .string(fixtures.appendingPathComponent("tracker-export.csv").path),
      "columns": .stringMap([
        "id": "Report ID", "received_at": "Created", "first_response_at": "First reply", "updates": "Updates",
        "resolved_at": "Resolved", "disclosed_at": "Disclosed", "severity": "Severity", "state": "Status",
        "reporter": "Reporter email", "credit_name": "Credit name", "credit": "Credit",
      ]),
      "time_zone": .string("Europe/Berlin"),
      "holidays": .stringList(["2026-04-03", "2026-04-06"]),
      "from": .date(Date(timeIntervalSince1970: 1_772_323_200)),  // 2026-03-01
      "resolution_targets": .stringMap(["critical": "5", "high": "20"]),
      "pseudonym_key_file": .string(try keyFile().path),
    ]
    values.merge(extra) { $1 }
    return values
  }

  static func number(_ facts: [String: FactValue], _ name: String) -> Double? { facts[name]?.numeric }

  static func ids(_ fact: FactValue?) -> [String] {
    guard case .list(let items)? = fact else { return [] }
    return items.compactMap {
      if case .string(let id) = $0 { return id }
      if case .map(let entry) = $0, case .string(let id)? = entry["id"] { return id }
      return nil
    }
  }

  static func acknowledgmentsServer() async throws -> NginxServer {
    try await NginxServer.start([
      .http("site", [.files("/thanks/", directory: fixtures, contentType: "text/html")])
    ])
  }

  @Test func csvExportGivesHandWorkedFactsAndRejectsBadRowsWithReasons() async throws {
    let nginx = try await Self.acknowledgmentsServer()
    defer { nginx.stop() }
    let run = try Run()
    let parameters = try Self.csvParameters([
      "acknowledgments_url": .string(nginx.url("site", "/thanks/acknowledgments.html"))
    ])
    let output = try await ReportSLACollector(parameters: Parameters(parameters)).collect(run.context)
    let facts = output.facts

    #expect(facts["reports_received"] == .integer(5))
    #expect(facts["reports_outside_window"] == .integer(1))
    #expect(facts["first_responses_within_sla"] == .integer(2))
    #expect(facts["sla_breaches"] == .integer(1))
    #expect(facts["overdue_unanswered"] == .integer(1))
    #expect(facts["reports_pending"] == .integer(1))
    #expect(facts["first_response_sla_ratio"] == .number(0.5))
    #expect(
      facts["sla_breach_details"]
        == .list([
          .map([
            "id": .string("R-2"), "received_at": .string("2026-03-06T21:30:00Z"),
            "deadline": .string("2026-03-11T23:00:00Z"), "responded_at": .string("2026-03-13T09:00:00Z"),
            "business_days_late": .number(1.417),
          ])
        ]))
    #expect(
      facts["overdue_unanswered_details"]
        == .list([
          .map([
            "id": .string("R-3"), "received_at": .string("2026-03-31T08:00:00Z"),
            "deadline": .string("2026-04-07T22:00:00Z"), "business_days_overdue": .number(8.583),
          ])
        ]))
    #expect(facts["first_response_p50_business_days"] == .number(0.958))
    #expect(facts["first_response_p90_business_days"] == .number(3.775))
    #expect(facts["first_response_max_business_days"] == .number(4.479))
    #expect(facts["longest_update_gap_business_days"] == .number(12.167))
    #expect(facts["update_cadence_breaches"] == .integer(1))
    #expect(Self.ids(facts["update_cadence_breach_ids"]) == ["R-3"])
    #expect(facts["resolution_target_breaches"] == .integer(1))
    #expect(facts["resolution_by_severity"]?.value(at: ["critical", "max_business_days"]) == .number(9.479))
    #expect(facts["resolution_by_severity"]?.value(at: ["high", "p50_business_days"]) == .number(10))
    #expect(facts["resolution_by_severity"]?.value(at: ["low", "p50_business_days"]) == .number(1))
    #expect(facts["disclosed_before_resolved"] == .integer(1))
    #expect(Self.ids(facts["disclosed_before_resolved_ids"]) == ["R-4"])
    #expect(facts["missing_acknowledgments"] == .integer(1))
    #expect(Self.ids(facts["missing_acknowledgment_ids"]) == ["R-2"])
    #expect(facts["timestamps_without_offset"] == .integer(1))
    #expect(facts["rejected_rows"] == .integer(6))
    #expect(
      facts["rejected_row_reasons"]
        == .list(
            [
              "row 6 (id R-5): received_at: 'yesterday' is not a timestamp (\(RecordValidator.timestampHint))",
              "row 7 (id R-6): first_response_at: 2026-03-15T09:00:00Z is before received_at 2026-03-16T09:00:00Z",
              "row 8 (id R-1): id: duplicates row 2",
              "row 9 (id R-7): credit: 'maybe' is neither credit nor anonymous (also accepted: yes/no, true/false)",
              "row 12: has 3 fields; the header has 11 (unquoted comma or line break?)",
              "row 13: id: missing or empty (required)",
            ].map(FactValue.string)))
    #expect(Set(facts.keys) == Set(ReportSLACollector.facts.map(\.name)))

    let file = Self.fixtures.appendingPathComponent("tracker-export.csv")
    let digest = try Digest.sha256(fileAt: file)
    #expect(facts["input_sha256"] == .string(digest.digest))
    #expect(facts["input_size"] == .integer(digest.size))
    for record in run.harness.artifacts.records {
      let name = String(record.path.dropFirst("controls/\(CollectorHarness.controlID)/".count))
      let onDisk = try Digest.sha256(fileAt: run.harness.file(name))
      #expect(onDisk.digest == record.sha256 && onDisk.size == record.size, "\(record.path)")
    }
    #expect(
      Set(run.harness.artifacts.records.map(\.path))
        == Set(
          ["reports.csv", "rejected.csv", "input.json", "acknowledgments.json", "summary.json"].map(
            run.harness.artifacts.bundlePath(of:))))

    let rows = try run.harness.text("reports.csv").split(separator: "\n").map(String.init)
    #expect(rows.count == 6)
    #expect(rows[0] == ReportSLARun.reportColumns.joined(separator: ","))
    let r2 = try #require(rows.first { $0.hasPrefix("R-2,") }).split(separator: ",", omittingEmptySubsequences: false)
    // Whole-day calendar: Friday 22:30 is still business time, so the clock starts at receipt.
    #expect(r2[2] == "2026-03-06T21:30:00Z" && r2[3] == "2026-03-11T23:00:00Z" && r2[5] == "4.479")
    #expect(r2[6] == "breach" && r2[7] == "1.417" && r2[14].hasPrefix("rp-") && r2[14].count == 27)
    #expect(try #require(rows.first { $0.hasPrefix("R-4,") }).hasSuffix(",anonymous,timestamp-without-offset"))
    #expect(try run.harness.text("rejected.csv").split(separator: "\n").count == 7)
    #expect(try run.harness.allArtifactText().contains(digest.digest))
    try Self.expectNoIdentity(in: run.harness, facts: facts)
  }

  /// Every artifact and every fact is scanned for every identity string of the input.
  static func expectNoIdentity(in harness: CollectorHarness, facts: [String: FactValue]) throws {
    let artifacts = try harness.allArtifactText().lowercased()
    let rendered = facts.values.map(\.rendered).joined(separator: "\n").lowercased()
    for identity in identities {
      #expect(!artifacts.contains(identity.lowercased()), "\(identity) leaked into an artifact")
      #expect(!rendered.contains(identity.lowercased()), "\(identity) leaked into a fact")
    }
  }

  @Test func pseudonymsAreStableForOneKeyAndDifferForAnother() throws {
    let first = try Pseudonymizer(key: Data("0123456789abcdef0123456789abcdef".utf8))
    let again = try Pseudonymizer(key: Data("0123456789abcdef0123456789abcdef".utf8))
    let other = try Pseudonymizer(key: Data("fedcba9876543210fedcba9876543210".utf8))
    #expect(first.pseudonym(for: "alice@example.org") == again.pseudonym(for: " Alice@Example.org "))
    #expect(first.pseudonym(for: "alice@example.org") != other.pseudonym(for: "alice@example.org"))
    #expect(first.pseudonym(for: "alice@example.org") != first.pseudonym(for: "bob@example.net"))
    #expect(throws: ReportSLAError.self) { try Pseudonymizer(key: Data("short".utf8)) }
  }

  @Test func jsonLinesExportMapsNestedPathsAndRejectsWrongTypes() async throws {
    let run = try Run()
    let parameters: [String: ParameterValue] = [
      "path": .string(Self.fixtures.appendingPathComponent("tracker-export.jsonl").path),
      "format": .string("jsonl"),
      "columns": .stringMap([
        "id": "key", "received_at": "timeline.opened", "first_response_at": "timeline.first_reply",
        "resolved_at": "timeline.closed", "updates": "updates", "severity": "severity", "reporter": "reporter.email",
        "credit_name": "reporter.display", "credit": "reporter.credit",
      ]),
      "time_zone": .string("Europe/Berlin"),
      "from": .date(Date(timeIntervalSince1970: 1_772_323_200)),
    ]
    let output = try await ReportSLACollector(parameters: Parameters(parameters)).collect(run.context)
    let facts = output.facts
    #expect(facts["reports_received"] == .integer(2))
    #expect(facts["first_responses_within_sla"] == .integer(1))
    #expect(Self.ids(facts["sla_breach_details"]) == ["SEC-2"])
    #expect(facts["missing_acknowledgments"] == nil)
    #expect(
      facts["rejected_row_reasons"]
        == .list(
          [
            "line 4 (id SEC-3): received_at: '1772442000' is not a timestamp (\(RecordValidator.timestampHint))",
            "line 5: is not a JSON object",
            "line 6 (id 4): severity: expected text, got an object",
          ].map(FactValue.string)))
    // Without a pseudonym key, identities are dropped rather than pseudonymised.
    let rows = try run.harness.text("reports.csv").split(separator: "\n")
    #expect(rows.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false)[14].isEmpty })
    try Self.expectNoIdentity(in: run.harness, facts: facts)
  }

  @Test func hackerOnePagesAreFollowedOverHTTPWithTheTokenNeverWritten() async throws {
    let token = "h1-token-\(UUID().uuidString)"
    let variable = "VOUCH_TEST_H1_TOKEN"
    let pages = try TestScratch.makeDirectory("h1")
    let nginx = try await NginxServer.start([
      .http(
        "api",
        [
          NginxServer.Location(
            "/h1/",
            [
              "if ($http_authorization != \"Bearer \(token)\") { return 401; }", "alias \(pages.path)/", "types { }",
              "default_type \"application/json\"",
            ]),
          .text("= /login", body: "<html><body>Sign in</body></html>", contentType: "text/html"),
        ]),
      .http("site", [.files("/thanks/", directory: Self.fixtures, contentType: "text/html")]),
    ])
    defer { nginx.stop() }
    for page in ["page-1", "page-2"] {
      let text = try String(
        contentsOf: Self.fixtures.appendingPathComponent("hackerone-\(page).json"), encoding: .utf8)
      try Data(text.replacingOccurrences(of: "{{BASE}}", with: nginx.url("api", "")).utf8)
        .write(to: pages.appendingPathComponent("\(page).json"))
    }
    let parameters: [String: ParameterValue] = [
      "url": .string(nginx.url("api", "/h1/page-1.json")),
      "format": .string("hackerone"),
      "auth_token_env": .string(variable),
      "time_zone": .string("Europe/Berlin"),
      "holidays": .stringList(["2026-04-03", "2026-04-06"]),
      "from": .date(Date(timeIntervalSince1970: 1_772_323_200)),
      "acknowledgments_url": .string(nginx.url("site", "/thanks/acknowledgments.html")),
      "pseudonym_key_file": .string(try Self.keyFile().path),
    ]
    let run = try Run(environment: [variable: token])
    let output = try await ReportSLACollector(parameters: Parameters(parameters)).collect(run.context)
    let facts = output.facts
    #expect(facts["reports_received"] == .integer(3))
    #expect(facts["first_responses_within_sla"] == .integer(1))
    #expect(Self.ids(facts["sla_breach_details"]) == ["2002"])
    #expect(Self.ids(facts["overdue_unanswered_details"]) == ["2003"])
    #expect(Self.ids(facts["disclosed_before_resolved_ids"]) == ["2002"])
    #expect(Self.ids(facts["missing_acknowledgment_ids"]) == ["2002"])
    #expect(facts["first_response_p50_business_days"] == .number(2.375))
    #expect(facts["rejected_rows"] == .integer(0))
    let input = try run.harness.text("input.json")
    #expect(input.contains("page-1.json") && input.contains("page-2.json"))
    let artifacts = try run.harness.allArtifactText()
    #expect(!artifacts.contains(token))
    #expect(!facts.values.map(\.rendered).joined().contains(token))
    try Self.expectNoIdentity(in: run.harness, facts: facts)

    var unauthenticated = parameters
    unauthenticated["auth_token_env"] = nil
    await #expect {
      _ = try await ReportSLACollector(parameters: Parameters(unauthenticated)).collect(try Run().context)
    } throws: { "\($0)".contains("answered 401") }

    var html = parameters
    html["url"] = .string(nginx.url("api", "/login"))
    html["auth_token_env"] = nil
    await #expect {
      _ = try await ReportSLACollector(parameters: Parameters(html)).collect(try Run().context)
    } throws: { "\($0)".contains("text/html instead of JSON") }
  }

  @Test func rawInputIsCopiedOnlyWhenTheControlOptsIn() async throws {
    let file = Self.fixtures.appendingPathComponent("tracker-export.csv")
    let without = try Run()
    _ = try await ReportSLACollector(parameters: Parameters(try Self.csvParameters())).collect(without.context)
    #expect(!without.harness.artifacts.records.contains { $0.path.contains("raw-input") })

    let with = try Run()
    _ = try await ReportSLACollector(parameters: Parameters(try Self.csvParameters(["store_raw_input": .boolean(true)])))
      .collect(with.context)
    let copy = try #require(with.harness.artifacts.records.first { $0.path.hasSuffix("/raw-input-1") })
    #expect(copy.sha256 == (try Digest.sha256(fileAt: file)).digest)
    #expect(try Data(contentsOf: with.harness.file("raw-input-1")) == Data(contentsOf: file))
  }

  @Test func missingColumnIsNamedWithTheColumnsFound() async throws {
    var parameters = try Self.csvParameters()
    parameters["columns"] = .stringMap(["id": "Report ID", "received_at": "Opened"])
    await #expect {
      _ = try await ReportSLACollector(parameters: Parameters(parameters)).collect(try Run().context)
    } throws: { error in
      "\(error)".contains("the header has no column 'Opened' (mapped to received_at); columns: Report ID, Created")
    }
  }

  @Test func parameterProblemsNameTheParameter() throws {
    func problem(_ change: [String: ParameterValue?]) throws -> String? {
      var values = try Self.csvParameters()
      for (key, value) in change { values[key] = value }
      do {
        _ = try ReportSLACollector(parameters: Parameters(values))
        return nil
      } catch {
        return error.description
      }
    }
    #expect(try problem(["columns": .stringMap(["id": "Report ID"])])?.hasPrefix("columns: map the required") == true)
    #expect(try problem(["columns": .stringMap(["id": "a", "received_at": "b", "owner": "c"])])?.contains("'owner'") == true)
    #expect(try problem(["time_zone": .string("Mars/Olympus")])?.hasPrefix("time_zone:") == true)
    #expect(try problem(["weekend": .stringList(["caturday"])])?.hasPrefix("weekend:") == true)
    #expect(try problem(["holidays": .stringList(["2026-02-30"])])?.hasPrefix("holidays:") == true)
    #expect(try problem(["business_hours": .string("17:00-09:00")])?.hasPrefix("business_hours:") == true)
    #expect(try problem(["url": .string("https://example.org/export")])?.hasPrefix("path:") == true)
    #expect(try problem(["last": .duration(86_400)])?.hasPrefix("last:") == true)
    #expect(try problem(["format": .string("xml")])?.hasPrefix("format:") == true)
    #expect(try problem([:]) == nil)
  }

  /// `vouch validate` reports an unmapped required field at its line; `vouch run` seals a bundle in which no file
  /// names a reporter.
  @Test func validateAndRunThroughTheCommandLine() async throws {
    let work = try TestScratch.makeDirectory("sla-cli")
    let controls = work.appendingPathComponent("controls")
    try FileManager.default.createDirectory(at: controls, withIntermediateDirectories: true)
    let export = Self.fixtures.appendingPathComponent("tracker-export.csv").path
    func control(_ columns: String) -> String {
      """
      id: report-sla
      title: Vulnerability reports answered within three business days
      description: First responses, updates, credit and disclosure as promised to reporters.
      criteria: [CC7.3, CC7.4]
      owner: Security team
      severity: high
      frequency: monthly
      collector:
        kind: report-sla
        path: \(export)
        columns: \(columns)
        time_zone: Europe/Berlin
        from: 2026-03-01
        pseudonym_key_env: VOUCH_TEST_SLA_KEY
      expect:
        - fact: rejected_rows
          at-least: 0
      """
    }
    let file = controls.appendingPathComponent("sla.yaml")
    try Data(control("{id: Report ID}").utf8).write(to: file)
    let invalid = try await Self.vouch(["validate", "controls"], in: work)
    #expect(invalid.status == 3)
    #expect(invalid.output.contains("collector.columns: map the required field(s) received_at"), "\(invalid.output)")

    let mapping = "{id: Report ID, received_at: Created, first_response_at: First reply, reporter: Reporter email, "
      + "credit_name: Credit name}"
    try Data(control(mapping).utf8).write(to: file)
    let ran = try await Self.vouch(["run", "--controls", "controls"], in: work)
    #expect(ran.status == 0, "\(ran.output)")
    let evidence = work.appendingPathComponent("evidence")
    let enumerator = try #require(FileManager.default.enumerator(at: evidence, includingPropertiesForKeys: nil))
    var scanned = 0
    for case let url as URL in enumerator where !url.hasDirectoryPath {
      let text = String(decoding: try Data(contentsOf: url), as: UTF8.self).lowercased()
      scanned += 1
      for identity in Self.identities { #expect(!text.contains(identity.lowercased()), "\(identity) in \(url.path)") }
    }
    #expect(scanned >= 8)
  }

  static func vouch(_ arguments: [String], in directory: URL) async throws -> AsyncCommand.Finished {
    try await AsyncCommand.run(
      Repository.vouchExecutable, arguments, in: directory,
      environment: ProcessInfo.processInfo.environment.merging(["VOUCH_TEST_SLA_KEY": "k3y-for-tests-0123456789"]) {
        $1
      })
  }
}
