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

  /// `rp-` and the first 96 bits of HMAC-SHA-256 over the identity without surrounding spaces, lower-cased, in hex.
  public func pseudonym(for identity: String) -> String {
    var normalised = ASCIITrim.trim(identity).lowercased()
    var text: [UInt8] = Array("rp-".utf8)
    normalised.withUTF8 { mac().appendPseudonym(of: UnsafeRawBufferPointer($0), to: &text) }
    return String(decoding: text, as: UTF8.self)
  }

  /// The keyed MAC, for one task.
  func mac() -> PseudonymMAC { PseudonymMAC(key: key) }
}

/// HMAC-SHA-256 (RFC 2104) with both keyed states computed once. A pseudonym copies each state and feeds it raw
/// bytes through `update(bufferPointer:)`; Crypto's `HMAC`, fed through `DataProtocol` regions, costs several times
/// more per row. Holds Crypto's non-Sendable hash state, so each task makes its own.
struct PseudonymMAC {
  private let inner: SHA256
  private let outer: SHA256

  init(key: Data) {
    var block = [UInt8](repeating: 0, count: SHA256.blockByteCount)
    if key.count > block.count {
      block.replaceSubrange(0..<SHA256.byteCount, with: Array(SHA256.hash(data: key)))
    } else {
      block.replaceSubrange(0..<key.count, with: key)
    }
    var inner = SHA256()
    inner.update(data: block.map { $0 ^ 0x36 })
    var outer = SHA256()
    outer.update(data: block.map { $0 ^ 0x5C })
    self.inner = inner
    self.outer = outer
  }

  func code(of message: UnsafeRawBufferPointer) -> SHA256.Digest {
    var inner = inner
    inner.update(bufferPointer: message)
    var outer = outer
    inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
    return outer.finalize()
  }

  /// Appends the first 96 bits of the MAC of `message` in lower-case hex.
  func appendPseudonym<Sink: ByteSink & ~Copyable>(of message: UnsafeRawBufferPointer, to sink: inout Sink) {
    code(of: message).withUnsafeBytes { code in
      sink.append(count: 24) { out in
        for index in 0..<12 {
          let high = code[index] >> 4
          let low = code[index] & 0x0F
          out[2 * index] = high < 10 ? high &+ 0x30 : high &+ 0x57
          out[2 * index + 1] = low < 10 ? low &+ 0x30 : low &+ 0x57
        }
      }
    }
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
