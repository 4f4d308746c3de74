/// One of Mozilla's server-side TLS configurations (guidelines version 5.7), as data.
///
/// Suites are IANA names; groups are IANA names; certificate curves and signatures are OpenSSL's names, as
/// `CertificateInfo` reports them.
public struct MozillaProfile: Sendable, Hashable {
  public let name: String
  public let versions: [TLSVersion]
  /// TLS ≤ 1.2 suites.
  public let suites: [String]
  public let tls13Suites: [String]
  public let groups: [String]
  public let certificateTypes: [String]
  public let certificateCurves: [String]
  public let certificateSignatures: [String]
  /// Smallest RSA certificate key; `nil` when RSA certificates are not part of the profile.
  public let rsaKeyBits: Int?
  /// Smallest DHE key; `nil` when the profile has no DHE suites.
  public let dhBits: Int?
  public let maximumCertificateDays: Int

  public static let guidelinesVersion = "5.7"

  static let aeadTLS13 = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
  static let curves = ["x25519", "secp256r1", "secp384r1"]
  static let ecdsaSignatures = ["ecdsa-with-SHA256", "ecdsa-with-SHA384", "ecdsa-with-SHA512"]
  static let intermediateSuites = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
  ]

  public static let modern = MozillaProfile(
    name: "modern", versions: [.tls1_3], suites: [], tls13Suites: aeadTLS13, groups: curves,
    certificateTypes: ["ecdsa"], certificateCurves: ["prime256v1", "secp384r1"],
    certificateSignatures: ecdsaSignatures, rsaKeyBits: nil, dhBits: nil, maximumCertificateDays: 90)

  public static let intermediate = MozillaProfile(
    name: "intermediate", versions: [.tls1_2, .tls1_3], suites: intermediateSuites, tls13Suites: aeadTLS13,
    groups: curves, certificateTypes: ["ecdsa", "rsa"], certificateCurves: ["prime256v1", "secp384r1"],
    certificateSignatures: ["sha256WithRSAEncryption"] + ecdsaSignatures, rsaKeyBits: 2048, dhBits: 2048,
    maximumCertificateDays: 366)

  public static let old = MozillaProfile(
    name: "old", versions: [.tls1_0, .tls1_1, .tls1_2, .tls1_3],
    suites: intermediateSuites + [
      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
      "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
      "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
      "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_CBC_SHA256",
      "TLS_RSA_WITH_AES_256_CBC_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
      "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    ], tls13Suites: aeadTLS13, groups: curves, certificateTypes: ["rsa"],
    certificateCurves: ["prime256v1", "secp384r1"], certificateSignatures: ["sha256WithRSAEncryption"],
    rsaKeyBits: 2048, dhBits: 1024, maximumCertificateDays: 366)

  public static let all = [modern, intermediate, old]

  public static func named(_ name: String) -> MozillaProfile? { all.first { $0.name == name } }

  /// Every way `scan` departs from this profile, one sentence each; empty when it complies.
  public func deviations(of scan: TLSScanResult) -> [String] {
    var found: [String] = []
    let accepted = scan.protocols
    for version in accepted where !versions.contains(version) {
      found.append(
        "protocol \(version.name) is accepted; the \(name) profile allows \(Self.list(versions.map(\.name)))")
    }
    if !accepted.contains(where: versions.contains) {
      found.append("none of the \(name) profile's protocols (\(Self.list(versions.map(\.name)))) is accepted")
    }
    for (version, names) in scan.suites.sorted(by: { $0.key < $1.key }) {
      let allowed = version == .tls1_3 ? tls13Suites : suites
      for suite in names where !allowed.contains(suite) {
        found.append("cipher suite \(suite) is accepted in \(version.name); it is not in the \(name) profile")
      }
    }
    for group in scan.groups where !groups.contains(group) {
      found.append("key exchange group \(group) is accepted; the \(name) profile allows \(Self.list(groups))")
    }
    if let smallest = scan.dhBits {
      if let dhBits, smallest < dhBits {
        found.append("DHE uses \(smallest)-bit parameters; the \(name) profile requires at least \(dhBits)")
      }
    }
    if let leaf = scan.certificates.first {
      found += certificateDeviations(leaf)
    }
    return found
  }

  private func certificateDeviations(_ leaf: CertificateInfo) -> [String] {
    var found: [String] = []
    if !certificateTypes.contains(leaf.keyType) {
      found.append(
        "certificate key type \(leaf.keyType) is not one the \(name) profile allows (\(Self.list(certificateTypes)))")
    }
    if leaf.keyType == "rsa", let rsaKeyBits, leaf.keyBits < rsaKeyBits {
      found.append("certificate RSA key has \(leaf.keyBits) bits; the \(name) profile requires \(rsaKeyBits)")
    }
    if leaf.keyType == "ecdsa", !certificateCurves.contains(leaf.curve) {
      found.append(
        "certificate curve \(leaf.curve) is not one the \(name) profile allows (\(Self.list(certificateCurves)))")
    }
    if !certificateSignatures.contains(leaf.signatureAlgorithm) {
      found.append(
        "certificate signature \(leaf.signatureAlgorithm) is not one the \(name) profile allows "
          + "(\(Self.list(certificateSignatures)))")
    }
    if leaf.lifetimeDays > maximumCertificateDays {
      found.append(
        "certificate is valid for \(leaf.lifetimeDays) days; the \(name) profile allows at most "
          + "\(maximumCertificateDays)")
    }
    return found
  }

  private static func list(_ items: [String]) -> String { items.joined(separator: ", ") }
}
