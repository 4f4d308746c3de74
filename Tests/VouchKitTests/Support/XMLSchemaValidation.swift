import CLibXML2
import Foundation

@testable import VouchKit

/// Parses and validates XML with libxml2 for tests, collecting every message libxml2 reports so a failing test can
/// print why, instead of libxml2 writing to stderr.
enum XMLSchemaValidation {
  /// Every well-formedness and schema error in `document`; empty when it is well-formed and valid.
  static func errors(in document: Data, schema: URL) -> [String] {
    LibXML2.initialize()
    let collector = MessageCollector()
    let context = Unmanaged.passUnretained(collector).toOpaque()
    defer { withExtendedLifetime(collector) {} }

    guard let schemaParser = xmlSchemaNewParserCtxt(schema.path) else {
      return ["cannot create a schema parser for \(schema.path)"]
    }
    defer { xmlSchemaFreeParserCtxt(schemaParser) }
    xmlSchemaSetParserStructuredErrors(schemaParser, collectMessage, context)
    guard let parsedSchema = xmlSchemaParse(schemaParser) else {
      return ["schema \(schema.path) does not parse"] + collector.messages
    }
    defer { xmlSchemaFree(parsedSchema) }

    guard let doc = parse(document, collector: collector) else {
      return ["document is not well-formed"] + collector.messages
    }
    defer { xmlFreeDoc(doc) }

    guard let validator = xmlSchemaNewValidCtxt(parsedSchema) else { return ["cannot create a schema validator"] }
    defer { xmlSchemaFreeValidCtxt(validator) }
    xmlSchemaSetValidStructuredErrors(validator, collectMessage, context)
    let result = xmlSchemaValidateDoc(validator, doc)
    if result != 0, collector.messages.isEmpty {
      return ["xmlSchemaValidateDoc returned \(result) without a message"]
    }
    return collector.messages
  }

  /// The text content of every element called `name` (any namespace), in document order; `nil` when the document
  /// is not well-formed.
  static func texts(of name: String, in document: Data) -> [String]? {
    LibXML2.initialize()
    let collector = MessageCollector()
    guard let doc = parse(document, collector: collector) else { return nil }
    defer { xmlFreeDoc(doc) }
    var found: [String] = []
    func visit(_ node: xmlNodePtr?) {
      var current = node
      while let element = current {
        if element.pointee.type == XML_ELEMENT_NODE, String(cString: element.pointee.name) == name,
          let buffer = xmlBufferCreate()
        {
          defer { xmlBufferFree(buffer) }
          if xmlNodeBufGetContent(buffer, element) == 0, let content = xmlBufferContent(buffer) {
            found.append(String(cString: content))
          } else {
            found.append("(xmlNodeBufGetContent failed)")
          }
        }
        visit(element.pointee.children)
        current = element.pointee.next
      }
    }
    visit(xmlDocGetRootElement(doc))
    return found
  }

  /// Parses without network access or entity expansion; errors go to `collector` via the thread's structured error
  /// handler, restored before returning.
  private static func parse(_ document: Data, collector: MessageCollector) -> xmlDocPtr? {
    let context = Unmanaged.passUnretained(collector).toOpaque()
    xmlSetStructuredErrorFunc(context, collectMessage)
    defer { xmlSetStructuredErrorFunc(nil, nil) }
    return document.withUnsafeBytes { bytes -> xmlDocPtr? in
      guard let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) else { return nil }
      return xmlReadMemory(base, Int32(bytes.count), "report.xml", nil, Int32(XML_PARSE_NONET.rawValue))
    }
  }
}

private final class MessageCollector {
  var messages: [String] = []
}

/// libxml2's structured error callback: `userData` is an unretained `MessageCollector`.
private func collectMessage(_ userData: UnsafeMutableRawPointer?, _ error: xmlErrorPtr?) {
  guard let userData, let error else { return }
  let collector = Unmanaged<MessageCollector>.fromOpaque(userData).takeUnretainedValue()
  let text = error.pointee.message.map { String(cString: $0) } ?? "unknown libxml2 error"
  collector.messages.append("line \(error.pointee.line): \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
}
