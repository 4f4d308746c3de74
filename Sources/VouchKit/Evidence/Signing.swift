import Crypto
import Foundation

/// A key file could not be used.
public struct KeyError: Error, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Ed25519 keys in the PEM forms OpenSSL reads (PKCS #8 private key, SubjectPublicKeyInfo public key), so an auditor
/// can check a bundle's signature with `openssl pkeyutl` and never has to trust Vouch.
public enum BundleKeys {
  // DER prefixes of the two fixed-size Ed25519 structures (RFC 8410): the 32 key bytes follow.
  static let privatePrefix: [UInt8] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
  ]
  static let publicPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]

  /// A new key pair as PEM texts.
  public static func generate() -> (privatePEM: String, publicPEM: String) {
    let key = Curve25519.Signing.PrivateKey()
    return (pem(privatePrefix + key.rawRepresentation, label: "PRIVATE KEY"), publicPEM(key.publicKey))
  }

  public static func publicPEM(_ key: Curve25519.Signing.PublicKey) -> String {
    pem(publicPrefix + key.rawRepresentation, label: "PUBLIC KEY")
  }

  /// SHA-256 of the public key's DER form, the same value `openssl pkey -pubin -outform DER | sha256sum` prints.
  public static func fingerprint(_ key: Curve25519.Signing.PublicKey) -> String {
    Digest.sha256(Data(publicPrefix + key.rawRepresentation))
  }

  /// The variable naming the signing key file when no `--sign-key` is given, so the key path stays out of crontabs.
  public static let signingKeyVariable = "VOUCH_SIGN_KEY"

  /// The signing key from an explicit path, else from `$VOUCH_SIGN_KEY`; `nil` when neither is set (unsigned run).
  public static func signingKey(path: String?, environment: [String: String]) throws(KeyError) -> BundleSigningKey? {
    guard let path = path ?? environment[signingKeyVariable] else { return nil }
    return try loadPrivateKey(URL(fileURLWithPath: path))
  }

  public static func loadPrivateKey(_ url: URL) throws(KeyError) -> BundleSigningKey {
    let raw = try read(url, label: "PRIVATE KEY", prefix: privatePrefix)
    do {
      return BundleSigningKey(try Curve25519.Signing.PrivateKey(rawRepresentation: raw))
    } catch {
      throw KeyError("\(url.path): not an Ed25519 private key: \(error)")
    }
  }

  public static func loadPublicKey(_ url: URL) throws(KeyError) -> Curve25519.Signing.PublicKey {
    let raw = try read(url, label: "PUBLIC KEY", prefix: publicPrefix)
    return try publicKey(raw, source: url.path)
  }

  /// Reads a public key from PEM text (as embedded in `signature.json`).
  public static func publicKey(fromPEM text: String, source: String) throws(KeyError) -> Curve25519.Signing.PublicKey {
    try publicKey(try der(text, label: "PUBLIC KEY", prefix: publicPrefix, source: source), source: source)
  }

  static func publicKey(_ raw: Data, source: String) throws(KeyError) -> Curve25519.Signing.PublicKey {
    do {
      return try Curve25519.Signing.PublicKey(rawRepresentation: raw)
    } catch {
      throw KeyError("\(source): not an Ed25519 public key: \(error)")
    }
  }

  static func pem(_ der: [UInt8], label: String) -> String {
    "-----BEGIN \(label)-----\n\(Data(der).base64EncodedString())\n-----END \(label)-----\n"
  }

  private static func read(_ url: URL, label: String, prefix: [UInt8]) throws(KeyError) -> Data {
    let text: String
    do {
      text = try String(contentsOf: url, encoding: .utf8)
    } catch {
      throw KeyError("cannot read key file \(url.path): \(error.localizedDescription)")
    }
    return try der(text, label: label, prefix: prefix, source: url.path)
  }

  /// The 32 key bytes of a PEM block, checked against the fixed Ed25519 DER prefix.
  private static func der(_ text: String, label: String, prefix: [UInt8], source: String) throws(KeyError) -> Data {
    let begin = "-----BEGIN \(label)-----"
    let end = "-----END \(label)-----"
    guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex)
    else {
      throw KeyError("\(source): expected a PEM block '\(begin)' (make one with `vouch keygen`)")
    }
    let body = text[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
    guard let der = Data(base64Encoded: String(body)), der.count == prefix.count + 32, der.starts(with: prefix) else {
      throw KeyError("\(source): the \(label.lowercased()) is not an Ed25519 key in the form `vouch keygen` writes")
    }
    return der.dropFirst(prefix.count)
  }
}

/// The key that signs bundles, held as its 32 raw bytes so it can travel in `Sendable` run options.
public struct BundleSigningKey: Sendable {
  private let raw: Data
  /// SHA-256 of the public key's DER form.
  public let fingerprint: String

  public init(_ key: Curve25519.Signing.PrivateKey) {
    raw = key.rawRepresentation
    fingerprint = BundleKeys.fingerprint(key.publicKey)
  }

  var privateKey: Curve25519.Signing.PrivateKey {
    get throws { try Curve25519.Signing.PrivateKey(rawRepresentation: raw) }
  }
}

/// `signature.json`, beside the manifest: who signed it and how to check it.
public struct BundleSignature: Sendable, Codable, Hashable {
  public static let fileName = "signature.json"
  /// The raw 64-byte signature over `manifest.json`, for `openssl pkeyutl -verify -rawin`.
  public static let rawFileName = "manifest.sig"

  public let format: String
  public let algorithm: String
  /// What was signed: the exact bytes of this file.
  public let signedFile: String
  public let publicKeyFingerprint: String
  public let publicKey: String
  public let signature: String

  /// Signs the bytes of a manifest.
  public static func sign(manifest: Data, with signingKey: BundleSigningKey) throws -> (BundleSignature, Data) {
    let key = try signingKey.privateKey
    let signature = try key.signature(for: manifest)
    let record = BundleSignature(
      format: "vouch-signature/1", algorithm: "Ed25519", signedFile: Manifest.fileName,
      publicKeyFingerprint: BundleKeys.fingerprint(key.publicKey), publicKey: BundleKeys.publicPEM(key.publicKey),
      signature: signature.base64EncodedString())
    return (record, signature)
  }
}
