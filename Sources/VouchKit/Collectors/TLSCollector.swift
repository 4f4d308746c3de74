import Foundation

/// Scans a TLS endpoint: protocols, suites, groups, certificate chain, session features, HSTS and a Mozilla verdict.
public struct TLSCollector: Collector {
  public static let kind = "tls"
  public static let summary =
    "Scans a TLS endpoint (protocols, suites, groups, certificate chain, HSTS) against a Mozilla TLS profile."

  static let chainArtifact = "chain.pem"
  static let scanArtifact = "tls-scan.json"
  static let hstsArtifact = "hsts-response-headers.txt"

  public static let parameters: [ParameterSpec] = [
    ParameterSpec("host", .string, required: true, "Host name or IP address to connect to."),
    ParameterSpec("port", .integer, default: "443", "TCP port."),
    ParameterSpec(
      "sni", .string, "Server name to send (SNI) and check the certificate against when `host` is an IP address."),
    ParameterSpec("ca_bundle", .string, "PEM file of CAs to trust instead of the system store (private CAs)."),
    ParameterSpec(
      "profile", .string, default: "intermediate",
      "Mozilla server-side TLS \(MozillaProfile.guidelinesVersion) profile: modern, intermediate or old."),
    ParameterSpec("min_days_left", .integer, default: "30", "Fewest days the certificate may have left."),
    ParameterSpec("connect_timeout", .duration, default: "5s", "Limit for each probe's connection and handshake."),
    ParameterSpec("timeout", .duration, default: "15s", "Limit for the HTTPS request that reads HSTS."),
    ParameterSpec("concurrency", .integer, default: "16", "Handshakes in flight at once."),
  ]

  public static let facts: [FactSpec] = [
    FactSpec(
      "protocols", .stringList, "Accepted versions: TLS 1.0, TLS 1.1, TLS 1.2, TLS 1.3.", evidence: [scanArtifact]),
    FactSpec(
      "cipher_suites", .map, "Version → accepted cipher suites (IANA names).",
      evidence: [scanArtifact]),
    FactSpec(
      "server_cipher_order", .map,
      "Version → true when the server imposes its own suite order (versions with two or more suites).",
      evidence: [scanArtifact]),
    FactSpec(
      "groups", .stringList, "Accepted key exchange groups (IANA names: x25519, secp256r1, ffdhe2048…).",
      evidence: [scanArtifact]),
    FactSpec(
      "dh_bits", .integer, "Smallest DHE key the server used; 0 when it never chose DHE.", evidence: [scanArtifact]),
    FactSpec(
      "certificates", .list,
      "The chain as sent, leaf first: subject, issuer, serial, not_before, not_after, days_left, key_type, key_bits, "
        + "curve, signature_algorithm, subject_alt_names, sha256.",
      evidence: [chainArtifact]),
    FactSpec(
      "chain_valid", .boolean, "The chain verifies against the CA bundle at the run's clock.", evidence: [chainArtifact]
    ),
    FactSpec("chain_error", .string, "Why the chain does not verify; empty when it does.", evidence: [chainArtifact]),
    FactSpec(
      "hostname_match", .boolean, "The leaf certificate is valid for the SNI name (or host).", evidence: [chainArtifact]
    ),
    FactSpec(
      "days_left", .integer, "Whole days until the leaf certificate expires; negative once expired.",
      evidence: [chainArtifact]),
    FactSpec("ocsp_stapled", .boolean, "The server stapled an OCSP response.", evidence: [scanArtifact]),
    FactSpec(
      "secure_renegotiation", .boolean,
      "Every TLS ≤ 1.2 handshake signalled RFC 5746 secure renegotiation; null for a TLS 1.3-only server.",
      evidence: [scanArtifact]),
    FactSpec(
      "extended_master_secret", .boolean,
      "Every TLS ≤ 1.2 handshake used RFC 7627 extended master secret; null for a TLS 1.3-only server.",
      evidence: [scanArtifact]),
    FactSpec(
      "compression", .boolean, "The server accepted TLS compression; null when the local library cannot offer it.",
      evidence: [scanArtifact]),
    FactSpec(
      "hsts_header", .string, "Strict-Transport-Security of the response to GET /; empty when absent.",
      evidence: [hstsArtifact]),
    FactSpec("hsts_max_age", .integer, "HSTS max-age in seconds; 0 when absent.", evidence: [hstsArtifact]),
    FactSpec("hsts_include_subdomains", .boolean, "HSTS has includeSubDomains.", evidence: [hstsArtifact]),
    FactSpec("hsts_preload", .boolean, "HSTS has preload.", evidence: [hstsArtifact]),
    FactSpec("profile", .string, "The Mozilla profile checked."),
    FactSpec("profile_compliant", .boolean, "No deviation from the Mozilla profile.", evidence: [scanArtifact]),
    FactSpec(
      "deviations", .stringList,
      "Each departure from the profile, plus an unverifiable chain, a hostname mismatch or too few days left.",
      evidence: [scanArtifact]),
    FactSpec("compliant", .boolean, "No deviations at all.", evidence: [scanArtifact]),
    FactSpec(
      "not_tested", .stringList,
      "Protocols and suites the local TLS library cannot offer: neither accepted nor refused.",
      evidence: [scanArtifact]),
    FactSpec("probe_count", .integer, "Handshakes and requests the scan made.", evidence: [scanArtifact]),
  ]

  let target: TLSTarget
  let caBundle: String?
  let profile: MozillaProfile
  let minDaysLeft: Int
  let connectTimeout: Double
  let timeout: Double
  let concurrency: Int

  public init(parameters: Parameters) throws(ParameterError) {
    let host = try parameters.requiredString("host")
    guard !host.isEmpty, !host.contains(where: { " /\t\r\n".contains($0) }) else {
      throw ParameterError("host", "'\(host)' is not a host name or IP address")
    }
    let port = parameters.integer("port") ?? 443
    guard (1...65_535).contains(port) else { throw ParameterError("port", "\(port) is not a TCP port (1–65535)") }
    let sni = parameters.string("sni")
    if let sni, sni.isEmpty || TLSTarget.isIPAddress(sni) {
      throw ParameterError("sni", "'\(sni)' must be a host name; SNI cannot carry an IP address")
    }
    target = TLSTarget(host: host, port: port, serverName: sni)
    caBundle = parameters.string("ca_bundle")
    let profileName = parameters.string("profile") ?? "intermediate"
    guard let profile = MozillaProfile.named(profileName) else {
      throw ParameterError("profile", "'\(profileName)' is not one of modern, intermediate, old")
    }
    self.profile = profile
    minDaysLeft = parameters.integer("min_days_left") ?? 30
    connectTimeout = parameters.duration("connect_timeout") ?? 5
    timeout = parameters.duration("timeout") ?? 15
    guard connectTimeout > 0 else { throw ParameterError("connect_timeout", "must be longer than 0s") }
    guard timeout > 0 else { throw ParameterError("timeout", "must be longer than 0s") }
    concurrency = parameters.integer("concurrency") ?? 16
    guard (1...64).contains(concurrency) else { throw ParameterError("concurrency", "must be between 1 and 64") }
  }

  public func collect(_ context: CollectionContext) async throws -> CollectorOutput {
    let now = context.clock.now()
    var options = TLSScanOptions(now: now)
    options.caBundle = caBundle.map { URL(fileURLWithPath: $0, relativeTo: context.baseDirectory).path }
    options.connectTimeout = connectTimeout
    options.requestTimeout = timeout
    options.concurrency = concurrency
    let scan = try await TLSScanner.scan(target, options: options)
    let verdict = TLSVerdict(scan: scan, profile: profile, minDaysLeft: minDaysLeft, now: now)
    try writeArtifacts(scan, verdict, context)
    context.logger.debug("tls scan", metadata: ["probes": "\(scan.probes.count)", "target": "\(target.label)"])

    let hsts = scan.hsts
    let facts: [String: FactValue] = [
      "protocols": .list(scan.protocols.map { .string($0.name) }),
      "cipher_suites": .map(
        Dictionary(uniqueKeysWithValues: scan.suites.map { ($0.key.name, .list($0.value.map { .string($0) })) })),
      "server_cipher_order": .map(
        Dictionary(uniqueKeysWithValues: scan.serverOrder.map { ($0.key.name, .boolean($0.value)) })),
      "groups": .list(scan.groups.map { .string($0) }),
      "dh_bits": .integer(scan.dhBits ?? 0),
      "certificates": .list(scan.certificates.map { $0.fact(at: now) }),
      "chain_valid": .boolean(scan.chainValid),
      "chain_error": .string(scan.chainError),
      "hostname_match": .boolean(scan.hostnameMatch),
      "days_left": .integer(scan.certificates.first?.daysLeft(at: now) ?? 0),
      "ocsp_stapled": .boolean(scan.ocspStapled),
      "secure_renegotiation": scan.secureRenegotiation.map { .boolean($0) } ?? .null,
      "extended_master_secret": scan.extendedMasterSecret.map { .boolean($0) } ?? .null,
      "compression": scan.compression.map { .boolean($0) } ?? .null,
      "hsts_header": .string(context.redactor.redact(hsts.header ?? "")),
      "hsts_max_age": .integer(hsts.maxAge ?? 0),
      "hsts_include_subdomains": .boolean(hsts.includeSubDomains),
      "hsts_preload": .boolean(hsts.preload),
      "profile": .string(profile.name),
      "profile_compliant": .boolean(verdict.profileDeviations.isEmpty),
      "deviations": .list(verdict.all.map { .string($0) }),
      "compliant": .boolean(verdict.all.isEmpty),
      "not_tested": .list(scan.notTested.map { .string($0) }),
      "probe_count": .integer(scan.probes.count),
    ]
    var evidence: [String: [String]] = [:]
    for spec in Self.facts where !spec.evidence.isEmpty {
      evidence[spec.name] = spec.evidence.map(context.artifacts.bundlePath(of:))
    }
    return CollectorOutput(facts: facts, evidence: evidence)
  }

  private func writeArtifacts(_ scan: TLSScanResult, _ verdict: TLSVerdict, _ context: CollectionContext) throws {
    let artifacts = context.artifacts
    try artifacts.write(
      Self.chainArtifact, data: Data(scan.certificates.map(\.pem).joined().utf8),
      mediaType: "application/pem-certificate-chain",
      summary: "Certificate chain as sent by \(context.redactor.redact(target.label)), leaf first")
    let record = TLSScanRecord(scan: scan, verdict: verdict, scannedAt: context.clock.now())
    let json = context.redactor.redact(String(decoding: try BundleJSON.encode(record), as: UTF8.self))
    try artifacts.write(
      Self.scanArtifact, data: Data(json.utf8), mediaType: "application/json",
      summary: "Every probe of the TLS scan: what was offered, what came back, and the verdict")
    var lines: [String]
    if let error = scan.hsts.error {
      lines = ["# GET / failed: \(error)"]
    } else {
      lines = ["# GET / → \(scan.hsts.status ?? 0)"] + scan.hsts.headers.map { "\($0.name): \($0.value)" }
    }
    try artifacts.write(
      Self.hstsArtifact, data: Data(context.redactor.redact(lines.joined(separator: "\n") + "\n").utf8),
      mediaType: "text/plain", summary: "Response headers of GET / over TLS, for HSTS")
  }
}
