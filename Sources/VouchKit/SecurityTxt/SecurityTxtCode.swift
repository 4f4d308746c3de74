/// How much a diagnostic matters: only errors make a file invalid.
public enum SecurityTxtSeverity: String, Sendable, Hashable, Codable, CaseIterable {
  case error, recommendation, notification
}

/// Every diagnostic Vouch reports about a security.txt file, with a stable code.
///
/// Codes that name the same concept as the Python validator `sectxt` 0.9.8 reuse its spelling so people moving from
/// it recognise them; the rest are Vouch's own. Severity is part of the code, never decided per file.
/// `docs/security-txt.md` renders this table.
public enum SecurityTxtCode: String, Sendable, Hashable, Codable, CaseIterable {
  // Encoding and line structure (RFC 9116 §4, §3).
  case utf8, bomInFile = "bom_in_file", invalidChar = "invalid_char"
  case noLineSeparators = "no_line_separators", tooManyLineSeparators = "too_many_line_separators"
  case invalidLine = "invalid_line", leadingWhitespace = "leading_ws", invalidFieldName = "invalid_field_name"
  case precedingWhitespace = "prec_ws", noSpace = "no_space", emptyKey = "empty_key", emptyValue = "empty_value"
  case longLine = "long_line"
  // Field values (RFC 9116 §2.5).
  case noURI = "no_uri", noHTTPS = "no_https", inlineKey = "inline_key"
  case noContact = "no_contact", noExpire = "no_expire", multiExpire = "multi_expire"
  case invalidExpiry = "invalid_expiry", expired, longExpiry = "long_expiry"
  case invalidLang = "invalid_lang", multiLang = "multi_lang"
  case noCanonicalMatch = "no_canonical_match", noCSAFFile = "no_csaf_file", multipleCSAFFields = "multiple_csaf_fields"
  case noEncryption = "no_encryption", unknownField = "unknown_field"
  // OpenPGP cleartext signature (RFC 9116 §2.3, RFC 4880 §7).
  case notSigned = "not_signed", noCanonical = "no_canonical", signedFormatIssue = "signed_format_issue"
  case pgpDataError = "pgp_data_error", dataAfterSignature = "data_after_sig"
  case badSignature = "bad_signature", signatureRequired = "signature_required"
  // Retrieval (RFC 9116 §3).
  case noSecurityTxt = "no_security_txt", location, invalidURIScheme = "invalid_uri_scheme"
  case insecureRedirect = "insecure_redirect", redirectOtherHost = "redirect_other_host"
  case legacyDiffers = "legacy_differs", noContentType = "no_content_type", invalidMedia = "invalid_media"
  case invalidCharset = "invalid_charset", noCharset = "no_charset", tooLarge = "too_large"
  // The control's own expectations.
  case missingContact = "missing_contact", expiresSoon = "expires_soon"

  public var severity: SecurityTxtSeverity {
    switch self {
    case .longLine, .longExpiry, .multipleCSAFFields, .noEncryption, .notSigned, .noCanonical, .redirectOtherHost,
      .legacyDiffers:
      return .recommendation
    case .unknownField:
      return .notification
    default:
      return .error
    }
  }

  /// Whether `sectxt` 0.9.8 has a code of the same name and meaning.
  public var sharedWithSectxt: Bool {
    switch self {
    case .invalidChar, .leadingWhitespace, .invalidFieldName, .longLine, .inlineKey, .badSignature,
      .signatureRequired, .insecureRedirect, .redirectOtherHost, .legacyDiffers, .noCharset, .tooLarge,
      .missingContact, .expiresSoon:
      return false
    default:
      return true
    }
  }

  /// The rule behind the code and where it comes from, for the code table.
  public var rule: String {
    switch self {
    case .utf8: return "The file must be UTF-8 (RFC 9116 §2, RFC 5198)."
    case .bomInFile: return "No byte-order mark at the start (RFC 9116 §2: UTF-8 in Net-Unicode form, RFC 5198)."
    case .invalidChar: return "No control characters other than tab, e.g. NUL (RFC 9116 §4 ABNF: VCHAR / WSP)."
    case .noLineSeparators: return "Every line, the last included, ends with LF or CRLF (RFC 9116 §2.2, §4 `eol`)."
    case .tooManyLineSeparators: return "Nothing, not even blank lines, after a signature's END line (RFC 9116 §4)."
    case .invalidLine: return "A line is a field, a comment or blank (RFC 9116 §4 `line`)."
    case .leadingWhitespace: return "A field or comment starts in column 1; no folded lines (RFC 9116 §4)."
    case .invalidFieldName: return "Field names are printable ASCII without spaces (RFC 5322 §3.6.8 `field-name`)."
    case .precedingWhitespace: return "No whitespace before the colon (RFC 9116 §4 `fs`)."
    case .noSpace: return "One space after the colon (RFC 9116 §4 `fs SP`)."
    case .emptyKey: return "The field name must not be empty."
    case .emptyValue: return "The field value must not be empty."
    case .longLine: return "Lines longer than 2,048 bytes are hard to review (RFC 9116 §5.4)."
    case .noURI: return "URI fields hold a URI with a scheme, e.g. `mailto:` (RFC 9116 §2.5)."
    case .noHTTPS: return "Web URIs must use https (RFC 9116 §2.5.1–§2.5.8)."
    case .inlineKey:
      return "`Encryption` points to a key; the key itself, even in a `data:` URI, must not appear (§2.5.4)."
    case .noContact: return "`Contact` must appear at least once (RFC 9116 §2.5.3)."
    case .noExpire: return "`Expires` must appear (RFC 9116 §2.5.5)."
    case .multiExpire: return "`Expires` must not appear more than once (RFC 9116 §2.5.5)."
    case .invalidExpiry: return "`Expires` is an RFC 3339 date-time (RFC 9116 §2.5.5)."
    case .expired: return "`Expires` must be in the future (RFC 9116 §2.5.5)."
    case .longExpiry: return "`Expires` should be less than a year ahead (RFC 9116 §2.5.5)."
    case .invalidLang: return "`Preferred-Languages` lists RFC 5646 tags separated by commas (§2.5.8)."
    case .multiLang: return "`Preferred-Languages` must not appear more than once (RFC 9116 §2.5.8)."
    case .noCanonicalMatch: return "When `Canonical` is present, a URL the file was fetched from is listed (§2.5.2)."
    case .noCSAFFile: return "`CSAF` points to a provider-metadata.json (CSAF 2.0 §7.1.8)."
    case .multipleCSAFFields: return "More than one `CSAF` field should be avoided (CSAF 2.0 §7.1.8)."
    case .noEncryption: return "With an e-mail `Contact`, an `Encryption` key should be offered (RFC 9116 §2.5.4)."
    case .unknownField: return "A field RFC 9116 does not define; researchers ignore it (RFC 9116 §2.4)."
    case .notSigned: return "The file should carry an OpenPGP cleartext signature (RFC 9116 §2.3)."
    case .noCanonical: return "A signed file should carry `Canonical` (RFC 9116 §2.3, §2.5.2)."
    case .signedFormatIssue: return "A signed file starts with the cleartext header and dash-escapes (RFC 4880 §7)."
    case .pgpDataError:
      return "The armour (headers, blank line, signature block, checksum) is well-formed (RFC 4880 §6–§7)."
    case .dataAfterSignature: return "No data after the signature (RFC 9116 §4 `signed`)."
    case .badSignature: return "The signature verifies against the pinned key (gpgv)."
    case .signatureRequired: return "The control requires a signed file (a pinned key implies it)."
    case .noSecurityTxt: return "The file is served with status 200 at /.well-known/security.txt (RFC 9116 §3)."
    case .location: return "Only the legacy /security.txt exists; the well-known path is required (RFC 9116 §3)."
    case .invalidURIScheme: return "The file is only reachable over plain http; https is required (RFC 9116 §3)."
    case .insecureRedirect: return "A redirect on the way passes through plain http (RFC 9116 §3)."
    case .redirectOtherHost: return "A redirect leads to another host; check it is yours (RFC 9116 §5.2)."
    case .legacyDiffers: return "/security.txt differs from the well-known file, which wins (RFC 9116 §3)."
    case .noContentType: return "A Content-Type header is sent (RFC 9116 §3)."
    case .invalidMedia: return "The media type is text/plain (RFC 9116 §3)."
    case .invalidCharset: return "The charset parameter is utf-8 (RFC 9116 §3)."
    case .noCharset: return "The charset parameter is present and utf-8 (RFC 9116 §3; text/plain defaults to ASCII)."
    case .tooLarge: return "The file is at most 32 KiB; larger bodies are refused unread (RFC 9116 §5.4)."
    case .missingContact: return "A contact the control expects is listed."
    case .expiresSoon: return "`Expires` is at least the control's minimum number of days ahead."
    }
  }
}

/// One finding about a security.txt file.
public struct SecurityTxtDiagnostic: Sendable, Hashable, Encodable, CustomStringConvertible {
  public let code: SecurityTxtCode
  public let message: String
  /// 1-based line in the file as received (signed files included); `nil` for findings about the whole file.
  public let line: Int?

  public init(_ code: SecurityTxtCode, _ message: String, line: Int? = nil) {
    self.code = code
    self.message = message
    self.line = line
  }

  public var severity: SecurityTxtSeverity { code.severity }

  /// `code@line`, the form the corpus index and the facts use.
  public var tag: String { line.map { "\(code.rawValue)@\($0)" } ?? code.rawValue }

  public var description: String {
    "\(severity.rawValue) \(tag): \(message)"
  }

  enum CodingKeys: String, CodingKey { case code, severity, message, line }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(code, forKey: .code)
    try container.encode(severity, forKey: .severity)
    try container.encode(message, forKey: .message)
    try container.encodeIfPresent(line, forKey: .line)
  }
}
