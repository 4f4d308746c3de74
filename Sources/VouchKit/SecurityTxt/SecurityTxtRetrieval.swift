import Foundation

/// Checks on how a security.txt file was served (RFC 9116 §3, §5.2), separate from its content so they stay pure.
public enum SecurityTxtRetrieval {
  /// RFC 9116 §5.4 asks parsers for size limits; 32 KiB is far above any real file and bounds what is read.
  public static let sizeLimit = 32 << 10

  /// The well-known and legacy locations for an authority (`example.com`, `example.com:8443`).
  public static func locations(authority: String, scheme: String = "https") -> (wellKnown: String, legacy: String) {
    ("\(scheme)://\(authority)/.well-known/security.txt", "\(scheme)://\(authority)/security.txt")
  }

  /// `Content-Type` must be `text/plain; charset=utf-8`.
  public static func checkContentType(_ header: String?) -> [SecurityTxtDiagnostic] {
    guard let header, !header.trimmingCharacters(in: .whitespaces).isEmpty else {
      return [SecurityTxtDiagnostic(.noContentType, "the response has no Content-Type; send text/plain; charset=utf-8")]
    }
    let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
    var found: [SecurityTxtDiagnostic] = []
    if parts.first?.lowercased() != "text/plain" {
      found.append(
        SecurityTxtDiagnostic(.invalidMedia, "Content-Type is '\(header)'; the media type must be text/plain"))
    }
    let charset = parts.dropFirst().first { $0.lowercased().hasPrefix("charset=") }.map {
      $0.dropFirst("charset=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
    }
    switch charset {
    case nil:
      found.append(
        SecurityTxtDiagnostic(
          .noCharset, "Content-Type '\(header)' has no charset; text/plain then means US-ASCII, add charset=utf-8"))
    case "utf-8", "utf8", "csutf8":
      break
    case let other?:
      found.append(SecurityTxtDiagnostic(.invalidCharset, "the charset is '\(other)'; it must be utf-8"))
    }
    return found
  }

  /// Every hop of a redirect chain must stay on https, and leaving the first host deserves a look.
  public static func checkRedirects(_ chain: [String]) -> [SecurityTxtDiagnostic] {
    guard let first = chain.first, chain.count > 1 else { return [] }
    var found: [SecurityTxtDiagnostic] = []
    let startHost = URLComponents(string: first)?.host?.lowercased()
    let startsSecure = URLComponents(string: first)?.scheme?.lowercased() == "https"
    if startsSecure,
      let plain = chain.dropFirst().first(where: { URLComponents(string: $0)?.scheme?.lowercased() != "https" })
    {
      found.append(
        SecurityTxtDiagnostic(.insecureRedirect, "the redirect chain passes through plain http at \(plain)"))
    }
    if let other = chain.dropFirst().first(where: { URLComponents(string: $0)?.host?.lowercased() != startHost }) {
      found.append(
        SecurityTxtDiagnostic(
          .redirectOtherHost, "\(first) redirects to another host (\(other)); make sure that host is yours"))
    }
    return found
  }
}
