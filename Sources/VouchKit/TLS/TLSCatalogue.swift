import COpenSSL

/// A TLS protocol version Vouch can pin a probe to.
public enum TLSVersion: Int, Sendable, Hashable, Codable, CaseIterable, Comparable {
  case tls1_0 = 0x0301, tls1_1 = 0x0302, tls1_2 = 0x0303, tls1_3 = 0x0304

  /// How facts, findings and profiles name it.
  public var name: String {
    switch self {
    case .tls1_0: "TLS 1.0"
    case .tls1_1: "TLS 1.1"
    case .tls1_2: "TLS 1.2"
    case .tls1_3: "TLS 1.3"
    }
  }

  /// `CURL_SSLVERSION_TLSv1_x | CURL_SSLVERSION_MAX_TLSv1_x`: exactly this version and no other.
  var curlPinned: Int {
    let code: Int
    switch self {
    case .tls1_0: code = 4
    case .tls1_1: code = 5
    case .tls1_2: code = 6
    case .tls1_3: code = 7
    }
    return code | (code << 16)
  }

  /// The version OpenSSL reports for a negotiated session (`SSL_version`).
  init?(openSSL version: Int32) {
    self.init(rawValue: Int(version))
  }

  public static func < (lhs: TLSVersion, rhs: TLSVersion) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A key-exchange group, named as in the IANA "TLS Supported Groups" registry.
public struct TLSGroup: Sendable, Hashable {
  /// IANA name: `x25519`, `secp256r1`, `ffdhe2048`…
  public let iana: String
  /// OpenSSL's short name, used in group lists and reported for negotiated groups.
  let openSSL: String
  /// Finite-field groups are only negotiated in TLS 1.3; in TLS 1.2 the server's DH parameters decide.
  let finiteField: Bool
  /// Its code point in the IANA registry, as ServerKeyExchange names it.
  let id: Int

  /// Every group the probe offers, most common first (the first one gets the TLS 1.3 key share).
  public static let all: [TLSGroup] = [
    TLSGroup(iana: "x25519", openSSL: "X25519", finiteField: false, id: 29),
    TLSGroup(iana: "secp256r1", openSSL: "prime256v1", finiteField: false, id: 23),
    TLSGroup(iana: "secp384r1", openSSL: "secp384r1", finiteField: false, id: 24),
    TLSGroup(iana: "secp521r1", openSSL: "secp521r1", finiteField: false, id: 25),
    TLSGroup(iana: "x448", openSSL: "X448", finiteField: false, id: 30),
    TLSGroup(iana: "ffdhe2048", openSSL: "ffdhe2048", finiteField: true, id: 256),
    TLSGroup(iana: "ffdhe3072", openSSL: "ffdhe3072", finiteField: true, id: 257),
    TLSGroup(iana: "ffdhe4096", openSSL: "ffdhe4096", finiteField: true, id: 258),
    TLSGroup(iana: "ffdhe6144", openSSL: "ffdhe6144", finiteField: true, id: 259),
    TLSGroup(iana: "ffdhe8192", openSSL: "ffdhe8192", finiteField: true, id: 260),
  ]

  static func named(openSSL name: String) -> TLSGroup? { all.first { $0.openSSL == name } }

  static func withID(_ id: Int) -> TLSGroup? { all.first { $0.id == id } }

  /// The prime's size of a finite-field group (`ffdhe2048` → 2048), as OpenSSL reports a DH key's; `nil` for a curve.
  var finiteFieldBits: Int? { finiteField ? Int(iana.dropFirst("ffdhe".count)) : nil }
}

/// A cipher suite the local OpenSSL can offer, with its IANA name.
public struct TLSCipherSuite: Sendable, Hashable {
  public let iana: String
  /// OpenSSL's name, as `CURLOPT_SSL_CIPHER_LIST` / `CURLOPT_TLS13_CIPHERS` expect it.
  let openSSL: String
  /// TLS 1.3 suites are negotiated only in TLS 1.3 and only they are.
  let tls13: Bool
  /// Suites defined with TLS 1.2 (AEAD, SHA-256/384 MACs) cannot be used in TLS 1.0 or 1.1.
  let requiresTLS12: Bool

  func usable(in version: TLSVersion) -> Bool {
    if version == .tls1_3 { return tls13 }
    return !tls13 && (version == .tls1_2 || !requiresTLS12)
  }
}

/// What this machine's TLS library can and cannot put on the wire.
public struct TLSCatalogue: Sendable {
  /// Every suite the local OpenSSL offers at security level 0, TLS 1.3 suites included.
  public let suites: [TLSCipherSuite]
  /// Protocols and suite families the local library cannot offer; a scan reports them as "not tested".
  public let notTested: [String]
  /// Whether the library can offer TLS compression at all (Debian builds OpenSSL without zlib).
  public let compressionAvailable: Bool

  /// The suites of the IANA registry that matter for audits, with the family they belong to.
  static let notableLegacySuites: [(iana: String, family: String)] = [
    ("TLS_RSA_WITH_RC4_128_SHA", "RC4"), ("TLS_RSA_WITH_RC4_128_MD5", "RC4"),
    ("TLS_ECDHE_RSA_WITH_RC4_128_SHA", "RC4"), ("TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "RC4"),
    ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "3DES"), ("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "3DES"),
    ("TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "3DES"), ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", "EXPORT"),
    ("TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "EXPORT"), ("TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", "EXPORT"),
    ("TLS_RSA_WITH_DES_CBC_SHA", "DES"), ("TLS_DHE_RSA_WITH_DES_CBC_SHA", "DES"),
    ("TLS_RSA_WITH_IDEA_CBC_SHA", "IDEA"), ("TLS_RSA_WITH_SEED_CBC_SHA", "SEED"),
  ]

  /// The catalogue of the OpenSSL this process is linked with, read once.
  public static let local: Result<TLSCatalogue, TLSScanError> = load()

  private static func load() -> Result<TLSCatalogue, TLSScanError> {
    guard OpenSSLGlobal.ready, let context = SSL_CTX_new(TLS_client_method()) else {
      return .failure(TLSScanError(.local, "OpenSSL could not create a client context"))
    }
    defer { SSL_CTX_free(context) }
    SSL_CTX_set_security_level(context, 0)
    let tls13 =
      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
      + "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"
    guard SSL_CTX_set_cipher_list(context, "ALL:COMPLEMENTOFALL") == 1,
      SSL_CTX_set_ciphersuites(context, tls13) == 1
    else { return .failure(TLSScanError(.local, "OpenSSL refused the full cipher list")) }
    var suites: [TLSCipherSuite] = []
    for index in 0..<vouch_ssl_ctx_cipher_count(context) {
      guard let cipher = vouch_ssl_ctx_cipher_at(context, index), let standard = SSL_CIPHER_standard_name(cipher)
      else { continue }
      let version = String(cString: SSL_CIPHER_get_version(cipher))
      let isTLS13 = SSL_CIPHER_get_kx_nid(cipher) == NID_kx_any
      suites.append(
        TLSCipherSuite(
          iana: String(cString: standard), openSSL: String(cString: SSL_CIPHER_get_name(cipher)), tls13: isTLS13,
          requiresTLS12: version == "TLSv1.2" || isTLS13))
    }
    let offered = Set(suites.map(\.iana))
    var notTested = ["SSL 2.0", "SSL 3.0"]
    var families: [String] = []
    for suite in notableLegacySuites where !offered.contains(suite.iana) {
      if !families.contains(suite.family) { families.append(suite.family) }
    }
    notTested += families.map { "\($0) cipher suites" }
    let compression = vouch_ssl_compression_available() != 0
    if !compression { notTested.append("TLS compression") }
    return .success(TLSCatalogue(suites: suites, notTested: notTested, compressionAvailable: compression))
  }
}
