import COpenSSL
import Crypto
import Foundation

/// One certificate as the server sent it, copied out of OpenSSL into plain values.
public struct CertificateInfo: Sendable, Hashable {
  public let subject: String
  public let issuer: String
  /// Uppercase hex.
  public let serial: String
  public let notBefore: Date
  public let notAfter: Date
  /// `rsa`, `ecdsa`, `ed25519`, `ed448`, `dsa` or OpenSSL's name for anything else.
  public let keyType: String
  public let keyBits: Int
  /// OpenSSL's curve name (`prime256v1`) for EC keys, empty otherwise.
  public let curve: String
  /// OpenSSL's name of the signature algorithm (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`).
  public let signatureAlgorithm: String
  /// `DNS:name` and `IP:address` entries.
  public let subjectAltNames: [String]
  /// Lowercase hex of the DER encoding.
  public let sha256: String
  public let der: Data

  /// Reads a certificate that stays owned by the session; nothing here frees or keeps `x509`.
  init(x509: OpaquePointer) {
    func text(_ fill: (UnsafeMutablePointer<CChar>, Int) -> Int) -> String {
      var buffer = [CChar](repeating: 0, count: 1024)
      func attempt() -> Int {
        buffer.withUnsafeMutableBufferPointer { raw in raw.baseAddress.map { fill($0, raw.count) } ?? 0 }
      }
      let needed = attempt()
      if needed >= buffer.count {
        buffer = [CChar](repeating: 0, count: needed + 1)
        _ = attempt()
      }
      return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    subject = text { vouch_x509_name_line(X509_get_subject_name(x509), $0, $1) }
    issuer = text { vouch_x509_name_line(X509_get_issuer_name(x509), $0, $1) }
    serial = text { vouch_x509_serial_hex(x509, $0, $1) }
    subjectAltNames = text { vouch_x509_san_lines(x509, $0, $1) }.split(separator: "\n").map(String.init)
    var seconds: Int64 = 0
    notBefore =
      vouch_asn1_time_epoch(X509_get0_notBefore(x509), &seconds) == 1
      ? Date(timeIntervalSince1970: TimeInterval(seconds)) : .distantPast
    notAfter =
      vouch_asn1_time_epoch(X509_get0_notAfter(x509), &seconds) == 1
      ? Date(timeIntervalSince1970: TimeInterval(seconds)) : .distantPast
    let signatureNID = X509_get_signature_nid(x509)
    signatureAlgorithm = OBJ_nid2ln(signatureNID).map { String(cString: $0) } ?? "unknown"
    if let key = X509_get0_pubkey(x509) {
      let id = EVP_PKEY_get_base_id(key)
      switch id {
      case EVP_PKEY_RSA, EVP_PKEY_RSA_PSS: keyType = "rsa"
      case EVP_PKEY_EC: keyType = "ecdsa"
      case EVP_PKEY_ED25519: keyType = "ed25519"
      case EVP_PKEY_ED448: keyType = "ed448"
      case EVP_PKEY_DSA: keyType = "dsa"
      default: keyType = OBJ_nid2sn(id).map { String(cString: $0) } ?? "unknown"
      }
      keyBits = Int(EVP_PKEY_get_bits(key))
      var group = ""
      if id == EVP_PKEY_EC {
        // The group name is short; a failed lookup leaves the buffer empty and the curve unknown.
        group = text { buffer, capacity in
          _ = vouch_pkey_group_name(key, buffer, capacity)
          return 0
        }
      }
      curve = group
    } else {
      keyType = "unknown"
      keyBits = 0
      curve = ""
    }
    var bytes = [UInt8](repeating: 0, count: 16 << 10)
    func encode() -> Int {
      Int(bytes.withUnsafeMutableBufferPointer { vouch_x509_der(x509, $0.baseAddress, Int32($0.count)) })
    }
    var length = encode()
    if length > bytes.count {
      bytes = [UInt8](repeating: 0, count: length)
      length = encode()
    }
    der = Data(bytes.prefix(max(0, length)))
    sha256 = SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
  }

  /// Whole days from `now` until `notAfter`; negative once expired.
  public func daysLeft(at now: Date) -> Int {
    Int((notAfter.timeIntervalSince(now) / 86_400).rounded(.down))
  }

  /// Days between `notBefore` and `notAfter`.
  public var lifetimeDays: Int {
    Int((notAfter.timeIntervalSince(notBefore) / 86_400).rounded(.up))
  }

  /// PEM text of the certificate as received.
  public var pem: String {
    "-----BEGIN CERTIFICATE-----\n" + der.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
      + "\n-----END CERTIFICATE-----\n"
  }

  /// The map published in the `certificates` fact.
  func fact(at now: Date) -> FactValue {
    .map([
      "subject": .string(subject), "issuer": .string(issuer), "serial": .string(serial),
      "not_before": .string(notBefore.formatted(.iso8601)), "not_after": .string(notAfter.formatted(.iso8601)),
      "days_left": .integer(daysLeft(at: now)), "key_type": .string(keyType), "key_bits": .integer(keyBits),
      "curve": .string(curve), "signature_algorithm": .string(signatureAlgorithm),
      "subject_alt_names": .list(subjectAltNames.map { .string($0) }), "sha256": .string(sha256),
    ])
  }
}
