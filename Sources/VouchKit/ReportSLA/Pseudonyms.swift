import Crypto
import Foundation

/// Keyed pseudonyms for reporter identities: the same person gets the same pseudonym in every run with the same
/// key, so an auditor can follow one reporter across reports without learning who they are.
public struct Pseudonymizer: Sendable {
  /// Raw key bytes: `SymmetricKey` is not Sendable, so a key is made for each use.
  private let key: Data
  /// Keys shorter than this are too guessable to protect e-mail addresses from a dictionary attack.
  public static let minimumKeyBytes = 16

  public init(key: Data) throws(ReportSLAError) {
    guard key.count >= Self.minimumKeyBytes else {
      throw ReportSLAError(
        "the pseudonym key has \(key.count) bytes; use at least \(Self.minimumKeyBytes) random bytes "
          + "(e.g. `openssl rand -hex 32`)")
    }
    self.key = key
  }

  /// The keyed MAC, set up once: keying HMAC for every row costs more than the MAC itself.
  func prototype() -> HMAC<SHA256> {
    HMAC<SHA256>(key: SymmetricKey(data: key))
  }

  /// `rp-` and the first 96 bits of HMAC-SHA-256 over the identity without surrounding spaces, lower-cased, in hex.
  public func pseudonym(for identity: String) -> String {
    let normalised = ASCIITrim.trim(identity).lowercased()
    return Self.pseudonym(normalised: normalised, mac: prototype())
  }

  static func pseudonym(normalised: String, mac: HMAC<SHA256>) -> String {
    var mac = mac
    mac.update(data: Data(normalised.utf8))
    return "rp-" + Digest.hex(Data(mac.finalize()).prefix(12))
  }
}

/// Pseudonyms of one run, remembered per identity: reporters recur, and each HMAC costs a microsecond.
/// Used by one task only, so it holds Crypto's non-Sendable HMAC state.
struct PseudonymCache {
  private let mac: HMAC<SHA256>
  private var known: [String: String] = [:]

  init(_ pseudonymizer: Pseudonymizer) {
    mac = pseudonymizer.prototype()
  }

  mutating func pseudonym(for identity: String) -> String {
    if let known = known[identity] { return known }
    let made = Pseudonymizer.pseudonym(normalised: ASCIITrim.trim(identity).lowercased(), mac: mac)
    known[identity] = made
    return made
  }
}

/// The acknowledgments page as searchable text: tags removed, common entities decoded, case and spacing folded.
/// Only held in memory; the page itself is not copied into the bundle because it lists names.
struct AcknowledgmentsPage: Sendable {
  let url: String
  let sha256: String
  let size: Int
  private let text: String

  init(url: String, body: Data, sha256: String) {
    self.url = url
    self.sha256 = sha256
    size = body.count
    var plain = ""
    var inTag = false
    for character in String(decoding: body, as: UTF8.self) {
      if character == "<" {
        inTag = true
        plain.append(" ")
      } else if character == ">" {
        inTag = false
      } else if !inTag {
        plain.append(character)
      }
    }
    let entities = [("&amp;", "&"), ("&#39;", "'"), ("&apos;", "'"), ("&quot;", "\""), ("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">")]
    for (entity, character) in entities { plain = plain.replacingOccurrences(of: entity, with: character) }
    text = " " + Self.fold(plain) + " "
  }

  static func fold(_ text: String) -> String {
    text.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
  }

  /// Whether `name` appears on the page as a whole phrase (so "Al" does not match "Alice").
  func lists(_ name: String) -> Bool {
    let folded = Self.fold(name)
    guard !folded.isEmpty else { return false }
    var searchRange = text.startIndex..<text.endIndex
    while let found = text.range(of: folded, range: searchRange) {
      let before = text[text.index(before: found.lowerBound)]
      let after = found.upperBound < text.endIndex ? text[found.upperBound] : " "
      if !(before.isLetter || before.isNumber) && !(after.isLetter || after.isNumber) { return true }
      searchRange = text.index(after: found.lowerBound)..<text.endIndex
    }
    return false
  }
}
