import Foundation
import Testing

@testable import VouchKit

/// Inputs of the `report-sla` collector beyond the main CSV export: the holidays file, a whole JSON document with
/// `records_path`, Basic authentication, business hours through the collector, and the separate updates file.
@Suite struct ReportSLAInputTests {
  typealias Fixture = ReportSLACollectorTests

  static func collect(
    _ parameters: [String: ParameterValue], _ run: Fixture.Run
  ) async throws -> [String: FactValue] {
    try await ReportSLACollector(parameters: Parameters(parameters)).collect(run.context).facts
  }

  @Test func holidaysFileSkipsCommentsAndBlankLinesAndNamesABadLine() async throws {
    let directory = try TestScratch.makeDirectory("holidays")
    let file = directory.appendingPathComponent("holidays.txt")
    try Data(
      """
      # Berlin, 2026

      2026-04-03   Good Friday
        2026-04-06 # Easter Monday
      2026-12-25#Christmas

      """.utf8
    ).write(to: file)
    #expect(
      try ReportSLACollector.readHolidays(file)
        == Set(["2026-04-03", "2026-04-06", "2026-12-25"].compactMap { CivilDate($0) }))

    // The same holidays from the file give the deadline the list gives: R-3's runs over Good Friday and Easter Monday.
    var parameters = try Fixture.csvParameters(["holidays_file": .string(file.path)])
    parameters["holidays"] = nil
    let run = try Fixture.Run()
    let facts = try await Self.collect(parameters, run)
    guard case .list(let overdue)? = facts["overdue_unanswered_details"], case .map(let r3)? = overdue.first else {
      Issue.record("no overdue report")
      return
    }
    #expect(r3["id"] == .string("R-3") && r3["deadline"] == .string("2026-04-07T22:00:00Z"))
    #expect(try run.harness.text("summary.json").contains("\"2026-04-06\""))

    let bad = directory.appendingPathComponent("bad.txt")
    try Data("2026-01-01\n# comment\n\n2026-02-30 not a day\n".utf8).write(to: bad)
    #expect {
      try ReportSLACollector.readHolidays(bad)
    } throws: { "\($0)" == "\(bad.path):4: '2026-02-30' is not a date such as 2026-12-25" }
    var badParameters = parameters
    badParameters["holidays_file"] = .string(bad.path)
    await #expect {
      _ = try await Self.collect(badParameters, try Fixture.Run())
    } throws: { "\($0)".contains("bad.txt:4: '2026-02-30'") }
  }

  @Test func wholeJSONDocumentReadsTheListAtRecordsPath() async throws {
    let directory = try TestScratch.makeDirectory("sla-json")
    let file = directory.appendingPathComponent("export.json")
    try Data(
      """
      {"exported": "2026-04-20", "result": {"reports": [
        {"key": "J-1", "opened": "2026-03-02T10:00:00+01:00", "replied": "2026-03-03T09:00:00+01:00"},
        {"key": "J-2", "opened": "2026-03-06T22:30:00+01:00", "replied": "2026-03-13T10:00:00+01:00"},
        "not a record",
        {"key": "J-3", "opened": "2026-03-09T10:00:00+01:00", "replied": ["2026-03-09T11:00:00+01:00"]}
      ]}}
      """.utf8
    ).write(to: file)
    var parameters: [String: ParameterValue] = [
      "path": .string(file.path),
      "format": .string("json"),
      "records_path": .string("result.reports"),
      "columns": .stringMap(["id": "key", "received_at": "opened", "first_response_at": "replied"]),
      "time_zone": .string("Europe/Berlin"),
      "from": .date(Date(timeIntervalSince1970: 1_772_323_200)),
    ]
    let run = try Fixture.Run()
    let facts = try await Self.collect(parameters, run)
    #expect(facts["reports_received"] == .integer(2))
    #expect(facts["first_responses_within_sla"] == .integer(1))
    #expect(Fixture.ids(facts["sla_breach_details"]) == ["J-2"])
    #expect(
      facts["rejected_row_reasons"]
        == .list(
          ["record 3: is not a JSON object", "record 4 (id J-3): first_response_at: expected one value, got a list"]
            .map(FactValue.string)))
    #expect(facts["input_sha256"] == .string(try Digest.sha256(fileAt: file).digest))

    parameters["records_path"] = .string("result.missing")
    await #expect {
      _ = try await Self.collect(parameters, try Fixture.Run())
    } throws: { "\($0)".contains("export.json: 'result.missing' is not a list of records; set records_path") }
  }

  @Test func basicAuthenticationSendsUserAndTokenBase64Encoded() async throws {
    let credentials = "vouch:basic-\(UUID().uuidString)"
    let encoded = Data(credentials.utf8).base64EncodedString()
    let nginx = try await NginxServer.start([
      .http(
        "api",
        [
          NginxServer.Location(
            "/export/",
            [
              "if ($http_authorization != \"Basic \(encoded)\") { return 401; }",
              "alias \(Fixture.fixtures.path)/", "types { }", "default_type \"text/csv\"",
            ])
        ])
    ])
    defer { nginx.stop() }
    let variable = "VOUCH_TEST_SLA_BASIC"
    var parameters = try Fixture.csvParameters([
      "url": .string(nginx.url("api", "/export/tracker-export.csv")),
      "auth_token_env": .string(variable),
      "auth_scheme": .string("Basic"),
    ])
    parameters["path"] = nil
    let run = try Fixture.Run(environment: [variable: credentials])
    let facts = try await Self.collect(parameters, run)
    #expect(facts["reports_received"] == .integer(5))
    #expect(facts["rejected_rows"] == .integer(6))
    let digest = try Digest.sha256(fileAt: Fixture.fixtures.appendingPathComponent("tracker-export.csv"))
    #expect(facts["input_sha256"] == .string(digest.digest))
    let artifacts = try run.harness.allArtifactText()
    #expect(!artifacts.contains(credentials) && !artifacts.contains(encoded))

    // The same token sent as a bearer token is refused, so the header above really was Basic.
    parameters["auth_scheme"] = .string("Bearer")
    await #expect {
      _ = try await Self.collect(parameters, try Fixture.Run(environment: [variable: credentials]))
    } throws: { "\($0)".contains("answered 401") }
  }

  /// docs/report-sla.md, "Friday night, hours 09:00-17:00", through the collector: received after closing on a
  /// Friday, the clock starts at Monday's opening.
  @Test func businessHoursStartTheClockAtTheNextOpening() async throws {
    let directory = try TestScratch.makeDirectory("sla-hours")
    let file = directory.appendingPathComponent("export.csv")
    try Data(
      """
      id,received,replied
      H-1,2026-03-06T22:30:00+01:00,2026-03-09T13:00:00+01:00
      H-2,2026-03-10T07:30:00+01:00,2026-03-13T17:00:01+01:00

      """.utf8
    ).write(to: file)
    let parameters: [String: ParameterValue] = [
      "path": .string(file.path),
      "columns": .stringMap(["id": "id", "received_at": "received", "first_response_at": "replied"]),
      "time_zone": .string("Europe/Berlin"),
      "business_hours": .string("09:00-17:00"),
      "from": .date(Date(timeIntervalSince1970: 1_772_323_200)),
    ]
    let run = try Fixture.Run()
    let facts = try await Self.collect(parameters, run)
    #expect(facts["reports_received"] == .integer(2))
    #expect(facts["first_responses_within_sla"] == .integer(1))
    #expect(
      facts["sla_breach_details"]
        == .list([
          .map([
            "id": .string("H-2"), "received_at": .string("2026-03-10T06:30:00Z"),
            "deadline": .string("2026-03-13T16:00:00Z"), "responded_at": .string("2026-03-13T16:00:01Z"),
            "business_days_late": .number(0),
          ])
        ]))
    let rows = try run.harness.text("reports.csv").split(separator: "\n")
    let h1 = try #require(rows.first { $0.hasPrefix("H-1,") }).split(separator: ",", omittingEmptySubsequences: false)
    #expect(h1[2] == "2026-03-09T08:00:00Z" && h1[3] == "2026-03-12T16:00:00Z")
    #expect(h1[5] == "0.500" && h1[6] == "within")
    let summary = try run.harness.text("summary.json")
    #expect(summary.contains("09:00-17:00"), "\(summary)")
  }

  static func updatesParameters(
    _ run: Fixture.Run, _ extra: [String: ParameterValue] = [:]
  ) throws -> [String: ParameterValue] {
    // A relative path, resolved from the run's base directory.
    try FileManager.default.copyItem(
      at: Fixture.fixtures.appendingPathComponent("updates.csv"),
      to: run.harness.bundle.appendingPathComponent("updates.csv"))
    let updates: [String: ParameterValue] = [
      "updates_file": .string("updates.csv"),
      "updates_columns": .stringMap(["id": "Report", "at": "Updated at"]),
    ]
    return try Fixture.csvParameters(updates.merging(extra) { $1 })
  }

  @Test func updatesFileMergesTimestampsAndRejectsBadRowsAndUnknownIDs() async throws {
    let run = try Fixture.Run()
    let parameters = try Self.updatesParameters(run, ["store_raw_input": .boolean(true)])
    let facts = try await Self.collect(parameters, run)
    #expect(facts["reports_received"] == .integer(5))
    // R-3 was silent for 12.167 business days; two updates split that into 4, 4 and 4.167.
    #expect(facts["update_cadence_breaches"] == .integer(0))
    #expect(Fixture.ids(facts["update_cadence_breach_ids"]).isEmpty)
    let rows = try run.harness.text("reports.csv").split(separator: "\n")
    let r3 = try #require(rows.first { $0.hasPrefix("R-3,") }).split(separator: ",", omittingEmptySubsequences: false)
    #expect(r3[13] == "4.167")
    #expect(r3[16] == "timestamp-without-offset")
    #expect(facts["timestamps_without_offset"] == .integer(2))
    let hint = RecordValidator.timestampHint
    #expect(
      facts["rejected_row_reasons"]
        == .list(
          [
            "updates.csv row 7: id: missing or empty (required)",
            "updates.csv row 8 (id R-2): at: 'soon' is not a timestamp (\(hint))",
            "updates.csv row 9: has 2 fields; the header has 3 (unquoted comma or line break?)",
            "updates.csv row 4 (id R-1): at: 2026-03-01T09:00:00Z is before received_at 2026-03-02T09:00:00Z (row 2)",
            "row 6 (id R-5): received_at: 'yesterday' is not a timestamp (\(hint))",
            "row 7 (id R-6): first_response_at: 2026-03-15T09:00:00Z is before received_at 2026-03-16T09:00:00Z",
            "row 8 (id R-1): id: duplicates row 2",
            "row 9 (id R-7): credit: 'maybe' is neither credit nor anonymous (also accepted: yes/no, true/false)",
            "row 12: has 3 fields; the header has 11 (unquoted comma or line break?)",
            "row 13: id: missing or empty (required)",
            "updates.csv row 5 (id R-99): id: no report 'R-99' in the export",
            "updates.csv row 6 (id R-5): id: report 'R-5' was rejected (row 6)",
          ].map(FactValue.string)))
    #expect(facts["rejected_rows"] == .integer(12))
    #expect(try run.harness.text("rejected.csv").split(separator: "\n").count == 13)

    let updates = Fixture.fixtures.appendingPathComponent("updates.csv")
    let digest = try Digest.sha256(fileAt: updates)
    let input = try JSONSerialization.jsonObject(with: Data(contentsOf: run.harness.file("input.json")))
    let recorded = try #require((input as? [String: Any])?["updatesFile"] as? [String: Any])
    #expect(recorded["source"] as? String == "updates.csv")
    #expect(recorded["sha256"] as? String == digest.digest && recorded["size"] as? Int == digest.size)
    let export = try Digest.sha256(fileAt: Fixture.fixtures.appendingPathComponent("tracker-export.csv"))
    #expect(facts["input_sha256"] == .string(export.digest))
    let copy = try #require(run.harness.artifacts.records.first { $0.path.hasSuffix("/raw-updates") })
    #expect(copy.sha256 == digest.digest)
  }

  /// A syntax error in the updates file names that file, so it is not taken for a row of the export.
  @Test func syntaxErrorInTheUpdatesFileNamesIt() async throws {
    let run = try Fixture.Run()
    let parameters = try Self.updatesParameters(run)
    let copy = run.harness.bundle.appendingPathComponent("updates.csv")
    var text = try String(contentsOf: copy, encoding: .utf8)
    text += "R-3,\"2026-03-20T09:00:00Z\"x,note\n"
    try Data(text.utf8).write(to: copy)
    let row = text.split(separator: "\n", omittingEmptySubsequences: false).count - 1
    await #expect {
      _ = try await Self.collect(parameters, run)
    } throws: {
      "\($0)" == "updates.csv row \(row): a quoted field is followed by 'x' instead of a comma or line end "
        + "(RFC 4180: quotes inside a field are doubled)"
    }
  }

  @Test func updatesFileProblemsNameTheFileOrTheParameter() async throws {
    let run = try Fixture.Run()
    var parameters = try Self.updatesParameters(run)
    parameters["updates_columns"] = .stringMap(["id": "Report", "at": "When"])
    await #expect {
      _ = try await Self.collect(parameters, run)
    } throws: {
      "\($0)".contains("updates.csv (updates_file): the header has no column 'When' (mapped to at); columns: Report")
    }

    func problem(_ change: [String: ParameterValue?]) throws -> String? {
      var values = try Fixture.csvParameters()
      for (key, value) in change { values[key] = value }
      do {
        _ = try ReportSLACollector(parameters: Parameters(values))
        return nil
      } catch {
        return error.description
      }
    }
    #expect(try problem(["updates_file": .string("u.csv")])?.hasPrefix("updates_columns: map id and at") == true)
    #expect(
      try problem(["updates_file": .string("u.csv"), "updates_columns": .stringMap(["id": "Report"])])?
        .hasPrefix("updates_columns: map at to a column") == true)
    #expect(
      try problem(["updates_file": .string("u.csv"), "updates_columns": .stringMap(["id": "a", "at": "b", "by": "c"])])?
        .hasPrefix("updates_columns: 'by' is not a key") == true)
    #expect(
      try problem(["updates_columns": .stringMap(["id": "a", "at": "b"])])?
        .hasPrefix("updates_columns: is only used with `updates_file`") == true)
    #expect(
      try problem(["updates_file": .string("u.csv"), "updates_columns": .stringMap(["id": "a", "at": "b"])]) == nil)
  }
}
