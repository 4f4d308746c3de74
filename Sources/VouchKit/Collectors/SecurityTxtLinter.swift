import Foundation

/// `vouch security-txt`'s engine: the collector's validation for local files and URLs, without an evidence bundle.
public struct SecurityTxtLinter: Sendable {
  /// The verdict on one file or site.
  public struct Result: Sendable, Encodable {
    public let target: String
    public let report: SecurityTxtReport
    /// The URL that served the file, for sites.
    public let fetchedURL: String?
    public let verification: SignatureVerification?

    public var valid: Bool { report.isValid }

    enum CodingKeys: String, CodingKey {
      case target, valid, fetchedURL = "fetched_url", diagnostics, signed, signatureVerified = "signature_verified"
      case signer
    }

    public func encode(to encoder: Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(target, forKey: .target)
      try container.encode(valid, forKey: .valid)
      try container.encodeIfPresent(fetchedURL, forKey: .fetchedURL)
      try container.encode(report.diagnostics, forKey: .diagnostics)
      try container.encode(report.signed, forKey: .signed)
      try container.encodeIfPresent(verification?.verified, forKey: .signatureVerified)
      try container.encodeIfPresent(
        verification?.verified == true ? verification?.primaryFingerprint : nil, forKey: .signer)
    }
  }

  /// A file that cannot be read.
  public struct ReadError: Error, Sendable, CustomStringConvertible {
    public let description: String
  }

  public var now: Date
  /// URLs a local file is taken to have been fetched from, for the Canonical match.
  public var assumedURLs: [String]
  public var policy: SecurityTxtPolicy
  public var caBundle: String?
  public var timeout: Double
  public var environment: [String: String]

  public init(
    now: Date, assumedURLs: [String] = [], policy: SecurityTxtPolicy = SecurityTxtPolicy(), caBundle: String? = nil,
    timeout: Double = 30, environment: [String: String] = [:]
  ) {
    self.now = now
    self.assumedURLs = assumedURLs
    self.policy = policy
    self.caBundle = caBundle
    self.timeout = timeout
    self.environment = environment
  }

  /// Whether a command-line target names a site rather than a file.
  public static func isURL(_ target: String) -> Bool {
    let lowered = target.lowercased()
    return lowered.hasPrefix("https://") || lowered.hasPrefix("http://")
  }

  public func lint(file path: String) async throws -> Result {
    let data = try Self.read(path, limit: SecurityTxtRetrieval.sizeLimit + 1)
    guard data.count <= SecurityTxtRetrieval.sizeLimit else {
      var report = SecurityTxtValidator.emptyReport()
      report.add([
        SecurityTxtDiagnostic(
          .tooLarge, "\(path) is larger than \(SecurityTxtRetrieval.sizeLimit) bytes; it was not parsed")
      ])
      return Result(target: path, report: report, fetchedURL: nil, verification: nil)
    }
    var report = SecurityTxtValidator(now: now, fetchURLs: assumedURLs).validate(data)
    let environment = environment
    let verification = try await policy.apply(
      to: &report, body: data, now: now, verifier: try SignatureVerifier.locate(environment: environment))
    return Result(target: path, report: report, fetchedURL: nil, verification: verification)
  }

  /// At most `limit` bytes of a file: one byte over the size limit is enough to refuse it, so a huge file is never
  /// read whole. Plain POSIX calls: with thousands of files, Foundation's URL and FileHandle dominated the run time.
  static func read(_ path: String, limit: Int) throws(ReadError) -> Data {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw ReadError(description: "cannot read \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    var buffer = [UInt8](repeating: 0, count: limit)
    var count = 0
    while count < limit {
      let received = buffer.withUnsafeMutableBytes { bytes in
        bytes.baseAddress.map { Foundation.read(descriptor, $0 + count, limit - count) } ?? -1
      }
      if received == 0 { break }
      guard received > 0 else {
        if errno == EINTR { continue }
        throw ReadError(description: "cannot read \(path): \(String(cString: strerror(errno)))")
      }
      count += received
    }
    return Data(buffer[..<count])
  }

  public func lint(url: String, http: HTTPClient) async throws -> Result {
    var values: [String: ParameterValue] = [
      "domain": .string(url), "timeout": .duration(timeout), "expected_contacts": .stringList(policy.expectedContacts),
      "require_signature": .boolean(policy.requireSignature),
    ]
    if let caBundle { values["ca_bundle"] = .string(caBundle) }
    if let minimum = policy.minDaysBeforeExpiry { values["min_days_before_expiry"] = .integer(minimum) }
    if let pin = policy.pin {
      values["signing_key"] = .string(pin.keyFile.path)
      if let fingerprint = pin.fingerprint { values["signer_fingerprint"] = .string(fingerprint) }
    }
    let collector = try SecurityTxtCollector(parameters: Parameters(values))
    let environment = environment
    let inspection = try await collector.inspect(
      http: http, now: now, verifier: try SignatureVerifier.locate(environment: environment))
    return Result(
      target: url, report: inspection.report, fetchedURL: inspection.chosen?.found?.url,
      verification: inspection.verification)
  }
}
