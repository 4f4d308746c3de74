import Foundation

/// One `Name: value` line of a security.txt file.
public struct SecurityTxtField: Sendable, Hashable, Encodable {
  /// As written (`CONTACT`, `Contact`…).
  public let name: String
  /// Without the separating whitespace and trailing whitespace; dash-escaping of signed files removed.
  public let value: String
  public let line: Int
  /// The lowercased name RFC 9116 compares by, computed once because every check looks fields up by it.
  public let key: String

  init(name: String, value: String, line: Int) {
    self.name = name
    self.value = value
    self.line = line
    key = name.lowercased()
  }

  enum CodingKeys: String, CodingKey { case name, value, line }
}

/// The outcome of validating one security.txt file: every diagnostic plus the fields it defines.
public struct SecurityTxtReport: Sendable, Hashable, Encodable {
  public internal(set) var diagnostics: [SecurityTxtDiagnostic]
  public let fields: [SecurityTxtField]
  /// An OpenPGP cleartext signature frame is present (well-formed or not; see `pgp_data_error`).
  public let signed: Bool
  /// Hash algorithms named by the `Hash:` armour headers of a signed file.
  public let hashAlgorithms: [String]
  /// First and last line of the signed text, when signed.
  public let signedLines: ClosedRange<Int>?
  /// The first well-formed `Expires` value.
  public let expires: Date?
  /// The fetch URL a `Canonical` field matched, when any did.
  public let canonicalMatch: String?

  public var isValid: Bool { !diagnostics.contains { $0.severity == .error } }

  public func diagnostics(_ severity: SecurityTxtSeverity) -> [SecurityTxtDiagnostic] {
    diagnostics.filter { $0.severity == severity }
  }

  /// Every value of a field, in file order, matched case-insensitively.
  public func values(_ name: String) -> [String] {
    let key = name.lowercased()
    return fields.filter { $0.key == key }.map(\.value)
  }

  /// Adds findings made outside the file (retrieval, signature verification, expectations), keeping line order.
  public mutating func add(_ more: [SecurityTxtDiagnostic]) {
    guard !more.isEmpty else { return }
    diagnostics = SecurityTxtValidator.ordered(diagnostics + more)
  }
}

/// Validates security.txt bytes against RFC 9116 §2–§4.
///
/// Pure (no I/O, the clock injected) so results are reproducible and the CLI can lint thousands of files a second.
public struct SecurityTxtValidator: Sendable {
  /// The instant `Expires` is compared with; injected so results are reproducible.
  public var now: Date
  /// Every URL the file was fetched from (the whole redirect chain); a `Canonical` field must list one of them.
  /// Empty for a local file, which skips the Canonical match.
  public var fetchURLs: [String]

  public init(now: Date, fetchURLs: [String] = []) {
    self.now = now
    self.fetchURLs = fetchURLs
  }

  /// Lines longer than this many bytes draw `long_line`.
  public static let lineLimit = 2_048
  static let uriFields: Set<String> = [
    "acknowledgments", "canonical", "contact", "encryption", "hiring", "policy", "csaf",
  ]
  static let knownFields = uriFields.union(["expires", "preferred-languages"])
  static let signedHeader = "-----BEGIN PGP SIGNED MESSAGE-----"
  static let signatureBegin = "-----BEGIN PGP SIGNATURE-----"
  static let signatureEnd = "-----END PGP SIGNATURE-----"

  public func validate(_ data: Data) -> SecurityTxtReport {
    var parse = Parse(validator: self, bytes: [UInt8](data))
    return parse.run()
  }

  /// A report for a file that was never read (not found, too large), to carry retrieval diagnostics.
  static func emptyReport() -> SecurityTxtReport {
    SecurityTxtReport(
      diagnostics: [], fields: [], signed: false, hashAlgorithms: [], signedLines: nil, expires: nil,
      canonicalMatch: nil)
  }

  static func ordered(_ diagnostics: [SecurityTxtDiagnostic]) -> [SecurityTxtDiagnostic] {
    diagnostics.enumerated().sorted { left, right in
      let (l, r) = (left.element.line ?? Int.max, right.element.line ?? Int.max)
      return l != r ? l < r : left.offset < right.offset
    }.map(\.element)
  }

  /// The state of one validation; a value so the validator itself stays immutable and Sendable.
  private struct Parse {
    let validator: SecurityTxtValidator
    let bytes: [UInt8]
    var diagnostics: [SecurityTxtDiagnostic] = []
    var fields: [SecurityTxtField] = []
    var signed = false
    var hashAlgorithms: [String] = []
    var signedLines: ClosedRange<Int>?
    var expires: Date?

    init(validator: SecurityTxtValidator, bytes: [UInt8]) {
      self.validator = validator
      self.bytes = bytes
    }

    mutating func add(_ code: SecurityTxtCode, _ message: String, line: Int? = nil) {
      diagnostics.append(SecurityTxtDiagnostic(code, message, line: line))
    }

    mutating func run() -> SecurityTxtReport {
      let lines = splitLines()
      if let header = lines.firstIndex(of: SecurityTxtValidator.signedHeader[...]) {
        signed = true
        if header != 0 {
          add(
            .signedFormatIssue, "the file must start with '\(SecurityTxtValidator.signedHeader)'; move it to line 1",
            line: header + 1)
        }
        for index in 0..<header { content(lines[index], line: index + 1) }
        parseSigned(lines, header: header)
      } else {
        for (index, text) in lines.enumerated() { content(text, line: index + 1) }
      }
      checkFile()
      let canonicalMatch = matchCanonical()
      return SecurityTxtReport(
        diagnostics: SecurityTxtValidator.ordered(diagnostics), fields: fields, signed: signed,
        hashAlgorithms: hashAlgorithms, signedLines: signedLines, expires: expires, canonicalMatch: canonicalMatch)
    }

    /// Splits on LF, trims `*WSP [CR]` before it, checks encoding and control characters line by line.
    mutating func splitLines() -> [Substring] {
      var start = 0
      if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
        add(.bomInFile, "the file starts with a UTF-8 byte-order mark; save it without one", line: 1)
        start = 3
      }
      var ranges: [Range<Int>] = []
      var lineStart = start
      for index in start..<bytes.count where bytes[index] == 0x0A {
        ranges.append(lineStart..<index)
        lineStart = index + 1
      }
      if lineStart < bytes.count {
        ranges.append(lineStart..<bytes.count)
        add(
          .noLineSeparators, "the last line does not end with a line feed; add a newline at the end of the file",
          line: ranges.count)
      }
      var reportedUTF8 = false
      return ranges.enumerated().map { offset, range in
        var end = range.upperBound
        while end > range.lowerBound, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 || bytes[end - 1] == 0x0D {
          end -= 1
        }
        let slice = bytes[range.lowerBound..<end]
        if slice.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
          add(
            .invalidChar, "the line holds control characters (NUL, CR, ESC…); only text, spaces and tabs are allowed",
            line: offset + 1)
        }
        if let text = String(validating: slice, as: UTF8.self) { return text[...] }
        if !reportedUTF8 {
          reportedUTF8 = true
          add(
            .utf8, "the file is not valid UTF-8 (first bad byte sequence on this line); re-encode it", line: offset + 1)
        }
        return String(decoding: slice, as: UTF8.self)[...]
      }
    }

    /// The cleartext frame of RFC 4880 §7: header, `Hash:` headers, blank line, dash-escaped text, signature block.
    mutating func parseSigned(_ lines: [Substring], header: Int) {
      var problem: String?
      var index = header + 1
      while index < lines.count, !lines[index].isEmpty {
        let line = lines[index]
        guard line.hasPrefix("Hash: ") else {
          problem = "line \(index + 1) is neither a 'Hash:' armour header nor the blank line that must end them"
          break
        }
        hashAlgorithms += line.dropFirst(6).split(separator: ",").map {
          String($0.trimmingSpacesAndTabs())
        }
        index += 1
      }
      if index < lines.count, lines[index].isEmpty { index += 1 }
      let textStart = index
      let begin = lines[textStart...].firstIndex(of: SecurityTxtValidator.signatureBegin[...])
      let textEnd = begin ?? lines.count
      if textEnd > textStart { signedLines = (textStart + 1)...textEnd }
      for text in textStart..<textEnd {
        var line = lines[text]
        if line.hasPrefix("- ") {
          line = line.dropFirst(2)
        } else if line.hasPrefix("-") {
          add(
            .signedFormatIssue, "a signed line starting with '-' must be dash-escaped as '- -…' (RFC 4880 §7.1)",
            line: text + 1)
        }
        content(line, line: text + 1)
      }
      guard let begin else {
        problem = problem ?? "no '\(SecurityTxtValidator.signatureBegin)' block follows the signed text"
        add(.pgpDataError, "the OpenPGP signature is malformed: \(problem ?? "")", line: header + 1)
        return
      }
      guard let end = lines[begin...].firstIndex(of: SecurityTxtValidator.signatureEnd[...]) else {
        add(
          .pgpDataError, "the OpenPGP signature is malformed: no '\(SecurityTxtValidator.signatureEnd)' line",
          line: header + 1)
        return
      }
      var data = begin + 1
      while data < end, !lines[data].isEmpty, lines[data].contains(": ") { data += 1 }
      if data < end, lines[data].isEmpty {
        data += 1
      } else if problem == nil {
        problem = "the signature block lacks the blank line after its armour headers"
      }
      if problem == nil {
        do throws(OpenPGPArmor.Problem) {
          _ = try OpenPGPArmor.decode(Array(lines[data..<end]), packetTags: [2])
        } catch {
          problem = error.description
        }
      }
      if let problem {
        add(.pgpDataError, "the OpenPGP signature is malformed: \(problem)", line: header + 1)
      }
      var reportedBlank = false
      for after in (end + 1)..<max(end + 1, lines.count) {
        if !lines[after].isEmpty {
          add(.dataAfterSignature, "nothing may follow the signature; remove this line or sign it", line: after + 1)
        } else if !reportedBlank {
          reportedBlank = true
          add(
            .tooManyLineSeparators, "blank lines follow the signature; end the file right after its END line",
            line: after + 1)
        }
      }
    }

    /// One line of the (signed or unsigned) text: blank, comment or field.
    /// Works on the UTF-8 view: Character-level (grapheme) scanning cost more than everything else per line.
    mutating func content(_ text: Substring, line: Int) {
      let bytes = text.utf8
      guard let first = bytes.first else { return }
      if bytes.count > SecurityTxtValidator.lineLimit {
        add(.longLine, "the line is \(bytes.count) bytes long; keep lines under 2,048 bytes", line: line)
      }
      if first == 0x20 || first == 0x09 {
        add(
          .leadingWhitespace, "the line starts with whitespace; fields and comments begin in the first column",
          line: line)
        return
      }
      if first == 0x23 { return }
      guard let colon = bytes.firstIndex(of: 0x3A) else {
        add(.invalidLine, "the line is neither a 'Name: value' field, a '#' comment nor blank", line: line)
        return
      }
      var nameBytes = bytes[..<colon]
      let restBytes = bytes[bytes.index(after: colon)...]
      if nameBytes.isEmpty {
        add(.emptyKey, "the field has no name before its colon", line: line)
        return
      }
      if let last = nameBytes.last, last == 0x20 || last == 0x09 {
        add(.precedingWhitespace, "remove the whitespace before the colon", line: line)
        while let end = nameBytes.last, end == 0x20 || end == 0x09 { nameBytes = nameBytes.dropLast() }
      }
      let name = Substring(nameBytes)
      guard nameBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
        add(
          .invalidFieldName, "the field name '\(name)' has spaces or non-ASCII characters; researchers cannot read it",
          line: line)
        return
      }
      let valueBytes = restBytes.drop { $0 == 0x20 || $0 == 0x09 }
      guard !valueBytes.isEmpty else {
        add(.emptyValue, "the field '\(name)' has no value", line: line)
        return
      }
      if restBytes.first != 0x20 {
        add(.noSpace, "put one space after the colon of '\(name)'", line: line)
      }
      let value = Substring(valueBytes)
      let field = SecurityTxtField(name: String(name), value: String(value), line: line)
      fields.append(field)
      check(field, value)
    }

    mutating func check(_ field: SecurityTxtField, _ value: Substring) {
      let key = field.key
      let line = field.line
      if SecurityTxtValidator.uriFields.contains(key) {
        guard let scheme = SecurityTxtSyntax.uriScheme(value) else {
          let message = "'\(field.name)' must be a URI such as mailto:…, tel:… or https://…; got '\(value)'"
          add(.noURI, message, line: line)
          return
        }
        let lowered = scheme.lowercased()
        if lowered == "http" {
          add(.noHTTPS, "'\(field.name)' uses http://; web URIs must begin with https://", line: line)
        }
        if key == "encryption", lowered == "data" {
          add(
            .inlineKey, "'Encryption' embeds the key in a data: URI; publish the key and link to it instead",
            line: line)
        }
        if key == "csaf", !value.hasSuffix("provider-metadata.json") {
          add(.noCSAFFile, "'CSAF' must point to a provider-metadata.json file", line: line)
        }
        return
      }
      switch key {
      case "expires":
        guard let date = SecurityTxtSyntax.rfc3339(value) else {
          add(
            .invalidExpiry, "'Expires' must be an RFC 3339 date-time such as 2027-01-31T12:00:00Z; got '\(value)'",
            line: line)
          return
        }
        if expires == nil { expires = date }
        let now = validator.now
        if date < now {
          add(.expired, "the file expired on \(SecurityTxtSyntax.format(date)); publish a fresh one", line: line)
        } else if date > SecurityTxtSyntax.oneYear(after: now) {
          add(.longExpiry, "'Expires' is more than a year ahead; a shorter horizon keeps the file reviewed", line: line)
        }
      case "preferred-languages":
        let tags = value.split(separator: ",", omittingEmptySubsequences: false).map {
          $0.trimmingSpacesAndTabs()
        }
        let bad = tags.filter { !SecurityTxtSyntax.isLanguageTag($0) }
        if !bad.isEmpty {
          let list = bad.map { "'\($0)'" }.joined(separator: ", ")
          add(.invalidLang, "'Preferred-Languages' holds \(list); list RFC 5646 tags separated by commas", line: line)
        }
      default:
        add(.unknownField, "'\(field.name)' is not an RFC 9116 field; researchers will ignore it", line: line)
      }
    }

    mutating func checkFile() {
      var linesByKey: [String: [Int]] = [:]
      for field in fields where SecurityTxtValidator.knownFields.contains(field.key) {
        linesByKey[field.key, default: []].append(field.line)
      }
      func lines(_ key: String) -> [Int] { linesByKey[key] ?? [] }
      let contacts = fields.filter { $0.key == "contact" }
      if contacts.isEmpty { add(.noContact, "add at least one 'Contact:' field") }
      let expiresLines = lines("expires")
      if expiresLines.isEmpty {
        add(.noExpire, "add an 'Expires:' field (an RFC 3339 date-time less than a year ahead)")
      } else if expiresLines.count > 1 {
        add(.multiExpire, "'Expires' appears \(expiresLines.count) times; keep exactly one", line: expiresLines[1])
      }
      let languageLines = lines("preferred-languages")
      if languageLines.count > 1 {
        add(.multiLang, "'Preferred-Languages' appears more than once; merge them", line: languageLines[1])
      }
      if lines("csaf").count > 1 {
        add(.multipleCSAFFields, "more than one 'CSAF' field; keep one if you can")
      }
      if contacts.contains(where: { $0.value.lowercased().hasPrefix("mailto:") }), lines("encryption").isEmpty {
        add(.noEncryption, "an e-mail contact is listed without an 'Encryption' key for confidential reports")
      }
      if !signed {
        add(.notSigned, "sign the file with an OpenPGP cleartext signature so readers can check it")
      } else if lines("canonical").isEmpty {
        add(.noCanonical, "a signed file should name its 'Canonical' URL so the signature cannot be replayed elsewhere")
      }
    }

    mutating func matchCanonical() -> String? {
      guard !validator.fetchURLs.isEmpty else { return nil }
      let canonical = fields.filter { $0.key == "canonical" }.map { Self.normalised($0.value) }
      guard !canonical.isEmpty else { return nil }
      if let match = validator.fetchURLs.first(where: { canonical.contains(Self.normalised($0)) }) { return match }
      add(
        .noCanonicalMatch,
        "no 'Canonical' field lists a URL the file was fetched from: "
          + validator.fetchURLs.joined(separator: " → ")
      )
      return nil
    }

    /// Scheme and host compared case-insensitively and a default port ignored, as RFC 3986 §6.2.3 allows.
    static func normalised(_ url: String) -> String {
      guard var components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
        return url
      }
      components.scheme = scheme
      components.host = components.host?.lowercased()
      if (scheme == "https" && components.port == 443) || (scheme == "http" && components.port == 80) {
        components.port = nil
      }
      if components.path.isEmpty { components.path = "/" }
      return components.string ?? url
    }
  }
}
