import Foundation

/// Everything wrong with a scanned endpoint: Mozilla profile deviations first, then certificate trust and lifetime.
public struct TLSVerdict: Sendable {
  public let profile: String
  public let profileDeviations: [String]
  public let certificateProblems: [String]

  public var all: [String] { profileDeviations + certificateProblems }

  public init(scan: TLSScanResult, profile: MozillaProfile, minDaysLeft: Int, now: Date) {
    self.profile = profile.name
    profileDeviations = profile.deviations(of: scan)
    var problems: [String] = []
    if let leaf = scan.certificates.first {
      if !scan.chainValid { problems.append("certificate chain does not verify: \(scan.chainError)") }
      if !scan.hostnameMatch { problems.append("certificate is not valid for \(scan.target.checkedName)") }
      let days = leaf.daysLeft(at: now)
      if days < minDaysLeft {
        problems.append(
          days < 0
            ? "certificate expired \(-days) days ago"
            : "certificate expires in \(days) days; at least \(minDaysLeft) required")
      }
    } else {
      problems.append("the server sent no certificate")
    }
    certificateProblems = problems
  }
}

/// The JSON scan record stored as evidence: the findings and every probe behind them.
public struct TLSScanRecord: Encodable, Sendable {
  struct Certificate: Encodable, Sendable {
    let subject, issuer, serial: String
    let notBefore, notAfter: Date
    let keyType: String
    let keyBits: Int
    let curve, signatureAlgorithm: String
    let subjectAltNames: [String]
    let sha256: String

    enum CodingKeys: String, CodingKey {
      case subject, issuer, serial, curve, sha256
      case notBefore = "not_before", notAfter = "not_after", keyType = "key_type", keyBits = "key_bits"
      case signatureAlgorithm = "signature_algorithm", subjectAltNames = "subject_alt_names"
    }
  }

  let target: String
  let serverName: String?
  let scannedAt: Date
  let protocols: [String]
  let cipherSuites: [String: [String]]
  let serverCipherOrder: [String: Bool]
  let groups: [String]
  let groupsTestedWith: String
  let dhBits: Int?
  let certificates: [Certificate]
  let chainValid: Bool
  let chainError: String
  let hostnameMatch: Bool
  let ocspStapled: Bool
  let secureRenegotiation: Bool?
  let extendedMasterSecret: Bool?
  let compression: Bool?
  let hstsHeader: String?
  let hstsError: String?
  let profile: String
  let profileDeviations: [String]
  let certificateProblems: [String]
  let notTested: [String]
  let probes: [ProbeRecord]

  enum CodingKeys: String, CodingKey {
    case target, protocols, groups, certificates, profile, probes
    case serverName = "server_name", scannedAt = "scanned_at", cipherSuites = "cipher_suites"
    case serverCipherOrder = "server_cipher_order", groupsTestedWith = "groups_tested_with", dhBits = "dh_bits"
    case chainValid = "chain_valid", chainError = "chain_error", hostnameMatch = "hostname_match"
    case ocspStapled = "ocsp_stapled", secureRenegotiation = "secure_renegotiation"
    case extendedMasterSecret = "extended_master_secret", compression, hstsHeader = "hsts_header"
    case hstsError = "hsts_error", profileDeviations = "profile_deviations"
    case certificateProblems = "certificate_problems", notTested = "not_tested"
  }

  public init(scan: TLSScanResult, verdict: TLSVerdict, scannedAt: Date) {
    target = scan.target.label
    serverName = scan.target.serverName
    self.scannedAt = scannedAt
    protocols = scan.protocols.map(\.name)
    cipherSuites = Dictionary(uniqueKeysWithValues: scan.suites.map { ($0.key.name, $0.value) })
    serverCipherOrder = Dictionary(uniqueKeysWithValues: scan.serverOrder.map { ($0.key.name, $0.value) })
    groups = scan.groups
    groupsTestedWith = scan.groupsVersion.name
    dhBits = scan.dhBits
    certificates = scan.certificates.map {
      Certificate(
        subject: $0.subject, issuer: $0.issuer, serial: $0.serial, notBefore: $0.notBefore, notAfter: $0.notAfter,
        keyType: $0.keyType, keyBits: $0.keyBits, curve: $0.curve, signatureAlgorithm: $0.signatureAlgorithm,
        subjectAltNames: $0.subjectAltNames, sha256: $0.sha256)
    }
    chainValid = scan.chainValid
    chainError = scan.chainError
    hostnameMatch = scan.hostnameMatch
    ocspStapled = scan.ocspStapled
    secureRenegotiation = scan.secureRenegotiation
    extendedMasterSecret = scan.extendedMasterSecret
    compression = scan.compression
    hstsHeader = scan.hsts.header
    hstsError = scan.hsts.error
    profile = verdict.profile
    profileDeviations = verdict.profileDeviations
    certificateProblems = verdict.certificateProblems
    notTested = scan.notTested
    probes = scan.probes
  }
}
