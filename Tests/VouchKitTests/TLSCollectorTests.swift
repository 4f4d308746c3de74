import Foundation
import Testing

@testable import VouchKit

/// Serialized: each test runs nginx, and some run sslyze, all CPU-heavy; one at a time keeps the timing-sensitive
/// tests of other suites, which run alongside, within their limits.
@Suite(.serialized) struct TLSCollectorTests {
  /// Certificates are made during the test, so "now" is read at scan time, never before they exist.
  private func scan(
    _ port: Int, profile: String = "intermediate", sni: String? = nil, caBundle: Bool = true, minDaysLeft: Int = 0,
    clock: Date? = nil
  ) async throws -> (facts: [String: FactValue], harness: CollectorHarness) {
    var values: [String: ParameterValue] = [
      "host": .string("127.0.0.1"), "port": .integer(port), "profile": .string(profile),
      "min_days_left": .integer(minDaysLeft),
    ]
    if caBundle { values["ca_bundle"] = .string(try TestCertificates.shared().caCertificate.path) }
    if let sni { values["sni"] = .string(sni) }
    let harness = try CollectorHarness(clock: FixedClock(clock ?? Date()))
    let output = try await TLSCollector(parameters: Parameters(values)).collect(harness.context)
    return (output.facts, harness)
  }

  private func strings(_ value: FactValue?) -> [String] {
    guard case .list(let items)? = value else { return [] }
    return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
  }

  private func leaf(_ facts: [String: FactValue]) -> FactValue? {
    guard case .list(let chain)? = facts["certificates"] else { return nil }
    return chain.first
  }

  private func scanError(_ port: Int, extra: [String: ParameterValue] = [:]) async throws -> TLSScanError? {
    do {
      let values = extra.merging(["host": .string("127.0.0.1"), "port": .integer(port)]) { $1 }
      _ = try await TLSCollector(parameters: Parameters(values)).collect(try CollectorHarness().context)
      return nil
    } catch let error as TLSScanError {
      return error
    }
  }

  // MARK: Profile servers

  @Test func modernServerComplies() async throws {
    let pki = try TLSTestPKI.shared()
    let nginx = try await NginxServer.start([TLSProfileServers.modern(pki)])
    defer { nginx.stop() }
    let (facts, harness) = try await scan(nginx.ports["modern"] ?? 0, profile: "modern")

    #expect(strings(facts["protocols"]) == ["TLS 1.3"])
    #expect(
      Set(strings(facts["cipher_suites"]?.value(at: ["TLS 1.3"])))
        == ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"])
    #expect(Set(strings(facts["groups"])) == ["x25519", "secp256r1", "secp384r1"])
    #expect(facts["dh_bits"] == .integer(0))
    #expect(facts["chain_valid"] == .boolean(true))
    #expect(facts["chain_error"] == .string(""))
    #expect(facts["hostname_match"] == .boolean(true))
    #expect(facts["days_left"] == .integer(1))
    guard case .list(let chain)? = facts["certificates"] else {
      Issue.record("no certificates fact")
      return
    }
    #expect(chain.count == 1)
    #expect(leaf(facts)?.value(at: ["key_type"]) == .string("ecdsa"))
    #expect(leaf(facts)?.value(at: ["curve"]) == .string("prime256v1"))
    #expect(
      leaf(facts)?.value(at: ["subject_alt_names"]) == .list([.string("IP:127.0.0.1"), .string("DNS:localhost")]))
    // Both are TLS ≤ 1.2 mechanisms: a TLS 1.3-only server has neither to offer.
    #expect(facts["secure_renegotiation"] == .null)
    #expect(facts["extended_master_secret"] == .null)
    #expect(facts["ocsp_stapled"] == .boolean(false))
    #expect(facts["hsts_max_age"] == .integer(63_072_000))
    #expect(facts["hsts_include_subdomains"] == .boolean(true))
    #expect(facts["hsts_preload"] == .boolean(true))
    #expect(facts["profile_compliant"] == .boolean(true))
    #expect(strings(facts["deviations"]) == [])
    #expect(facts["compliant"] == .boolean(true))
    #expect(strings(facts["not_tested"]).contains("SSL 3.0"))
    #expect(Set(facts.keys) == Set(TLSCollector.facts.map(\.name)))

    // The PEM chain is the certificate the server holds, byte for byte.
    let served = try String(contentsOf: pki.base.serverCertificate, encoding: .utf8)
    #expect(try harness.text("chain.pem") == served)
    let record =
      try JSONSerialization.jsonObject(with: Data(contentsOf: harness.file("tls-scan.json"))) as? [String: Any]
    let probes = record?["probes"] as? [[String: Any]] ?? []
    #expect(facts["probe_count"] == .integer(probes.count))
    #expect(probes.contains { $0["outcome"] as? String == "rejected" })
    #expect(try harness.text("hsts-response-headers.txt").contains("Strict-Transport-Security: max-age=63072000"))
    for record in harness.artifacts.records {
      let name = String(record.path.dropFirst("controls/\(CollectorHarness.controlID)/".count))
      #expect(try Digest.sha256(fileAt: harness.file(name)).digest == record.sha256, "\(record.path)")
    }
  }

  @Test func intermediateServerComplies() async throws {
    let pki = try TLSTestPKI.shared()
    let nginx = try await NginxServer.start([TLSProfileServers.intermediate(pki)])
    defer { nginx.stop() }
    let (facts, _) = try await scan(nginx.ports["intermediate"] ?? 0)

    #expect(strings(facts["protocols"]) == ["TLS 1.2", "TLS 1.3"])
    #expect(
      Set(strings(facts["cipher_suites"]?.value(at: ["TLS 1.2"]))) == [
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
      ])
    #expect(facts["dh_bits"] == .integer(2048))
    #expect(facts["server_cipher_order"]?.value(at: ["TLS 1.2"]) == .boolean(false))
    #expect(facts["secure_renegotiation"] == .boolean(true))
    #expect(facts["extended_master_secret"] == .boolean(true))
    #expect(facts["profile_compliant"] == .boolean(true), "\(strings(facts["deviations"]))")
    #expect(facts["compliant"] == .boolean(true), "\(strings(facts["deviations"]))")
  }

  @Test func weakServerDeviatesFromIntermediate() async throws {
    let pki = try TLSTestPKI.shared()
    let nginx = try await NginxServer.start([TLSProfileServers.weak(pki)])
    defer { nginx.stop() }
    let (facts, _) = try await scan(nginx.ports["weak"] ?? 0)

    #expect(strings(facts["protocols"]) == ["TLS 1.0", "TLS 1.1", "TLS 1.2"])
    #expect(
      Set(strings(facts["cipher_suites"]?.value(at: ["TLS 1.0"]))) == [
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
      ])
    let tls12 = strings(facts["cipher_suites"]?.value(at: ["TLS 1.2"]))
    #expect(tls12.contains("TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"))
    #expect(facts["dh_bits"] == .integer(1024))
    #expect(facts["server_cipher_order"]?.value(at: ["TLS 1.0"]) == .boolean(true))
    #expect(facts["hsts_header"] == .string(""))
    #expect(facts["hsts_max_age"] == .integer(0))
    let deviations = strings(facts["deviations"])
    #expect(deviations.contains { $0.hasPrefix("protocol TLS 1.0 is accepted") })
    #expect(deviations.contains { $0.hasPrefix("protocol TLS 1.1 is accepted") })
    #expect(
      deviations.contains(
        "cipher suite TLS_RSA_WITH_AES_128_CBC_SHA is accepted in TLS 1.2; it is not in the intermediate profile"))
    #expect(deviations.contains("DHE uses 1024-bit parameters; the intermediate profile requires at least 2048"))
    #expect(facts["profile_compliant"] == .boolean(false))
    #expect(facts["compliant"] == .boolean(false))
  }

  /// TLS 1.3 probes ask for a HelloRetryRequest (no key shares). A server that refuses such a ClientHello still
  /// negotiates TLS 1.3 in the inspecting handshake, which sends shares; the scan notices the mismatch and probes
  /// TLS 1.3 again with key shares, finding what it finds on the same server without the gate.
  @Test func serverRefusingEmptyKeySharesIsProbedAgainWithThem() async throws {
    let pki = try TLSTestPKI.shared()
    let nginx = try await NginxServer.start([TLSProfileServers.intermediate(pki)])
    defer { nginx.stop() }
    let direct = try await scan(nginx.ports["intermediate"] ?? 0)
    let gate = try KeyShareGate(backend: nginx.ports["intermediate"] ?? 0)
    let (facts, harness) = try await scan(gate.port)

    #expect(strings(facts["protocols"]) == ["TLS 1.2", "TLS 1.3"])
    #expect(facts["cipher_suites"] == direct.facts["cipher_suites"])
    #expect(
      Set(strings(facts["cipher_suites"]?.value(at: ["TLS 1.3"])))
        == ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"])
    #expect(facts["server_cipher_order"] == direct.facts["server_cipher_order"])
    #expect(Set(strings(facts["groups"])) == ["x25519", "secp256r1", "secp384r1"])
    #expect(facts["profile_compliant"] == .boolean(true), "\(strings(facts["deviations"]))")

    let record =
      try JSONSerialization.jsonObject(with: Data(contentsOf: harness.file("tls-scan.json"))) as? [String: Any]
    #expect(record?["groups_tested_with"] as? String == "TLS 1.3")
    let probes = record?["probes"] as? [[String: Any]] ?? []
    func outcomes(_ purpose: String) -> [String] {
      probes.filter { $0["purpose"] as? String == purpose }.compactMap { $0["outcome"] as? String }
    }
    #expect(outcomes("suites TLS 1.3") == ["rejected"])
    #expect(outcomes("suites TLS 1.3, with key shares").filter { $0 == "accepted" }.count == 3)
    #expect(outcomes("groups TLS 1.3, with key shares").filter { $0 == "accepted" }.count == 3)
    // Without the gate, every TLS 1.3 probe ends at the HelloRetryRequest and none is repeated.
    let directRecord =
      try JSONSerialization.jsonObject(with: Data(contentsOf: direct.harness.file("tls-scan.json"))) as? [String: Any]
    let directProbes = directRecord?["probes"] as? [[String: Any]] ?? []
    #expect(!directProbes.contains { ($0["purpose"] as? String ?? "").hasSuffix("with key shares") })
    #expect(
      directProbes.contains {
        ($0["negotiated"] as? [String: String])?["handshake"] == "stopped after HelloRetryRequest"
      })
  }

  /// sslyze is the reference: for each profile server, accepted protocols, suites and EC groups must be identical.
  @Test(arguments: ["modern", "intermediate", "weak"])
  func acceptedSetsMatchSslyze(_ name: String) async throws {
    let pki = try TLSTestPKI.shared()
    let server =
      switch name {
      case "modern": TLSProfileServers.modern(pki)
      case "intermediate": TLSProfileServers.intermediate(pki)
      default: TLSProfileServers.weak(pki)
      }
    let nginx = try await NginxServer.start([server])
    defer { nginx.stop() }
    let port = nginx.ports[name] ?? 0
    let (facts, _) = try await scan(port)
    let reference = try Sslyze.scan(port: port)

    var vouchSuites: [String: Set<String>] = [:]
    if case .map(let entries)? = facts["cipher_suites"] {
      for (version, list) in entries { vouchSuites[version] = Set(strings(list)) }
    }
    #expect(Set(strings(facts["protocols"])) == Set(reference.suites.keys))
    #expect(vouchSuites == reference.suites)
    // sslyze tests elliptic curves only; Vouch's finite-field groups have no counterpart there.
    let vouchCurves = Set(strings(facts["groups"]).filter { !$0.hasPrefix("ffdhe") })
    #expect(vouchCurves == reference.curves)
  }

  // MARK: Certificates

  @Test func expiredCertificateAtTheRunsClock() async throws {
    let pki = try TLSTestPKI.shared()
    let nginx = try await NginxServer.start([TLSProfileServers.modern(pki)])
    defer { nginx.stop() }
    let (facts, _) = try await scan(
      nginx.ports["modern"] ?? 0, profile: "modern", clock: Date().addingTimeInterval(30 * 86_400))
    #expect(facts["chain_valid"] == .boolean(false))
    #expect(facts["chain_error"] == .string("certificate has expired"))
    #expect(facts["days_left"] == .integer(-29))
    #expect(strings(facts["deviations"]).contains("certificate expired 29 days ago"))
    #expect(facts["profile_compliant"] == .boolean(true))
    #expect(facts["compliant"] == .boolean(false))
  }

  @Test func fewDaysLeftIsADeviation() async throws {
    let pki = try TLSTestPKI.shared()
    let nginx = try await NginxServer.start([TLSProfileServers.modern(pki)])
    defer { nginx.stop() }
    let (facts, _) = try await scan(nginx.ports["modern"] ?? 0, profile: "modern", minDaysLeft: 30)
    #expect(facts["chain_valid"] == .boolean(true), "\(facts["chain_error"] ?? .null)")
    #expect(strings(facts["deviations"]) == ["certificate expires in 1 days; at least 30 required"])
  }

  /// A server that insists on a client certificate (mutual TLS) is still scanned: every probe ends before the client
  /// would have to present one, and the inspecting handshake has the server's chain by then.
  @Test func serverRequiringClientCertificates() async throws {
    let pki = try TLSTestPKI.shared()
    let server = try await OpenSSLServer([
      "-cert", pki.rsa2048.certificate.path, "-key", pki.rsa2048.key.path, "-Verify", "1",
      "-CAfile", pki.base.caCertificate.path,
    ])
    defer { server.stop() }
    let (facts, harness) = try await scan(server.port)
    #expect(strings(facts["protocols"]) == ["TLS 1.2", "TLS 1.3"])
    #expect(facts["chain_valid"] == .boolean(true), "\(facts["chain_error"] ?? .null)")
    #expect(leaf(facts)?.value(at: ["subject"]) == .string("CN=rsa2048"))
    // s_server sends the chain it builds from -CAfile: the leaf, then the CA.
    let served = try String(contentsOf: pki.rsa2048.certificate, encoding: .utf8)
      + String(contentsOf: pki.base.caCertificate, encoding: .utf8)
    #expect(try harness.text("chain.pem") == served)
    // The HSTS request completes its handshake without a certificate, which this server refuses: recorded, not fatal.
    let record =
      try JSONSerialization.jsonObject(with: Data(contentsOf: harness.file("tls-scan.json"))) as? [String: Any]
    #expect((record?["hsts_error"] as? String ?? "").isEmpty == false)
  }

  @Test func wrongHostname() async throws {
    let pki = try TLSTestPKI.shared()
    let nginx = try await NginxServer.start([.https("other", pki.wrongName, [])])
    defer { nginx.stop() }
    let port = nginx.ports["other"] ?? 0
    let (facts, _) = try await scan(port)
    #expect(facts["chain_valid"] == .boolean(true))
    #expect(facts["hostname_match"] == .boolean(false))
    #expect(strings(facts["deviations"]).contains("certificate is not valid for 127.0.0.1"))
    // The same server reached by IP with the right SNI name matches.
    let (named, _) = try await scan(port, sni: "other.example")
    #expect(named["hostname_match"] == .boolean(true))
  }

  @Test func sniSelectsTheServerBlock() async throws {
    let pki = try TLSTestPKI.shared()
    let nginx = try await NginxServer.start([
      NginxServer.Server(name: "default", tls: pki.base.caSigned, locations: [], directives: ["server_name localhost"])
    ])
    defer { nginx.stop() }
    let (facts, _) = try await scan(nginx.ports["default"] ?? 0, sni: "localhost")
    #expect(facts["hostname_match"] == .boolean(true))
    #expect(facts["chain_valid"] == .boolean(true))
  }

  @Test(arguments: [true, false])
  func untrustedSelfSignedCertificate(_ withBundle: Bool) async throws {
    let certificates = try TestCertificates.shared()
    let nginx = try await NginxServer.start([.https("self", certificates.selfSigned, [])])
    defer { nginx.stop() }
    let (facts, _) = try await scan(nginx.ports["self"] ?? 0, caBundle: withBundle)
    #expect(facts["chain_valid"] == .boolean(false))
    #expect(facts["chain_error"] == .string("self-signed certificate"))
    #expect(facts["hostname_match"] == .boolean(true))
    #expect(strings(facts["deviations"]).contains("certificate chain does not verify: self-signed certificate"))
  }

  @Test func rsa1024KeyIsADeviation() async throws {
    let pki = try TLSTestPKI.shared()
    let nginx = try await NginxServer.start([
      .https("small", pki.rsa1024, [], directives: ["ssl_ciphers DEFAULT:@SECLEVEL=0"])
    ])
    defer { nginx.stop() }
    let (facts, _) = try await scan(nginx.ports["small"] ?? 0)
    let leaf = leaf(facts)
    #expect(leaf?.value(at: ["key_type"]) == .string("rsa"))
    #expect(leaf?.value(at: ["key_bits"]) == .integer(1024))
    #expect(
      strings(facts["deviations"]).contains("certificate RSA key has 1024 bits; the intermediate profile requires 2048")
    )
  }

  @Test func sha1SignatureIsADeviation() async throws {
    let pki = try TLSTestPKI.shared()
    let nginx = try await NginxServer.start([
      .https("sha1", pki.sha1Signed, [], directives: ["ssl_ciphers DEFAULT:@SECLEVEL=0"])
    ])
    defer { nginx.stop() }
    let (facts, _) = try await scan(nginx.ports["sha1"] ?? 0)
    let leaf = leaf(facts)
    // The test CA's key is ECDSA, so a SHA-1 signature is ecdsa-with-SHA1.
    #expect(leaf?.value(at: ["signature_algorithm"]) == .string("ecdsa-with-SHA1"))
    #expect(strings(facts["deviations"]).contains { $0.hasPrefix("certificate signature ecdsa-with-SHA1 is not one") })
  }

  // MARK: Endpoints that cannot be scanned

  @Test func resetDuringHandshakeIsAnError() async throws {
    let server = try ResettingServer()
    let error = try await scanError(server.port)
    #expect(error?.kind == .aborted, "\(String(describing: error))")
    #expect(error?.message.contains("127.0.0.1:\(server.port) closed the connection during the TLS handshake") == true)
  }

  @Test func nothingListeningIsAnError() async throws {
    let port = try LocalPorts.reserve(1)[0]
    let error = try await scanError(port)
    #expect(error?.kind == .refused, "\(String(describing: error))")
    #expect(error?.message.hasPrefix("nothing accepts connections on 127.0.0.1:\(port)") == true)
  }

  @Test func silentServerTimesOut() async throws {
    let server = try SilentServer()
    let started = ContinuousClock.now
    let error = try await scanError(server.port, extra: ["connect_timeout": .duration(0.3)])
    #expect(error?.kind == .timeout, "\(String(describing: error))")
    #expect(ContinuousClock.now - started < .seconds(5))
  }

  @Test func plainHTTPPortIsAnError() async throws {
    let nginx = try await NginxServer.start([.http("plain", [.text("/", body: "plain")])])
    defer { nginx.stop() }
    let error = try await scanError(nginx.ports["plain"] ?? 0)
    #expect(error?.kind == .notTLS, "\(String(describing: error))")
  }

  // MARK: Parameters

  @Test(arguments: [
    (["host": ParameterValue.string("127.0.0.1"), "profile": .string("strict")], "profile"),
    (["host": .string("127.0.0.1"), "port": .integer(0)], "port"),
    (["host": .string("127.0.0.1"), "sni": .string("10.0.0.1")], "sni"),
    (["host": .string("a b")], "host"),
    (["host": .string("127.0.0.1"), "concurrency": .integer(0)], "concurrency"),
  ])
  func invalidParametersAreNamed(_ values: [String: ParameterValue], _ parameter: String) {
    #expect(throws: ParameterError.self) { try TLSCollector(parameters: Parameters(values)) }
    do {
      _ = try TLSCollector(parameters: Parameters(values))
    } catch {
      #expect(error.parameter == parameter)
    }
  }

  @Test func registeredOnce() {
    #expect(CollectorRegistry.kinds.filter { $0 == "tls" }.count == 1)
  }
}

/// Runs sslyze from `.venv-tools` (made by scripts/setup.sh) and reads its accepted suites and curves.
enum Sslyze {
  struct Result {
    /// "TLS 1.2" → IANA suite names.
    var suites: [String: Set<String>]
    /// Lowercased curve names, as Vouch names groups.
    var curves: Set<String>
  }

  static var executable: URL {
    Repository.root.appendingPathComponent(".venv-tools/bin/sslyze")
  }

  static func scan(port: Int) throws -> Result {
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
      throw Command.Failure(description: "\(executable.path) is missing: run scripts/setup.sh --tests to install sslyze")
    }
    let file = try TestScratch.makeDirectory("sslyze").appendingPathComponent("scan.json")
    try Command.run(
      executable.path,
      [
        "--json_out=\(file.path)", "--quiet", "--mozilla_config=disable", "--tlsv1", "--tlsv1_1", "--tlsv1_2",
        "--tlsv1_3",
        "--elliptic_curves", "127.0.0.1:\(port)",
      ])
    let output = try Data(contentsOf: file)
    guard let json = try JSONSerialization.jsonObject(with: output) as? [String: Any],
      let server = (json["server_scan_results"] as? [[String: Any]])?.first,
      let results = server["scan_result"] as? [String: Any]
    else {
      throw Command.Failure(description: "sslyze wrote no scan result:\n\(String(decoding: output, as: UTF8.self))")
    }
    var suites: [String: Set<String>] = [:]
    for (key, version) in [
      ("tls_1_0_cipher_suites", "TLS 1.0"), ("tls_1_1_cipher_suites", "TLS 1.1"), ("tls_1_2_cipher_suites", "TLS 1.2"),
      ("tls_1_3_cipher_suites", "TLS 1.3"),
    ] {
      let result = (results[key] as? [String: Any])?["result"] as? [String: Any]
      let accepted = (result?["accepted_cipher_suites"] as? [[String: Any]] ?? []).compactMap {
        ($0["cipher_suite"] as? [String: Any])?["name"] as? String
      }
      if !accepted.isEmpty { suites[version] = Set(accepted) }
    }
    let curves = ((results["elliptic_curves"] as? [String: Any])?["result"] as? [String: Any])?["supported_curves"]
    let names = (curves as? [[String: Any]] ?? []).compactMap { ($0["name"] as? String)?.lowercased() }
    return Result(suites: suites, curves: Set(names))
  }
}
