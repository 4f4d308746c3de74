import Foundation
import Testing

@testable import VouchKit

/// One small file that must draw one diagnostic at one line.
struct DiagnosticCase: Sendable, CustomTestStringConvertible {
  let tag: String
  let text: String
  var fetchURLs: [String] = []

  var testDescription: String { tag }
}

@Suite struct SecurityTxtValidatorTests {
  static let now = Date(timeIntervalSince1970: 1_795_929_693)  // 2026-11-29T05:21:33Z
  static let expires = "Expires: 2027-03-01T00:00:00Z\n"
  static let contact = "Contact: https://example.com/report\n"
  /// A valid file's fields; cases add or replace lines around them.
  static let base = contact + expires

  static func validate(_ text: String, fetchURLs: [String] = []) -> SecurityTxtReport {
    SecurityTxtValidator(now: now, fetchURLs: fetchURLs).validate(Data(text.utf8))
  }

  static let signatureBlock = """
    -----BEGIN PGP SIGNATURE-----

    wpwEAQEIABAFAmTHcawJEDs4gPMoG10dAACN5wP/UozhFqHcUWRNhg4KwfY4
    HHXU8bf222naeYJHgaHadLTJJ8YQIQ9N5fYF7K4BM0jPZc48aaUPaBdhNxw+
    KDtQJWPzVREIbbGLRQ5WNYrLR6/7v1LHTI8RvgY22QZD9EAkFQwgdG8paIP4
    2APWewNf8e01t1oh4n5bDBtr4IaQoj0=
    =DHXw
    -----END PGP SIGNATURE-----

    """
  static func signed(_ body: String) -> String {
    "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + body + signatureBlock
  }

  static let cases: [DiagnosticCase] = [
    DiagnosticCase(tag: "bom_in_file@1", text: "\u{FEFF}" + base),
    DiagnosticCase(tag: "invalid_char@1", text: "Contact: https://example.com/\u{0}x\n" + expires),
    DiagnosticCase(tag: "no_line_separators@2", text: contact + "Expires: 2027-03-01T00:00:00Z"),
    DiagnosticCase(tag: "too_many_line_separators@15", text: signed("Canonical: https://example.com/\n" + base) + "\n"),
    DiagnosticCase(tag: "invalid_line@3", text: base + "just words\n"),
    DiagnosticCase(tag: "leading_ws@3", text: base + "  Policy: https://example.com/policy\n"),
    DiagnosticCase(tag: "invalid_field_name@3", text: base + "Security policy: https://example.com/p\n"),
    DiagnosticCase(tag: "prec_ws@3", text: base + "Policy : https://example.com/p\n"),
    DiagnosticCase(tag: "no_space@3", text: base + "Policy:https://example.com/p\n"),
    DiagnosticCase(tag: "empty_key@3", text: base + ": https://example.com/p\n"),
    DiagnosticCase(tag: "empty_value@3", text: base + "Policy:   \n"),
    DiagnosticCase(
      tag: "long_line@3", text: base + "Policy: https://example.com/" + String(repeating: "a", count: 2_100) + "\n"),
    DiagnosticCase(tag: "no_uri@1", text: "Contact: security@example.com\n" + expires),
    DiagnosticCase(tag: "no_https@3", text: base + "Policy: http://example.com/policy\n"),
    DiagnosticCase(tag: "inline_key@3", text: base + "Encryption: data:text/plain;base64,YWdlMXh5eg==\n"),
    DiagnosticCase(tag: "no_contact", text: expires),
    DiagnosticCase(tag: "no_expire", text: contact),
    DiagnosticCase(tag: "multi_expire@3", text: base + "Expires: 2027-02-01T00:00:00Z\n"),
    DiagnosticCase(tag: "invalid_expiry@2", text: contact + "Expires: Mon, 14 Mar 2027 00:00 +0000\n"),
    DiagnosticCase(tag: "expired@2", text: contact + "Expires: 2026-11-29T05:21:32Z\n"),
    DiagnosticCase(tag: "long_expiry@2", text: contact + "Expires: 2027-11-29T05:21:34Z\n"),
    DiagnosticCase(tag: "invalid_lang@3", text: base + "Preferred-Languages: en; cs\n"),
    DiagnosticCase(tag: "multi_lang@4", text: base + "Preferred-Languages: en\nPreferred-Languages: nl\n"),
    DiagnosticCase(
      tag: "no_canonical_match", text: base + "Canonical: https://example.com/.well-known/security.txt\n",
      fetchURLs: ["https://www.example.com/.well-known/security.txt"]),
    DiagnosticCase(tag: "no_csaf_file@3", text: base + "CSAF: https://example.com/csaf.json\n"),
    DiagnosticCase(
      tag: "multiple_csaf_fields",
      text: base + "CSAF: https://a.example/provider-metadata.json\nCSAF: https://b.example/provider-metadata.json\n"),
    DiagnosticCase(tag: "no_encryption", text: "Contact: mailto:security@example.com\n" + expires),
    DiagnosticCase(tag: "unknown_field@3", text: base + "Last-Updated: 2026-11-01\n"),
    DiagnosticCase(tag: "not_signed", text: base),
    DiagnosticCase(tag: "no_canonical", text: signed(base)),
    DiagnosticCase(
      tag: "signed_format_issue@2", text: "# comment\n" + signed("Canonical: https://example.com/\n" + base)),
    DiagnosticCase(tag: "signed_format_issue@6", text: signed(base + "-not escaped\n")),
    DiagnosticCase(
      tag: "pgp_data_error@1",
      text: "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n" + base
        + "-----BEGIN PGP SIGNATURE-----\nyes, but\n-----END PGP SIGNATURE-----\n"),
    DiagnosticCase(tag: "data_after_sig@15", text: signed("Canonical: https://example.com/\n" + base) + "Policy: x\n"),
  ]

  @Test(arguments: cases)
  func eachDiagnosticFiresWhereExpected(_ testCase: DiagnosticCase) {
    let report = Self.validate(testCase.text, fetchURLs: testCase.fetchURLs)
    let tags = report.diagnostics.map(\.tag)
    #expect(tags.contains(testCase.tag), "\(report.diagnostics)")
    let code = String(testCase.tag.prefix { $0 != "@" })
    let severity = SecurityTxtCode(rawValue: code)?.severity
    #expect(report.isValid == (severity != .error), "\(report.diagnostics)")
  }

  @Test func everyContentCodeHasACase() {
    let covered = Set(Self.cases.map { String($0.tag.prefix { $0 != "@" }) })
    let fetchOrPolicy: Set<SecurityTxtCode> = [
      .utf8, .badSignature, .signatureRequired, .noSecurityTxt, .location, .invalidURIScheme, .insecureRedirect,
      .redirectOtherHost, .legacyDiffers, .noContentType, .invalidMedia, .invalidCharset, .noCharset, .tooLarge,
      .missingContact, .expiresSoon,
    ]
    let content = Set(SecurityTxtCode.allCases).subtracting(fetchOrPolicy).map(\.rawValue)
    #expect(Set(content).subtracting(covered).isEmpty)
  }

  @Test func aCleanFileIsValidAndExposesItsFields() {
    let text = """
      # Our security address
      Contact: mailto:security@example.com
      Contact: tel:+1-201-555-0123
      Expires: 2027-03-01t00:00:00z
      Encryption: https://example.com/pgp-key.txt
      Acknowledgments: https://example.com/hall-of-fame.html
      Preferred-Languages: en, nl ,zh-Hant-TW
      Canonical: https://EXAMPLE.com:443/.well-known/security.txt
      Policy: https://example.com/policy.html
      Hiring: https://example.com/jobs.html
      CSAF: https://example.com/.well-known/csaf/provider-metadata.json

      """
    let fetched = "https://example.com/.well-known/security.txt"
    let report = Self.validate(text, fetchURLs: ["https://example.com/old", fetched])
    #expect(report.isValid, "\(report.diagnostics)")
    #expect(report.diagnostics.map(\.tag) == ["not_signed"])
    #expect(report.values("CONTACT") == ["mailto:security@example.com", "tel:+1-201-555-0123"])
    #expect(report.expires == Timestamp.parse("2027-03-01T00:00:00Z"))
    #expect(report.canonicalMatch == fetched)
    #expect(report.fields.first { $0.key == "hiring" }?.line == 10)
  }

  @Test func invalidUTF8IsReportedOnceWithItsLine() {
    var bytes = Data((Self.base + "# caf").utf8)
    bytes += [0xC3, 0x28, 0x0A, 0x23, 0xFF, 0x0A]
    let report = SecurityTxtValidator(now: Self.now).validate(bytes)
    #expect(report.diagnostics(.error).map(\.tag) == ["utf8@3"])
  }

  @Test func crlfTrailingWhitespaceAndBlankWhitespaceLinesAreFine() {
    let report = Self.validate("Contact: https://example.com/ \t\r\n \t\r\nExpires: 2027-03-01T00:00:00.5+01:00\r\n")
    #expect(report.isValid, "\(report.diagnostics)")
    #expect(report.expires == Timestamp.parse("2027-02-28T23:00:00Z")?.addingTimeInterval(0.5))
  }

  @Test func signedTextIsValidatedWithDashEscapingRemoved() {
    let report = Self.validate(Self.signed("Canonical: https://example.com/\n- " + Self.contact + Self.expires))
    #expect(report.isValid, "\(report.diagnostics)")
    #expect(report.signed)
    #expect(report.hashAlgorithms == ["SHA256"])
    #expect(report.signedLines == 4...6)
    #expect(report.values("contact") == ["https://example.com/report"])
    #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
  }

  @Test func aBrokenChecksumOrMissingSignatureIsAnArmourError() {
    let altered = Self.signed("Canonical: https://example.com/\n" + Self.base).replacingOccurrences(
      of: "=DHXw", with: "=DHXx")
    #expect(Self.validate(altered).diagnostics.map(\.tag).contains("pgp_data_error@1"))
    let truncated = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + Self.base
    let report = Self.validate(truncated)
    #expect(report.diagnostics.map(\.tag).contains("pgp_data_error@1"))
    #expect(report.signed)
  }

  @Test func calendarArithmeticAgreesWithFoundation() throws {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
    for seconds in stride(from: -2_000_000_000.0, through: 4_000_000_000.0, by: 7_654_321) {
      let date = Date(timeIntervalSince1970: seconds)
      #expect(SecurityTxtSyntax.format(date) == Timestamp.format(date))
      #expect(SecurityTxtSyntax.oneYear(after: date) == calendar.date(byAdding: .year, value: 1, to: date))
    }
    let leapDay = try #require(Timestamp.parse("2024-02-29T12:00:00Z"))
    #expect(SecurityTxtSyntax.format(SecurityTxtSyntax.oneYear(after: leapDay)) == "2025-02-28T12:00:00Z")
  }

  @Test func rfc3339AndLanguageTagGrammars() {
    for good in ["2027-02-28T23:59:60Z", "2024-02-29 10:00:00-05:30", "2027-01-01T00:00:00.123456z"] {
      #expect(SecurityTxtSyntax.rfc3339(good[...]) != nil, "\(good)")
    }
    for bad in [
      "2027-02-29T00:00:00Z", "2027-01-01T00:00Z", "2027-01-01", "2027-13-01T00:00:00Z", "2027-01-01T24:00:00Z",
      "2027-01-01T00:00:00", "2027-01-01T00:00:00+0100", "2027-01-01T00:00:00Z ",
    ] {
      #expect(SecurityTxtSyntax.rfc3339(bad[...]) == nil, "\(bad)")
    }
    for good in ["en", "zh-Hant-TW", "es-419", "de-CH-1901", "x-private", "en-a-bbb-x-a", "sgn-ase", "i-klingon"] {
      #expect(SecurityTxtSyntax.isLanguageTag(good[...]), "\(good)")
    }
    for bad in ["", "e", "en_US", "en; cs", "toolonglanguage", "en-", "en-a", "1en"] {
      #expect(!SecurityTxtSyntax.isLanguageTag(bad[...]), "\(bad)")
    }
  }

  @Test func contentTypeAndRedirectChecks() {
    func codes(_ diagnostics: [SecurityTxtDiagnostic]) -> [String] { diagnostics.map(\.code.rawValue) }
    #expect(codes(SecurityTxtRetrieval.checkContentType("text/plain; charset=UTF-8")) == [])
    #expect(codes(SecurityTxtRetrieval.checkContentType("text/plain;charset=\"utf-8\"")) == [])
    #expect(codes(SecurityTxtRetrieval.checkContentType(nil)) == ["no_content_type"])
    #expect(codes(SecurityTxtRetrieval.checkContentType("text/plain")) == ["no_charset"])
    #expect(codes(SecurityTxtRetrieval.checkContentType("text/html; charset=utf-8")) == ["invalid_media"])
    #expect(codes(SecurityTxtRetrieval.checkContentType("text/plain; charset=iso-8859-1")) == ["invalid_charset"])
    #expect(codes(SecurityTxtRetrieval.checkRedirects(["https://a.example/x"])) == [])
    #expect(codes(SecurityTxtRetrieval.checkRedirects(["https://a.example/x", "https://A.example/y"])) == [])
    #expect(
      codes(SecurityTxtRetrieval.checkRedirects(["https://a.example/x", "http://a.example/x", "https://b.example/"]))
        == ["insecure_redirect", "redirect_other_host"])
  }

  /// docs/security-txt.md's code table is the code's own table: severity, sectxt heritage and rule, row for row.
  @Test func everyCodeIsDocumented() throws {
    let docs = try Repository.text("docs/security-txt.md")
    for code in SecurityTxtCode.allCases {
      let row =
        "| `\(code.rawValue)` | \(code.severity.rawValue) | \(code.sharedWithSectxt ? "yes" : "no") | "
        + "\(code.rule.replacingOccurrences(of: "|", with: "\\|")) |"
      #expect(docs.contains(row), "\(row)")
    }
  }
}
