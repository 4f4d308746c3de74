import CPseudonymMAC
import Foundation

/// Keyed pseudonyms for reporter identities: the same person gets the same pseudonym in every run with the same
/// key, so an auditor can follow one reporter across reports without learning who they are.
public struct Pseudonymizer: Sendable {
  /// Keys shorter than this are too guessable to protect e-mail addresses from a dictionary attack.
  public static let minimumKeyBytes = 16
  /// The keyed MAC, prepared once for the whole run.
  let mac: PseudonymMAC

  public init(key: Data) throws(ReportSLAError) {
    guard key.count >= Self.minimumKeyBytes else {
      throw ReportSLAError(
        "the pseudonym key has \(key.count) bytes; use at least \(Self.minimumKeyBytes) random bytes "
          + "(e.g. `openssl rand -hex 32`)")
    }
    mac = try PseudonymMAC(key: key)
  }

  /// `rp-` and the first 96 bits of HMAC-SHA-256 over the identity without surrounding spaces, lower-cased, in hex.
  public func pseudonym(for identity: String) -> String {
    var trimmed = ASCIITrim.trim(identity)
    var text: [UInt8] = []
    var scratch = ByteBuffer(capacity: 64)
    trimmed.withUTF8 { mac.appendPseudonym(ofIdentity: $0, scratch: &scratch, to: &text) }
    return String(decoding: text, as: UTF8.self)
  }
}

/// HMAC-SHA-256 (RFC 2104) with the key's inner and outer states computed once, by libcrypto: a pseudonym costs two
/// SHA-256 compressions on copies of those states and no allocation. Crypto's `HMAC` gives the same MAC but copies
/// heap-allocated hash contexts on every use, four times the cost per row of a million-row export; the tests hold
/// this one to Crypto's `HMAC` and to the RFC 4231 vectors. A plain value, so every task can use it.
struct PseudonymMAC: Sendable {
  private let key: vouch_pseudonym_key

  init(key: Data) throws(ReportSLAError) {
    guard OpenSSLGlobal.ready else { throw ReportSLAError("libcrypto could not be initialised for HMAC-SHA-256") }
    var prepared = vouch_pseudonym_key()
    let status = key.withUnsafeBytes { bytes in
      vouch_pseudonym_key_init(&prepared, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
    }
    guard status == 1 else { throw ReportSLAError("libcrypto could not prepare the pseudonym key for HMAC-SHA-256") }
    self.key = prepared
  }

  /// The 32-byte MAC of `message`.
  func code(of message: UnsafeRawBufferPointer) -> [UInt8] {
    var code = [UInt8](repeating: 0, count: 32)
    code.withUnsafeMutableBytes { compute(message, into: $0) }
    return code
  }

  /// Appends `rp-` and the pseudonym of `identity` (trimmed already): the MAC of its lower-cased bytes. ASCII is
  /// lower-cased into `scratch`, so a row of the table allocates nothing; anything else goes through
  /// `String.lowercased()`. The one normalisation every pseudonym gets.
  func appendPseudonym<Sink: ByteSink & ~Copyable>(
    ofIdentity identity: UnsafeBufferPointer<UInt8>, scratch: inout ByteBuffer, to sink: inout Sink
  ) {
    sink.append(0x72)
    sink.append(0x70)
    sink.append(0x2D)
    guard FieldBytes.isASCII(identity) else {
      var lowered = FieldBytes.string(identity).lowercased()
      lowered.withUTF8 { appendPseudonym(of: UnsafeRawBufferPointer($0), to: &sink) }
      return
    }
    scratch.removeAll()
    scratch.reserve(identity.count)
    for byte in identity { scratch.append(FieldBytes.asciiLower(byte)) }
    appendPseudonym(of: UnsafeRawBufferPointer(scratch.bytes), to: &sink)
  }

  /// Appends 24 hex digits: the first 96 bits of the MAC of `message`.
  func appendPseudonym<Sink: ByteSink & ~Copyable>(of message: UnsafeRawBufferPointer, to sink: inout Sink) {
    var code: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    withUnsafeMutableBytes(of: &code) { compute(message, into: $0) }
    withUnsafeBytes(of: &code) { code in
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

  private func compute(_ message: UnsafeRawBufferPointer, into code: UnsafeMutableRawBufferPointer) {
    let status = withUnsafePointer(to: key) { key in
      vouch_pseudonym_mac(
        key, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count,
        code.baseAddress?.assumingMemoryBound(to: UInt8.self))
    }
    // As Crypto treats a digest that cannot be updated: libcrypto fails here only if it is broken.
    precondition(status == 1, "libcrypto failed to compute HMAC-SHA-256")
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
