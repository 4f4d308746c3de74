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
        "security-txt-published.console", "security-txt-published.www", "vulnerability-handling-procedure",
        "vulnerability-sla-review",
      ])
  }

  /// The demo site: www with HSTS and the security pages, api without HSTS; plain HTTP redirects to HTTPS.
  func startDemoSite() async throws -> NginxServer {
    let identity = try TestCertificates.shared().caSigned
    let hsts = [("Strict-Transport-Security", "max-age=63072000; includeSubDomains")]
    let securityTxt = NginxServer.Location.text(
      "= /.well-known/security.txt", body: try Repository.text("demo/site/security.txt"),
      contentType: "text/plain; charset=utf-8")
    return try await NginxServer.start([
      .https(
        "www", identity,
        [
          .text("= /", body: "home", contentType: "text/html", headers: hsts), securityTxt,
          .text("= /security", body: try Repository.text("demo/site/security.html"), contentType: "text/html"),
          .text(
            "= /security/acknowledgments", body: try Repository.text("demo/site/acknowledgments.html"),
            contentType: "text/html"),
        ]),
      .http("www-http", [.redirect("/", to: "{url:www}$request_uri")]),
      .https("api", identity, [.text("= /", body: "{}", contentType: "application/json"), securityTxt]),
      .http("api-http", [.redirect("/", to: "{url:api}$request_uri")]),
    ])
  }

  func variables(_ nginx: NginxServer, caBundle: URL, slaReviewedAt: String) -> String {
    """
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
      sla_reviewed_at: \(slaReviewedAt)
      procedure_file: \(Repository.file("demo/documents/vulnerability-handling-procedure.txt").path)
      procedure_reviewed_at: 2026-05-13
      hosting_report_file: \(Repository.file("demo/documents/aws-soc2-type2-report.txt").path)
      hosting_report_reviewed_at: 2026-08-31
    targets:
      www:
        https_url: \(nginx.url("www", "/"))
        http_url: \(nginx.url("www-http", "/"))
      api:
        https_url: \(nginx.url("api", "/"))
        http_url: \(nginx.url("api-http", "/"))
    """
  }

  @Test func shippedCatalogueRunsAgainstTheDemoSiteIntoAVerifiedBundleAndValidReports() async throws {
    let nginx = try await startDemoSite()
    defer { nginx.stop() }
    let work = try TestScratch.makeDirectory("catalogue")
    let varsFile = work.appendingPathComponent("vars.yaml")
    let caBundle = try TestCertificates.shared().caCertificate
    try Data(variables(nginx, caBundle: caBundle, slaReviewedAt: "2026-10-20").utf8).write(to: varsFile)

    let catalog = try ControlLoader(environment: [:]).load(directory: Repository.file("controls"), variables: varsFile)
    let environment = RunEnvironment(
      clock: FixedClock(Timestamp.parse("2026-11-29T06:00:00Z")!), variables: [:], hostname: "e2e",
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
        "vulnerability-handling-procedure": .pass,
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
