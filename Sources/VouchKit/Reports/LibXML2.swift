import CLibXML2

/// Process-wide libxml2 set-up shared by everything in Vouch that calls libxml2.
enum LibXML2 {
  /// `xmlInitParser` is not safe to race on first use; a static initialiser runs exactly once, whichever thread
  /// gets there first.
  private static let initialized: Void = xmlInitParser()

  /// Call before any other libxml2 function.
  static func initialize() { _ = initialized }

  /// Whether a scalar may appear in an XML 1.0 document (the `Char` production).
  static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
    default: return false
    }
  }

  /// Replaces every scalar XML 1.0 cannot carry (NUL, most C0 controls, U+FFFE, U+FFFF) with U+FFFD, the
  /// replacement character, so text from collectors and servers always yields a well-formed document.
  static func xmlSafe(_ text: String) -> String {
    guard !text.unicodeScalars.allSatisfy(isXMLCharacter) else { return text }
    var scalars = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      scalars.append(isXMLCharacter(scalar) ? scalar : "\u{FFFD}")
    }
    return String(scalars)
  }
}
