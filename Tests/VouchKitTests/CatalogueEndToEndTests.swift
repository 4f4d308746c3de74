import Foundation
import Logging
import Testing

@testable import VouchKit

/// The shipped catalogue (`controls/`), run through the real loader, runner, bundle and reports against nginx on
/// 127.0.0.1 serving the demo site — the same path `scripts/demo.sh` takes.
@Suite struct CatalogueEndToEndTests {
  @Test func shippedCatalogueValidatesWithProductionVariables() throws {
    let catalog = try ControlLoader(environment: [:]).load(
      directory: Repository.file("controls"), variables: Repository.file("vars/production.yaml"))
    #expect(catalog.warnings.isEmpty)
    #expect(
      catalog.controls.map(\.id) == [
        "acknowledgments-published", "disclosure-policy-published", "hosting-provider-soc2-report",
        "http-redirects-to-https.api", "http-redirects-to-https.console", "http-redirects-to-https.www",
        "https-endpoint.api", "https-endpoint.console", "https-endpoint.www", "security-txt-published.api",
        "security-txt-published.console", "security-txt-published.www", "tls-configuration.api",
        "tls-configuration.console", "tls-configuration.www", "vulnerability-handling-procedure",
        "vulnerability-report-promises", "vulnerability-sla-review",
      ])
  }

  /// Mozilla's intermediate cipher list (TLS 1.2), as the demo's www server uses it.
  static let intermediateCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    + "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

  /// The demo site: www with intermediate TLS, HSTS and the security pages; api with nginx's default ciphers and no
  /// HSTS; plain HTTP redirects to HTTPS. security.txt is rendered from the demo's template for these addresses.
  func startDemoSite(now: Date) async throws -> NginxServer {
    let identity = try TestCertificates.shared().caSigned
    let hsts = [("Strict-Transport-Security", "max-age=63072000; includeSubDomains")]
    let template = try Repository.text("demo/site/security.txt.in")
    let securityTxt = { (www: String, api: String) in
      template.replacingOccurrences(of: "@WWW@", with: www).replacingOccurrences(of: "@API@", with: api)
        .replacingOccurrences(of: "@EXPIRES@", with: Timestamp.format(now.addingTimeInterval(180 * 86_400)))
    }
    // Addresses are known only once nginx has its ports, so the file is served from a folder filled afterwards.
    let site = try TestScratch.makeDirectory("demo-site")
    let nginx = try await NginxServer.start([
      .https(
        "www", identity,
        [
          .text("= /", body: "home", contentType: "text/html", headers: hsts),
          .files("/.well-known/", directory: site, contentType: "text/plain; charset=utf-8"),
          .text("= /security", body: try Repository.text("demo/site/security.html"), contentType: "text/html"),
          .text(
            "= /security/acknowledgments", body: try Repository.text("demo/site/acknowledgments.html"),
            contentType: "text/html"),
        ],
        directives: [
          "ssl_protocols TLSv1.2 TLSv1.3", "ssl_ciphers \(Self.intermediateCiphers)",
          "ssl_ecdh_curve X25519:prime256v1:secp384r1",
        ]),
      .http("www-http", [.redirect("/", to: "{url:www}$request_uri")]),
      .https(
        "api", identity,
        [
          .text("= /", body: "{}", contentType: "application/json"),
          .files("/.well-known/", directory: site, contentType: "text/plain; charset=utf-8"),
        ],
        directives: ["ssl_protocols TLSv1.2 TLSv1.3"]),
      .http("api-http", [.redirect("/", to: "{url:api}$request_uri")]),
    ])
    try Data(securityTxt(nginx.url("www", "/"), nginx.url("api", "/")).utf8)
      .write(to: site.appendingPathComponent("security.txt"))
    return nginx
  }

  func variables(_ nginx: NginxServer, caBundle: URL, work: URL, now: Date) throws -> String {
    func daysAgo(_ days: Double) -> String { String(Timestamp.format(now.addingTimeInterval(-days * 86_400)).prefix(10)) }
    func at(_ days: Double, hour: Double) -> String {
      let midnight = Timestamp.parse(daysAgo(days) + "T00:00:00Z")!
      return Timestamp.format(midnight.addingTimeInterval(hour * 3_600))
    }
    let export = work.appendingPathComponent("vulnerability-reports.csv")
    try Data(
      """
      Report ID,Created,First reply,Updates,Resolved,Disclosed,Severity,Status,Reporter email,Credit name,Credit
      R-1,\(at(40, hour: 10)),\(at(39, hour: 9)),\(at(35, hour: 9)),\(at(30, hour: 9)),\(at(20, hour: 9)),High,Resolved,a.researcher@example.org,A. Researcher,credit
      R-2,\(at(20, hour: 10)),\(at(19, hour: 9)),\(at(15, hour: 9));\(at(10, hour: 9));\(at(5, hour: 9));\(at(2, hour: 9)),,,Medium,Triaged,b.finder@example.net,,anonymous
      R-3,\(at(8, hour: 10)),\(at(7, hour: 9)),,\(at(3, hour: 9)),,Low,Resolved,c.tester@example.com,,anonymous

      """.utf8
    ).write(to: export)
    let www = nginx.url("www", "/")
    let api = nginx.url("api", "/")
    return """
      vars:
        security_owner: Security team
        platform_owner: Platform team
        compliance_owner: Compliance lead
        security_lead: Head of Security
        security_mailbox: security@example.com
        security_contact: mailto:security@example.com
        security_page_url: \(nginx.url("www", "/security"))
        acknowledgments_url: \(nginx.url("www", "/security/acknowledgments"))
        ca_bundle: \(caBundle.path)
        sla_review_file: \(Repository.file("demo/documents/vulnerability-sla-review.txt").path)
        sla_reviewed_at: \(daysAgo(40))
        procedure_file: \(Repository.file("demo/documents/vulnerability-handling-procedure.txt").path)
        procedure_reviewed_at: \(daysAgo(200))
        hosting_report_file: \(Repository.file("demo/documents/aws-soc2-type2-report.txt").path)
        hosting_report_reviewed_at: \(daysAgo(90))
        security_txt_min_days: 30
        tls_profile: intermediate
        tls_min_days_left: 1
        vulnerability_reports_export: \(export.path)
        security_time_zone: Europe/Berlin
        security_holidays_file: \(Repository.file("demo/documents/holidays.txt").path)
      targets:
        www:
          host: 127.0.0.1
          tls_port: \(nginx.ports["www"] ?? 0)
          https_url: \(www)
          http_url: \(nginx.url("www-http", "/"))
        api:
          host: 127.0.0.1
          tls_port: \(nginx.ports["api"] ?? 0)
          https_url: \(api)
          http_url: \(nginx.url("api-http", "/"))
      """
  }

  @Test func shippedCatalogueRunsAgainstTheDemoSiteIntoAVerifiedBundleAndValidReports() async throws {
    // The test certificates live two days (hence tls_min_days_left: 1). They are made with the real time, and the TLS scan checks them against the run's clock: run "now".
    // Made before the clock is read: a certificate made in the next second would not yet be valid at "now".
    _ = try TestCertificates.shared()
    let now = Timestamp.parse(Timestamp.format(Date()))!
    let nginx = try await startDemoSite(now: now)
    defer { nginx.stop() }
    let work = try TestScratch.makeDirectory("catalogue")
    let varsFile = work.appendingPathComponent("vars.yaml")
    let caBundle = try TestCertificates.shared().caCertificate
    try Data(variables(nginx, caBundle: caBundle, work: work, now: now).utf8).write(to: varsFile)

    let catalog = try ControlLoader(environment: [:]).load(directory: Repository.file("controls"), variables: varsFile)
    let environment = RunEnvironment(
      clock: FixedClock(now), variables: ["VOUCH_PSEUDONYM_KEY": "end-to-end-test-pseudonym-key"], hostname: "e2e",
      toolVersion: "0.0.0-test", makeRunID: { "e2e00001" })
    let options = RunOptions(
      evidenceDirectory: work.appendingPathComponent("evidence"), concurrency: 4, timeout: 20,
      controlsDirectory: "controls", variablesFile: varsFile.path, baseDirectory: Repository.root)
    let outcome = try await Runner(environment: environment, logger: Logger(label: "e2e")).run(catalog, options: options)

    let statuses = Dictionary(uniqueKeysWithValues: outcome.record.results.map { ($0.id, $0.status) })
    #expect(
      statuses == [
        "acknowledgments-published": .pass, "disclosure-policy-published": .pass,
        "hosting-provider-soc2-report": .pass, "http-redirects-to-https.api": .pass,
        "http-redirects-to-https.www": .pass, "https-endpoint.api": .fail, "https-endpoint.www": .pass,
        "security-txt-published.api": .pass, "security-txt-published.www": .pass,
        "tls-configuration.www": .pass, "tls-configuration.api": .fail,
        "vulnerability-handling-procedure": .pass, "vulnerability-report-promises": .pass,
        // Reviewed 40 days before the run: older than the 35 days the control allows.
        "vulnerability-sla-review": .fail,
      ])
    let byID = Dictionary(uniqueKeysWithValues: outcome.record.results.map { ($0.id, $0) })
    #expect(byID["https-endpoint.api"]?.findings.map(\.message) == [
      "fact 'headers.strict-transport-security' is absent, expected matches max-age=(3[1-9][0-9]{6}|[4-9][0-9]{7}|[0-9]{9,})"
    ])
    #expect(byID["vulnerability-sla-review"]?.findings.map(\.message) == ["age_days is 40, expected at-most 35"])
    #expect(byID["http-redirects-to-https.www"]?.facts["redirect_count"] == .integer(1))

    let verification = try Verifier().verify(options.evidenceDirectory)
    #expect(verification.isIntact, "\(verification.problems)")
    let written = try ReportWriter(clock: environment.clock).write(
      outcome.record, to: work.appendingPathComponent("reports"), bundle: outcome.bundle)
    let xml = try #require(written.reports.first { $0.pathExtension == "xml" })
    #expect(XMLSchemaValidation.errors(in: try Data(contentsOf: xml), schema: ReportFixtures.schema) == [])
    let html = try String(contentsOf: try #require(written.reports.first { $0.pathExtension == "html" }), encoding: .utf8)
    #expect(html.contains("https-endpoint.api"))
    // Every evidence file of the bundle is linked from the report with its digest.
    for artifact in outcome.record.results.flatMap(\.artifacts) {
      #expect(html.contains(artifact.sha256), "report lacks the digest of \(artifact.path)")
    }
  }
}
