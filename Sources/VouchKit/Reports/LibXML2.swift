import CLibXML2
import Foundation

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

/// Owns one libxml2 text writer and its memory buffer. Neither pointer leaves this object, and every libxml2 return
/// code is checked and turned into a `ReportError`.
final class XMLTextWriter {
  private let buffer: xmlBufferPtr
  private let writer: xmlTextWriterPtr
  /// Open elements, innermost last, to say where a failure happened.
  private var path: [String] = []

  init() throws {
    LibXML2.initialize()
    guard let buffer = xmlBufferCreate() else { throw ReportError("libxml2 could not allocate an XML output buffer") }
    guard let writer = xmlNewTextWriterMemory(buffer, 0) else {
      xmlBufferFree(buffer)
      throw ReportError("libxml2 could not create an XML text writer")
    }
    self.buffer = buffer
    self.writer = writer
    try check(xmlTextWriterSetIndent(writer, 1), "xmlTextWriterSetIndent")
    try check(xmlTextWriterSetIndentString(writer, Self.bytes("  ")), "xmlTextWriterSetIndentString")
  }

  deinit {
    xmlFreeTextWriter(writer)
    xmlBufferFree(buffer)
  }

  /// Starts the document and its root element, in `namespace` when given.
  func startDocument(root: String, namespace: String?) throws {
    try check(xmlTextWriterStartDocument(writer, "1.0", "UTF-8", nil), "xmlTextWriterStartDocument")
    if let namespace {
      try check(
        xmlTextWriterStartElementNS(writer, nil, Self.bytes(root), Self.bytes(namespace)),
        "xmlTextWriterStartElementNS(\(root))")
    } else {
      try check(xmlTextWriterStartElement(writer, Self.bytes(root)), "xmlTextWriterStartElement(\(root))")
    }
    path.append(root)
  }

  /// Writes `<name>…</name>` around whatever `body` writes; attributes must come first in `body`.
  func element(_ name: String, _ body: () throws -> Void) throws {
    try check(xmlTextWriterStartElement(writer, Self.bytes(name)), "xmlTextWriterStartElement(\(name))")
    path.append(name)
    try body()
    try check(xmlTextWriterEndElement(writer), "xmlTextWriterEndElement(\(name))")
    path.removeLast()
  }

  func element(_ name: String, text: String) throws {
    try element(name) { try self.text(text) }
  }

  func attribute(_ name: String, _ value: String) throws {
    try check(
      xmlTextWriterWriteAttribute(writer, Self.bytes(name), Self.bytes(LibXML2.xmlSafe(value))),
      "xmlTextWriterWriteAttribute(\(name))")
  }

  func text(_ value: String) throws {
    guard !value.isEmpty else { return }
    try check(xmlTextWriterWriteString(writer, Self.bytes(LibXML2.xmlSafe(value))), "xmlTextWriterWriteString")
  }

  /// Closes every open element and returns the document's bytes.
  func finish() throws -> Data {
    try check(xmlTextWriterEndDocument(writer), "xmlTextWriterEndDocument")
    path.removeAll()
    try check(xmlTextWriterFlush(writer), "xmlTextWriterFlush")
    let length = Int(xmlBufferLength(buffer))
    guard length > 0, let content = xmlBufferContent(buffer) else {
      throw ReportError("libxml2 produced an empty XML document")
    }
    return Data(bytes: content, count: length)
  }

  private func check(_ code: Int32, _ call: @autoclosure () -> String) throws {
    guard code < 0 else { return }
    let location = path.isEmpty ? "the document" : "/" + path.joined(separator: "/")
    throw ReportError("writing XML failed at \(location): libxml2 \(call()) returned \(code)")
  }

  /// NUL-terminated UTF-8 for libxml2. Text passed here has been through `LibXML2.xmlSafe`, which removes NUL, so
  /// nothing is cut short.
  private static func bytes(_ text: String) -> [xmlChar] {
    Array(text.utf8) + [0]
  }
}
