import Foundation

/// Field paths into JSON records (`attributes.created_at`), resolved against `JSONSerialization` values.
struct JSONFieldPaths: Sendable {
  /// Per `ReportField.allCases` index: the path's keys, or nil when the field is not mapped.
  let paths: [[String]?]

  init(paths: [[String]?]) {
    self.paths = paths
  }

  init(_ mapping: [ReportField: String]) {
    paths = ReportField.allCases.map { field in
      mapping[field].map { $0.split(separator: ".").map(String.init) }
    }
  }

  /// HackerOne's report listing (JSON:API): attributes plus the reporter and severity relationships.
  static let hackerOne = JSONFieldPaths([
    .id: "id",
    .receivedAt: "attributes.created_at",
    .firstResponseAt: "attributes.first_program_activity_at",
    .updates: "attributes.triaged_at",
    .resolvedAt: "attributes.closed_at",
    .disclosedAt: "attributes.disclosed_at",
    .state: "attributes.state",
    .severity: "relationships.severity.data.attributes.rating",
    .reporter: "relationships.reporter.data.attributes.username",
    .creditName: "relationships.reporter.data.attributes.name",
  ])

  func values(of record: Any) -> [RawValue] {
    paths.map { path in
      guard let path else { return .absent }
      var current: Any? = record
      for key in path {
        current = (current as? [String: Any])?[key]
      }
      return Self.raw(current)
    }
  }

  static func raw(_ value: Any?) -> RawValue {
    switch value {
    case nil, is NSNull: return .absent
    case let text as String: return .text(text)
    case let number as NSNumber:
      // Ids are often numbers; timestamps given as numbers are rejected by the validator as not timestamps.
      return .text(number.stringValue)
    case let array as [Any]:
      var items: [String] = []
      for element in array {
        guard let text = element as? String else { return .wrongType("a list holding \(describe(element))") }
        items.append(text)
      }
      return .list(items)
    default: return .wrongType(describe(value as Any))
    }
  }

  static func describe(_ value: Any) -> String {
    switch value {
    case is [String: Any]: return "an object"
    case is [Any]: return "a list"
    case is NSNumber: return "a number"
    case is NSNull: return "null"
    default: return "a non-text value"
    }
  }
}

/// Parses a whole JSON document; used for single JSON exports and HackerOne pages, which are small.
enum JSONDocument {
  static func parse(_ data: Data, source: String) throws(ReportSLAError) -> Any {
    if let first = data.first(where: { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }), first == 0x3C {
      throw ReportSLAError("\(source) is HTML, not JSON (a login or error page?); check the URL and the auth token")
    }
    do {
      return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    } catch {
      throw ReportSLAError("\(source) is not valid JSON: \(error.localizedDescription)")
    }
  }

  /// The record array at `path` (dotted keys; empty means the document itself).
  static func records(in document: Any, path: [String], source: String) throws(ReportSLAError) -> [Any] {
    var current: Any? = document
    for key in path {
      current = (current as? [String: Any])?[key]
    }
    guard let records = current as? [Any] else {
      let place = path.isEmpty ? "the document" : "'\(path.joined(separator: "."))'"
      throw ReportSLAError("\(source): \(place) is not a list of records; set records_path to where the list is")
    }
    return records
  }

  /// `links.next` of a JSON:API page, if any.
  static func nextLink(in document: Any) -> String? {
    guard let links = (document as? [String: Any])?["links"] as? [String: Any], let next = links["next"] as? String,
      !next.isEmpty
    else { return nil }
    return next
  }
}
