import Foundation
import Logging
import Testing

@testable import VouchKit

/// The `security-txt` collector against real nginx over HTTPS on 127.0.0.1, one scenario of RFC 9116 §3 per test.
/// Serialized: a dozen nginx, gpg and gpgv processes at once would crowd the timing-sensitive suites beside it.
@Suite(.serialized) struct SecurityTxtCollectorTests {
  static let now = Date(timeIntervalSince1970: 1_795_929_693)  // 2026-11-29T05:21:33Z
  static let utf8 = "text/plain; charset=utf-8"

  /// A valid file; `canonical` adds a Canonical field.
  static func file(contact: String = "mailto:security@example.com", canonical: String? = nil) -> String {
    var text = "Contact: \(contact)\nExpires: 2027-03-01T00:00:00Z\nEncryption: https://example.com/key.asc\n"
    if let canonical { text += "Canonical: \(canonical)\n" }
    return text
  }

  /// A folder nginx serves from, holding the given files (path → bytes).
  static func site(_ files: [String: Data]) throws -> URL {
    let root = try TestScratch.makeDirectory("site")
    for (path, data) in files {
      let url = root.appendingPathComponent(path)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try data.write(to: url)
    }
    return root
  }

  /// Runs the collector with the test clock; returns its output and the harness holding the artifacts.
  static func collect(_ values: [String: ParameterValue]) async throws -> (CollectorOutput, CollectorHarness) {
    let harness = try CollectorHarness()
    let context = CollectionContext(
      controlID: CollectorHarness.controlID, artifacts: harness.artifacts, http: CollectorHarness.sharedClient,
      clock: FixedClock(now), redactor: Redactor(secrets: []), logger: Logger(label: "vouch.tests"),
      baseDirectory: harness.bundle)
    let output = try await SecurityTxtCollector(parameters: Parameters(values)).collect(context)
    return (output, harness)
  }

  static func parameters(_ nginx: NginxServer, _ server: String, _ extra: [String: ParameterValue] = [:]) throws
    -> [String: ParameterValue]
  {
    let authority = nginx.url(server, "").replacingOccurrences(of: "https://", with: "")
      .replacingOccurrences(of: "http://", with: "")
    var values: [String: ParameterValue] = [
      "domain": .string(authority), "ca_bundle": .string(try TestCertificates.shared().caCertificate.path),
    ]
    values.merge(extra) { $1 }
    return values
  }

  static func strings(_ value: FactValue?) -> [String] {
    guard case .list(let items)? = value else { return [] }
    return items.compactMap { if case .string(let text) = $0 { return text } else { return nil } }
  }

  static func codes(_ output: CollectorOutput, _ fact: String) -> [String] {
    strings(output.facts[fact]).map { String($0.prefix { $0 != "@" }) }
  }

  @Test func wellKnownOnlyIsValidAndRecordedByteForByte() async throws {
    let body = Data(Self.file().utf8)
    let nginx = try await NginxServer.start([
      .https(
        "site", try TestCertificates.shared().caSigned,
        [.files("/", directory: try Self.site([".well-known/security.txt": body]), contentType: Self.utf8)])
    ])
    defer { nginx.stop() }
    let (output, harness) = try await Self.collect(try Self.parameters(nginx, "site"))
    let url = nginx.url("site", "/.well-known/security.txt")
    #expect(output.facts["valid"] == .boolean(true), "\(output.facts["errors"] ?? .null)")
    #expect(Self.strings(output.facts["errors"]) == [])
    #expect(output.facts["fetched_url"] == .string(url))
    #expect(Self.strings(output.facts["redirect_chain"]) == [url])
    #expect(output.facts["content_type"] == .string(Self.utf8))
    #expect(output.facts["legacy_found"] == .boolean(false))
    #expect(Self.strings(output.facts["contacts"]) == ["mailto:security@example.com"])
    #expect(output.facts["expires"] == .string("2027-03-01T00:00:00Z"))
    #expect(output.facts["days_until_expiry"] == .integer(91))
    #expect(output.facts["signed"] == .boolean(false))
    #expect(Set(output.facts.keys) == Set(SecurityTxtCollector.facts.map(\.name)))
    #expect(try Data(contentsOf: harness.file("well-known.txt")) == body)
    #expect(!FileManager.default.fileExists(atPath: harness.file("legacy.txt").path))
    let headers = try harness.text("response-headers.txt")
    #expect(headers.contains("# \(url)\nHTTP/1.1 200 OK"))
    #expect(headers.contains("# \(nginx.url("site", "/security.txt"))\nHTTP/1.1 404"))
    let result = try JSONSerialization.jsonObject(with: Data(contentsOf: harness.file("parse-result.json")))
    #expect((result as? [String: Any])?["valid"] as? Bool == true)
    #expect(
      output.evidence["contacts"] == ["well-known.txt", "parse-result.json"].map(harness.artifacts.bundlePath(of:)))
    for record in harness.artifacts.records {
      let name = String(record.path.dropFirst("controls/\(CollectorHarness.controlID)/".count))
      #expect(try Digest.sha256(fileAt: harness.file(name)).digest == record.sha256, "\(record.path)")
    }
  }

  @Test func legacyOnlyIsTheLocationError() async throws {
    let nginx = try await NginxServer.start([
      .https(
        "site", try TestCertificates.shared().caSigned,
        [.files("/", directory: try Self.site(["security.txt": Data(Self.file().utf8)]), contentType: Self.utf8)])
    ])
    defer { nginx.stop() }
    let (output, harness) = try await Self.collect(try Self.parameters(nginx, "site"))
    #expect(output.facts["valid"] == .boolean(false))
    #expect(Self.codes(output, "errors") == ["location"])
    #expect(output.facts["fetched_url"] == .string(nginx.url("site", "/security.txt")))
    #expect(output.facts["legacy_found"] == .boolean(true))
    #expect(try harness.text("legacy.txt") == Self.file())
  }

  @Test func bothLocationsDifferingKeepsTheWellKnownOneAndSaysSo() async throws {
    let wellKnown = Self.file()
    let legacy = Self.file(contact: "mailto:old@example.com")
    let nginx = try await NginxServer.start([
      .https(
        "site", try TestCertificates.shared().caSigned,
        [
          .files(
            "/",
            directory: try Self.site([
              ".well-known/security.txt": Data(wellKnown.utf8), "security.txt": Data(legacy.utf8),
            ]),
            contentType: Self.utf8)
        ])
    ])
    defer { nginx.stop() }
    let (output, harness) = try await Self.collect(try Self.parameters(nginx, "site"))
    #expect(output.facts["valid"] == .boolean(true))
    #expect(Self.codes(output, "recommendations").contains("legacy_differs"))
    #expect(Self.strings(output.facts["contacts"]) == ["mailto:security@example.com"])
    #expect(try harness.text("well-known.txt") == wellKnown)
    #expect(try harness.text("legacy.txt") == legacy)

    let same = try await NginxServer.start([
      .https(
        "site", try TestCertificates.shared().caSigned,
        [
          .files(
            "/",
            directory: try Self.site([
              ".well-known/security.txt": Data(wellKnown.utf8), "security.txt": Data(wellKnown.utf8),
            ]),
            contentType: Self.utf8)
        ])
    ])
    defer { same.stop() }
    let (identical, _) = try await Self.collect(try Self.parameters(same, "site"))
    #expect(!Self.codes(identical, "recommendations").contains("legacy_differs"))
    #expect(identical.facts["legacy_found"] == .boolean(true))
  }

  @Test func aFileOnlyReachableOverPlainHTTPIsAnError() async throws {
    let nginx = try await NginxServer.start([
      .http(
        "plain",
        [
          .files(
            "/", directory: try Self.site([".well-known/security.txt": Data(Self.file().utf8)]), contentType: Self.utf8)
        ])
    ])
    defer { nginx.stop() }
    let (output, harness) = try await Self.collect(try Self.parameters(nginx, "plain"))
    #expect(output.facts["valid"] == .boolean(false))
    #expect(Self.codes(output, "errors") == ["invalid_uri_scheme"])
    #expect(output.facts["fetched_url"] == .string(nginx.url("plain", "/.well-known/security.txt")))
    #expect(try harness.text("plain-http.txt") == Self.file())
    #expect(try harness.text("response-headers.txt").contains("! "))

    await #expect(throws: HTTPError.self) {
      _ = try await Self.collect(try Self.parameters(nginx, "plain", ["http_fallback": .boolean(false)]))
    }
  }

  @Test func aRedirectToAnotherHostIsRecordedAndCanonicalMatchesItsTarget() async throws {
    let certificates = try TestCertificates.shared()
    let root = try TestScratch.makeDirectory("other-host")
    let served = try await NginxServer.start([
      .https(
        "origin", certificates.caSigned,
        [.redirect("= /.well-known/security.txt", to: "https://localhost:{port:other}/.well-known/security.txt")]),
      .https("other", certificates.caSigned, [.files("/", directory: root, contentType: Self.utf8)]),
    ])
    defer { served.stop() }
    // The other host's port is only known once nginx runs, so its file (naming itself as Canonical) comes after.
    let redirected = "https://localhost:\(served.ports["other"] ?? 0)/.well-known/security.txt"
    try FileManager.default.createDirectory(
      at: root.appendingPathComponent(".well-known"), withIntermediateDirectories: true)
    try Data(Self.file(canonical: redirected).utf8).write(to: root.appendingPathComponent(".well-known/security.txt"))
    let (output, _) = try await Self.collect(try Self.parameters(served, "origin"))
    let start = served.url("origin", "/.well-known/security.txt")
    #expect(Self.strings(output.facts["redirect_chain"]) == [start, redirected])
    #expect(output.facts["fetched_url"] == .string(redirected))
    #expect(Self.codes(output, "recommendations").contains("redirect_other_host"))
    #expect(output.facts["canonical_match"] == .string(redirected))
    #expect(output.facts["valid"] == .boolean(true), "\(output.facts["errors"] ?? .null)")
  }

  @Test func wrongContentTypeAndMissingCharsetAreErrors() async throws {
    let site = try Self.site([".well-known/security.txt": Data(Self.file().utf8)])
    let nginx = try await NginxServer.start([
      .https("html", try TestCertificates.shared().caSigned, [.files("/", directory: site, contentType: "text/html")]),
      .https("bare", try TestCertificates.shared().caSigned, [.files("/", directory: site, contentType: "text/plain")]),
    ])
    defer { nginx.stop() }
    let (html, _) = try await Self.collect(try Self.parameters(nginx, "html"))
    #expect(Self.codes(html, "errors") == ["invalid_media", "no_charset"])
    #expect(html.facts["content_type"] == .string("text/html"))
    let (bare, _) = try await Self.collect(try Self.parameters(nginx, "bare"))
    #expect(Self.codes(bare, "errors") == ["no_charset"])
  }

  @Test func aOneMegabyteBodyIsRefusedAfter32KiB() async throws {
    var big = Data(Self.file().utf8)
    big += Data(repeating: 0x23, count: 1 << 20)
    let nginx = try await NginxServer.start([
      .https(
        "site", try TestCertificates.shared().caSigned,
        [.files("/", directory: try Self.site([".well-known/security.txt": big]), contentType: Self.utf8)])
    ])
    defer { nginx.stop() }
    let (output, harness) = try await Self.collect(try Self.parameters(nginx, "site"))
    #expect(output.facts["valid"] == .boolean(false))
    #expect(Self.codes(output, "errors") == ["too_large"])
    #expect(Self.strings(output.facts["contacts"]) == [])
    let stored = try Data(contentsOf: harness.file("well-known.txt"))
    #expect(stored.count <= SecurityTxtRetrieval.sizeLimit + 1)
  }

  @Test func binaryJunkNULAndInvalidUTF8AreReportedAndStoredExactly() async throws {
    var junk = Data(Self.file().utf8)
    junk += Data([0x50, 0x6F, 0x6C, 0x69, 0x63, 0x79, 0x3A, 0x20, 0x00, 0x0A])  // "Policy: \0"
    junk += Data([0xC3, 0x28, 0xFF, 0xFE, 0x0A])
    let nginx = try await NginxServer.start([
      .https(
        "site", try TestCertificates.shared().caSigned,
        [.files("/", directory: try Self.site([".well-known/security.txt": junk]), contentType: Self.utf8)])
    ])
    defer { nginx.stop() }
    let (output, harness) = try await Self.collect(try Self.parameters(nginx, "site"))
    #expect(output.facts["valid"] == .boolean(false))
    let errors = Self.strings(output.facts["errors"])
    #expect(errors.contains("invalid_char@4"))
    #expect(errors.contains("utf8@5"))
    #expect(try Data(contentsOf: harness.file("well-known.txt")) == junk)
  }

  @Test func aSignedFileVerifiesWithThePinnedKey() async throws {
    let key = try await offCooperativePool { try TestOpenPGPKey.shared() }
    let certificates = try TestCertificates.shared()
    // The port is only known once nginx runs, so the file naming it as Canonical is signed and written afterwards.
    let root = try TestScratch.makeDirectory("signed-site")
    let nginx = try await NginxServer.start([
      .https("site", certificates.caSigned, [.files("/", directory: root, contentType: Self.utf8)])
    ])
    defer { nginx.stop() }
    let url = nginx.url("site", "/.well-known/security.txt")
    let signed = try await offCooperativePool { try key.clearsign(Self.file(canonical: url)) }
    try FileManager.default.createDirectory(
      at: root.appendingPathComponent(".well-known"), withIntermediateDirectories: true)
    try Data(signed.utf8).write(to: root.appendingPathComponent(".well-known/security.txt"))
    let pinned: [String: ParameterValue] = [
      "signing_key": .string(key.publicKey.path), "signer_fingerprint": .string(key.fingerprint),
      "require_signature": .boolean(true), "expected_contacts": .stringList(["MAILTO:security@example.com"]),
      "min_days_before_expiry": .integer(30),
    ]
    let (output, harness) = try await Self.collect(try Self.parameters(nginx, "site", pinned))
    #expect(output.facts["valid"] == .boolean(true), "\(output.facts["errors"] ?? .null)")
    #expect(output.facts["signed"] == .boolean(true))
    #expect(output.facts["signature_verified"] == .boolean(true))
    #expect(output.facts["signer"] == .string(key.fingerprint))
    #expect(output.facts["canonical_match"] == .string(url))
    #expect(Self.strings(output.facts["recommendations"]) == [])
    #expect(try harness.text("parse-result.json").contains("VALIDSIG"))

    let (strict, _) = try await Self.collect(
      try Self.parameters(
        nginx, "site",
        pinned.merging(
          ["expected_contacts": .stringList(["mailto:other@example.com"]), "min_days_before_expiry": .integer(120)]
        ) { $1 }))
    #expect(Self.codes(strict, "errors") == ["missing_contact", "expires_soon"])
  }

  @Test func aSignatureThatFailsIsAnError() async throws {
    let key = try await offCooperativePool { try TestOpenPGPKey.shared() }
    let tampered = try await offCooperativePool { try key.clearsign(Self.file()) }.replacingOccurrences(
      of: "mailto:security@example.com", with: "mailto:attacker@example.com")
    let unsigned = Self.file()
    let nginx = try await NginxServer.start([
      .https(
        "tampered", try TestCertificates.shared().caSigned,
        [
          .files(
            "/", directory: try Self.site([".well-known/security.txt": Data(tampered.utf8)]), contentType: Self.utf8)
        ]),
      .https(
        "unsigned", try TestCertificates.shared().caSigned,
        [
          .files(
            "/", directory: try Self.site([".well-known/security.txt": Data(unsigned.utf8)]), contentType: Self.utf8)
        ]),
    ])
    defer { nginx.stop() }
    let pin: [String: ParameterValue] = ["signing_key": .string(key.publicKey.path)]
    let (output, _) = try await Self.collect(try Self.parameters(nginx, "tampered", pin))
    #expect(output.facts["valid"] == .boolean(false))
    #expect(Self.codes(output, "errors") == ["bad_signature"])
    #expect(output.facts["signature_verified"] == .boolean(false))
    #expect(output.facts["signer"] == .string(""))
    let (missing, _) = try await Self.collect(try Self.parameters(nginx, "unsigned", pin))
    #expect(Self.codes(missing, "errors") == ["signature_required"])
  }

  @Test func nothingServedIsAFindingAndNoServerIsACollectionError() async throws {
    let nginx = try await NginxServer.start([.https("site", try TestCertificates.shared().caSigned, [])])
    let parameters = try Self.parameters(nginx, "site", ["http_fallback": .boolean(false)])
    let (output, _) = try await Self.collect(parameters)
    #expect(Self.codes(output, "errors") == ["no_security_txt"])
    #expect(output.facts["fetched_url"] == .string(""))
    nginx.stop()
    await #expect(throws: HTTPError.self) { _ = try await Self.collect(parameters) }
  }

  @Test func parametersAreChecked() {
    #expect(throws: ParameterError.self) {
      try SecurityTxtCollector(parameters: Parameters(["domain": .string("http://x")]))
    }
    #expect(throws: ParameterError.self) {
      try SecurityTxtCollector(parameters: Parameters(["domain": .string("a b")]))
    }
    #expect(throws: ParameterError.self) {
      try SecurityTxtCollector(
        parameters: Parameters(["domain": .string("example.com"), "signer_fingerprint": .string("AB")]))
    }
    #expect(throws: ParameterError.self) {
      try SecurityTxtCollector(
        parameters: Parameters([
          "domain": .string("example.com"), "signing_key": .string("k.asc"), "signer_fingerprint": .string("xyz"),
        ]))
    }
    #expect(
      CollectorRegistry.collector(kind: "security-txt").map(ObjectIdentifier.init)
        == ObjectIdentifier(SecurityTxtCollector.self))
  }
}
