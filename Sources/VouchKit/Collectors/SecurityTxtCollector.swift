import Foundation

/// Proves that a site publishes a valid, current security.txt (RFC 9116): fetches both locations, validates the
/// file, verifies its signature against a pinned key and records everything received.
public struct SecurityTxtCollector: Collector {
  public static let kind = "security-txt"
  public static let summary =
    "Fetches /.well-known/security.txt (and the legacy /security.txt), validates it against RFC 9116 and verifies its "
    + "signature."

  static let wellKnownArtifact = "well-known.txt"
  static let legacyArtifact = "legacy.txt"
  static let headersArtifact = "response-headers.txt"
  static let resultArtifact = "parse-result.json"
  static let plainHTTPArtifact = "plain-http.txt"

  public static let parameters: [ParameterSpec] = [
    ParameterSpec(
      "domain", .string, required: true,
      "example.com, example.com:8443 or an https:// URL; a URL with a path is fetched as is (no legacy location)."),
    ParameterSpec(
      "expected_contacts", .stringList, "Contact URIs that must be listed, e.g. mailto:security@example.com."),
    ParameterSpec("min_days_before_expiry", .integer, "Fewer whole days left before Expires is an error."),
    ParameterSpec("require_signature", .boolean, default: "false", "An unsigned file is an error."),
    ParameterSpec(
      "signing_key", .string,
      "Pinned OpenPGP public key (armoured or binary) or keyring file; the signature must verify with it (gpgv)."),
    ParameterSpec("signer_fingerprint", .string, "Fingerprint the signing key in signing_key must have."),
    ParameterSpec(
      "http_fallback", .boolean, default: "true", "Look over plain http when https has no file, to flag it."),
    ParameterSpec("follow_redirects", .integer, default: "5", "Redirects to follow for each location."),
    ParameterSpec("timeout", .duration, default: "30s", "Limit for each request."),
    ParameterSpec("connect_timeout", .duration, default: "10s", "Limit for establishing each connection."),
    ParameterSpec("ca_bundle", .string, "PEM file of CAs to trust instead of the system store."),
  ]

  public static let facts: [FactSpec] = {
    let result = [resultArtifact]
    let fetch = [headersArtifact]
    let body = [wellKnownArtifact, resultArtifact]
    return [
      FactSpec("valid", .boolean, "No error-level diagnostic.", evidence: result),
      FactSpec("errors", .stringList, "Error diagnostics as code@line (e.g. expired@4).", evidence: result),
      FactSpec("recommendations", .stringList, "Recommendation diagnostics as code@line.", evidence: result),
      FactSpec("notifications", .stringList, "Notification diagnostics as code@line.", evidence: result),
      FactSpec("contacts", .stringList, "Contact values in file order (priority order).", evidence: body),
      FactSpec(
        "expires", .string, "The Expires instant (RFC 3339, UTC); empty when absent or malformed.", evidence: body),
      FactSpec(
        "days_until_expiry", .integer, "Whole days from now to Expires; null without a valid Expires.", evidence: body),
      FactSpec("signed", .boolean, "The file carries an OpenPGP cleartext signature.", evidence: body),
      FactSpec(
        "signature_verified", .boolean, "The signature verified with the pinned key (false when not checked).",
        evidence: result),
      FactSpec("signer", .string, "Primary key fingerprint of a verified signer; empty otherwise.", evidence: result),
      FactSpec("canonical", .stringList, "Canonical values.", evidence: body),
      FactSpec(
        "canonical_match", .string, "The fetched URL a Canonical value matched; empty if none.", evidence: result),
      FactSpec("acknowledgments", .stringList, "Acknowledgments values.", evidence: body),
      FactSpec("policy", .stringList, "Policy values.", evidence: body),
      FactSpec("hiring", .stringList, "Hiring values.", evidence: body),
      FactSpec("encryption", .stringList, "Encryption values.", evidence: body),
      FactSpec("preferred_languages", .stringList, "Language tags of Preferred-Languages.", evidence: body),
      FactSpec("csaf", .stringList, "CSAF values.", evidence: body),
      FactSpec("fetched_url", .string, "The URL that served the file validated; empty when none did.", evidence: fetch),
      FactSpec(
        "redirect_chain", .stringList, "Every URL visited to reach it, first and final included.", evidence: fetch),
      FactSpec("content_type", .string, "Content-Type of that response.", evidence: fetch),
      FactSpec("legacy_found", .boolean, "The legacy /security.txt also answered 200.", evidence: fetch),
    ]
  }()

  /// Where to look: the two RFC 9116 §3 locations of an authority, or one explicit URL.
  enum Target: Sendable, Hashable {
    case authority(String)
    case url(String)
  }

  let target: Target
  let expectedContacts: [String]
  let minDaysBeforeExpiry: Int?
  let requireSignature: Bool
  var pin: OpenPGPKeyPin?
  let httpFallback: Bool
  let followRedirects: Int
  let timeout: Double
  let connectTimeout: Double
  var caBundle: String?

  public init(parameters: Parameters) throws(ParameterError) {
    target = try Self.target(try parameters.requiredString("domain"))
    expectedContacts = parameters.stringList("expected_contacts") ?? []
    minDaysBeforeExpiry = parameters.integer("min_days_before_expiry")
    requireSignature = parameters.boolean("require_signature") ?? false
    let fingerprint = parameters.string("signer_fingerprint")
    if let key = parameters.string("signing_key") {
      guard !key.isEmpty else { throw ParameterError("signing_key", "is empty; give the path of a public key file") }
      pin = OpenPGPKeyPin(keyFile: URL(fileURLWithPath: key), fingerprint: fingerprint)
    } else if fingerprint != nil {
      throw ParameterError(
        "signer_fingerprint", "needs signing_key: the key file or keyring to resolve the fingerprint from")
    } else {
      pin = nil
    }
    if let fingerprint, !(fingerprint.filter { !$0.isWhitespace }.allSatisfy(\.isHexDigit)) {
      throw ParameterError("signer_fingerprint", "'\(fingerprint)' is not a hexadecimal fingerprint")
    }
    httpFallback = parameters.boolean("http_fallback") ?? true
    followRedirects = parameters.integer("follow_redirects") ?? 5
    guard followRedirects >= 0 else { throw ParameterError("follow_redirects", "must be 0 or more") }
    timeout = parameters.duration("timeout") ?? 30
    connectTimeout = parameters.duration("connect_timeout") ?? 10
    guard timeout > 0 else { throw ParameterError("timeout", "must be longer than 0s") }
    guard connectTimeout > 0 else { throw ParameterError("connect_timeout", "must be longer than 0s") }
    caBundle = parameters.string("ca_bundle")
  }

  static func target(_ domain: String) throws(ParameterError) -> Target {
    guard domain.contains("://") else {
      guard !domain.isEmpty, !domain.contains("/"), URLComponents(string: "https://\(domain)/")?.host != nil else {
        throw ParameterError("domain", "'\(domain)' is not a host name (example.com or example.com:8443)")
      }
      return .authority(domain)
    }
    guard let components = URLComponents(string: domain), components.scheme?.lowercased() == "https",
      let host = components.host, !host.isEmpty
    else { throw ParameterError("domain", "'\(domain)' is not an https:// URL with a host") }
    if components.path.isEmpty || components.path == "/" {
      return .authority(host + (components.port.map { ":\($0)" } ?? ""))
    }
    return .url(domain)
  }

  // MARK: Inspection

  /// One location's outcome: the responses received (redirects first) or why there was none.
  public struct Fetch: Sendable {
    public let url: String
    public let hops: [HTTPResponse]
    public let error: HTTPError?

    /// The final response when it is a 200.
    public var found: HTTPResponse? {
      guard error == nil, let last = hops.last, last.status == 200 else { return nil }
      return last
    }
  }

  /// Everything learnt about a site's security.txt; the CLI prints it, the collector turns it into facts.
  public struct Inspection: Sendable {
    public var report: SecurityTxtReport
    /// Every location tried, in order.
    public var fetches: [Fetch]
    /// The fetch whose file was validated.
    public var chosen: Fetch?
    public var legacy: Fetch?
    public var wellKnown: Fetch?
    public var verification: SignatureVerification?
  }

  /// Fetches, validates and verifies; throws only when no location produced any HTTP response at all.
  public func inspect(
    http: HTTPClient, now: Date, verifier: @autoclosure () throws(SignatureVerifierError) -> SignatureVerifier
  )
    async throws -> Inspection
  {
    var fetches: [Fetch] = []
    var wellKnown: Fetch?
    var legacy: Fetch?
    var chosen: Fetch?
    var retrieval: [SecurityTxtDiagnostic] = []
    switch target {
    case .url(let url):
      let fetch = await self.fetch(url, http: http)
      fetches.append(fetch)
      wellKnown = fetch
      if fetch.found != nil { chosen = fetch }
    case .authority(let authority):
      let secure = SecurityTxtRetrieval.locations(authority: authority)
      let first = await self.fetch(secure.wellKnown, http: http)
      let second = await self.fetch(secure.legacy, http: http)
      fetches += [first, second]
      wellKnown = first
      legacy = second
      if first.found != nil {
        chosen = first
      } else if second.found != nil {
        chosen = second
        retrieval.append(
          SecurityTxtDiagnostic(.location, "only the legacy \(secure.legacy) exists; serve it at \(secure.wellKnown)"))
      } else if httpFallback {
        let plain = SecurityTxtRetrieval.locations(authority: authority, scheme: "http")
        for url in [plain.wellKnown, plain.legacy] {
          let fetch = await self.fetch(url, http: http)
          fetches.append(fetch)
          guard fetch.found != nil else { continue }
          chosen = fetch
          let reason =
            first.error.map { "https failed: \($0.message)" } ?? "https answered \(first.hops.last?.status ?? 0)"
          retrieval.append(
            SecurityTxtDiagnostic(.invalidURIScheme, "the file is only reachable over plain http at \(url) (\(reason))")
          )
          if url == plain.legacy {
            retrieval.append(SecurityTxtDiagnostic(.location, "the file is only at the legacy location \(url)"))
          }
          break
        }
      }
    }
    guard let chosen, let response = chosen.found else {
      if fetches.allSatisfy({ $0.hops.isEmpty }), let error = fetches.first?.error { throw error }
      let tried = fetches.map { "\($0.url) (\($0.error?.message ?? "status \($0.hops.last?.status ?? 0)"))" }
      var report = SecurityTxtValidator.emptyReport()
      report.add(
        [SecurityTxtDiagnostic(.noSecurityTxt, "no location answered 200: \(tried.joined(separator: "; "))")])
      return Inspection(report: report, fetches: fetches, chosen: nil, legacy: legacy, wellKnown: wellKnown)
    }
    let chain = chosen.hops.map(\.url)
    retrieval += SecurityTxtRetrieval.checkRedirects(chain)
    retrieval += SecurityTxtRetrieval.checkContentType(response.header("Content-Type"))
    var report: SecurityTxtReport
    if !response.complete || response.bodySize > SecurityTxtRetrieval.sizeLimit {
      report = SecurityTxtValidator.emptyReport()
      retrieval.append(
        SecurityTxtDiagnostic(
          .tooLarge,
          "\(response.url) is larger than \(SecurityTxtRetrieval.sizeLimit) bytes; it was not read further or parsed"))
    } else {
      report = SecurityTxtValidator(now: now, fetchURLs: chain).validate(response.body)
      if let legacyBody = legacy?.found?.body, chosen.url == wellKnown?.url, legacyBody != response.body {
        retrieval.append(
          SecurityTxtDiagnostic(
            .legacyDiffers, "/security.txt differs from /.well-known/security.txt, which wins; make them identical"))
      }
    }
    report.add(retrieval)
    var inspection = Inspection(report: report, fetches: fetches, chosen: chosen, legacy: legacy, wellKnown: wellKnown)
    inspection.verification = try await SecurityTxtPolicy(
      expectedContacts: expectedContacts, minDaysBeforeExpiry: minDaysBeforeExpiry,
      requireSignature: requireSignature, pin: pin
    ).apply(to: &inspection.report, body: response.body, now: now, verifier: verifier())
    return inspection
  }

  private func fetch(_ url: String, http: HTTPClient) async -> Fetch {
    var request = HTTPRequest(url: url)
    request.timeout = timeout
    request.connectTimeout = connectTimeout
    request.caBundle = caBundle
    // One byte over the limit tells an over-long file from one exactly at it, without reading more.
    request.memoryLimit = SecurityTxtRetrieval.sizeLimit + 1
    request.maxDownload = SecurityTxtRetrieval.sizeLimit + 1
    var hops: [HTTPResponse] = []
    do throws(HTTPError) {
      let result = try await http.fetch(request, maxRedirects: followRedirects) { hops.append($0) }
      return Fetch(url: url, hops: result.hops, error: nil)
    } catch {
      return Fetch(url: url, hops: hops, error: error)
    }
  }

  // MARK: Collection

  public func collect(_ context: CollectionContext) async throws -> CollectorOutput {
    let now = context.clock.now()
    // Relative paths in a definition resolve from where vouch runs, like every other collector's.
    var resolved = self
    resolved.caBundle = caBundle.map { URL(fileURLWithPath: $0, relativeTo: context.baseDirectory).path }
    resolved.pin = pin.map {
      OpenPGPKeyPin(
        keyFile: URL(fileURLWithPath: $0.keyFile.relativePath, relativeTo: context.baseDirectory),
        fingerprint: $0.fingerprint)
    }
    let inspection = try await resolved.inspect(
      http: context.http, now: now,
      verifier: try SignatureVerifier.locate(environment: ProcessInfo.processInfo.environment))
    let artifacts = context.artifacts
    try writeHeaders(inspection.fetches, artifacts)
    let chosen = inspection.chosen
    let plainHTTP = chosen.flatMap {
      $0.url == inspection.wellKnown?.url || $0.url == inspection.legacy?.url ? nil : $0
    }
    for (name, fetch) in [
      (Self.wellKnownArtifact, inspection.wellKnown), (Self.legacyArtifact, inspection.legacy),
      (Self.plainHTTPArtifact, plainHTTP),
    ] {
      guard let fetch, let response = fetch.found else { continue }
      try store(response, as: name, artifacts)
    }
    let result = ParseResult(inspection: inspection, now: now)
    try artifacts.write(
      Self.resultArtifact, data: try BundleJSON.encode(result), mediaType: "application/json",
      summary: "Diagnostics, fields and signature verification")
    var evidence: [String: [String]] = [:]
    let written = Set(artifacts.records.map(\.path))
    for spec in Self.facts {
      let paths = spec.evidence.map(artifacts.bundlePath(of:)).filter(written.contains)
      if !paths.isEmpty { evidence[spec.name] = paths }
    }
    return CollectorOutput(facts: Self.facts(inspection, now: now), evidence: evidence)
  }

  static func facts(_ inspection: Inspection, now: Date) -> [String: FactValue] {
    let report = inspection.report
    func list(_ values: [String]) -> FactValue { .list(values.map { .string($0) }) }
    func tags(_ severity: SecurityTxtSeverity) -> FactValue { list(report.diagnostics(severity).map(\.tag)) }
    let languages = report.values("preferred-languages").flatMap {
      $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }
    let response = inspection.chosen?.found
    return [
      "valid": .boolean(report.isValid),
      "errors": tags(.error), "recommendations": tags(.recommendation), "notifications": tags(.notification),
      "contacts": list(report.values("contact")),
      "expires": .string(report.expires.map(Timestamp.format) ?? ""),
      "days_until_expiry": report.expires.map { .integer(SecurityTxtPolicy.wholeDays(from: now, to: $0)) } ?? .null,
      "signed": .boolean(report.signed),
      "signature_verified": .boolean(inspection.verification?.verified ?? false),
      "signer": .string(
        inspection.verification?.verified == true ? inspection.verification?.primaryFingerprint ?? "" : ""),
      "canonical": list(report.values("canonical")),
      "canonical_match": .string(report.canonicalMatch ?? ""),
      "acknowledgments": list(report.values("acknowledgments")),
      "policy": list(report.values("policy")),
      "hiring": list(report.values("hiring")),
      "encryption": list(report.values("encryption")),
      "preferred_languages": list(languages),
      "csaf": list(report.values("csaf")),
      "fetched_url": .string(response?.url ?? ""),
      "redirect_chain": list(inspection.chosen?.hops.map(\.url) ?? []),
      "content_type": .string(response?.header("Content-Type") ?? ""),
      "legacy_found": .boolean(inspection.legacy?.found != nil),
    ]
  }

  /// What `parse-result.json` holds.
  struct ParseResult: Encodable {
    let evaluatedAt: Date
    let fetchedURL: String?
    let redirectChain: [String]
    let valid: Bool
    let diagnostics: [SecurityTxtDiagnostic]
    let fields: [SecurityTxtField]
    let signed: Bool
    let signedLines: [Int]?
    let hashAlgorithms: [String]
    let canonicalMatch: String?
    let signatureVerification: SignatureVerification?

    init(inspection: Inspection, now: Date) {
      let report = inspection.report
      evaluatedAt = now
      fetchedURL = inspection.chosen?.found?.url
      redirectChain = inspection.chosen?.hops.map(\.url) ?? []
      valid = report.isValid
      diagnostics = report.diagnostics
      fields = report.fields
      signed = report.signed
      signedLines = report.signedLines.map { [$0.lowerBound, $0.upperBound] }
      hashAlgorithms = report.hashAlgorithms
      canonicalMatch = report.canonicalMatch
      signatureVerification = inspection.verification
    }
  }

  /// The exact bytes received; a body over the size limit is stored as the prefix that was read, marked truncated.
  private func store(_ response: HTTPResponse, as name: String, _ artifacts: ArtifactSink) throws {
    let truncated = !response.complete || response.bodySize > SecurityTxtRetrieval.sizeLimit
    let url = try artifacts.url(for: name)
    do {
      try response.body.write(to: url)
    } catch {
      throw ArtifactError("cannot write artifact \(url.path): \(error.localizedDescription)")
    }
    let summary =
      truncated
      ? "First \(response.body.count) bytes from \(response.url); the rest was refused unread"
      : "Bytes received from \(response.url)"
    artifacts.adopt(
      name, sha256: Digest.sha256(response.body), size: response.body.count,
      mediaType: response.header("Content-Type") ?? "application/octet-stream", summary: summary,
      truncated: truncated)
  }

  private func writeHeaders(_ fetches: [Fetch], _ artifacts: ArtifactSink) throws {
    var blocks: [String] = []
    for fetch in fetches {
      for hop in fetch.hops {
        var lines = ["# \(hop.url)", "\(hop.httpVersion) \(hop.status)\(hop.reason.isEmpty ? "" : " \(hop.reason)")"]
        lines += hop.headers.map { header in
          let value = header.name.lowercased() == "set-cookie" ? HTTPCollector.redactCookie(header.value) : header.value
          return "\(header.name): \(value)"
        }
        blocks.append(lines.joined(separator: "\n") + "\n")
      }
      if let error = fetch.error { blocks.append("# \(fetch.url)\n! \(error.kind.rawValue): \(error.message)\n") }
    }
    try artifacts.write(
      Self.headersArtifact, data: Data(blocks.joined(separator: "\n").utf8), mediaType: "text/plain",
      summary: "Status line and headers of every response for every location tried, redirects included")
  }
}

/// The control's own demands on top of RFC 9116: a verified signature, expected contacts, an expiry margin.
public struct SecurityTxtPolicy: Sendable {
  public var expectedContacts: [String]
  public var minDaysBeforeExpiry: Int?
  public var requireSignature: Bool
  public var pin: OpenPGPKeyPin?

  public init(
    expectedContacts: [String] = [], minDaysBeforeExpiry: Int? = nil, requireSignature: Bool = false,
    pin: OpenPGPKeyPin? = nil
  ) {
    self.expectedContacts = expectedContacts
    self.minDaysBeforeExpiry = minDaysBeforeExpiry
    self.requireSignature = requireSignature
    self.pin = pin
  }

  /// Adds the policy's diagnostics to `report`; runs gpgv only when a key is pinned and the file is signed.
  ///
  /// - Returns: gpgv's verdict, when it ran.
  /// - Throws: `SignatureVerifierError` when gpgv or the pinned key is unusable (no verdict is possible).
  public func apply(
    to report: inout SecurityTxtReport, body: Data, now: Date,
    verifier: @autoclosure () throws(SignatureVerifierError) -> SignatureVerifier
  ) async throws(SignatureVerifierError) -> SignatureVerification? {
    var found: [SecurityTxtDiagnostic] = []
    var verification: SignatureVerification?
    if report.signed, let pin {
      let result = try await verifier().verify(body, pin: pin)
      verification = result
      if !result.verified {
        found.append(SecurityTxtDiagnostic(.badSignature, "the signature does not verify: \(result.detail)", line: 1))
      }
    } else if !report.signed, requireSignature || pin != nil {
      found.append(SecurityTxtDiagnostic(.signatureRequired, "the file is not signed; sign it with the pinned key"))
    }
    let contacts = expectedContacts.isEmpty ? [] : Set(report.values("contact").map { $0.lowercased() })
    for expected in expectedContacts where !contacts.contains(expected.lowercased()) {
      found.append(SecurityTxtDiagnostic(.missingContact, "'Contact: \(expected)' is expected but not listed"))
    }
    if let minimum = minDaysBeforeExpiry, let expires = report.expires {
      let days = Self.wholeDays(from: now, to: expires)
      if days < minimum {
        found.append(
          SecurityTxtDiagnostic(
            .expiresSoon, "the file expires in \(days) day(s), fewer than the \(minimum) required; renew it"))
      }
    }
    report.add(found)
    return verification
  }

  /// Whole days from `now` to `date`, rounded down (negative once expired).
  public static func wholeDays(from now: Date, to date: Date) -> Int {
    Int((date.timeIntervalSince(now) / 86_400).rounded(.down))
  }
}
