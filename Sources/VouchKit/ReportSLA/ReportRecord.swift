import Foundation

/// The fields a report export is mapped onto.
public enum ReportField: String, Sendable, CaseIterable {
  case id
  case receivedAt = "received_at"
  case firstResponseAt = "first_response_at"
  case updates
  case resolvedAt = "resolved_at"
  case disclosedAt = "disclosed_at"
  case severity, state
  /// The reporter's identity (e-mail, handle); only ever written as a keyed pseudonym.
  case reporter
  /// The name the reporter is credited under; compared with the acknowledgments page in memory, never written.
  case creditName = "credit_name"
  /// `credit` or `anonymous`; absent means credit, since crediting is the promise unless the reporter opts out.
  case credit

  static let required: [ReportField] = [.id, .receivedAt]

  /// Position in `allCases`, where raw values are kept per record; a switch, as it is read for every field of
  /// every row.
  var index: Int {
    switch self {
    case .id: return 0
    case .receivedAt: return 1
    case .firstResponseAt: return 2
    case .updates: return 3
    case .resolvedAt: return 4
    case .disclosedAt: return 5
    case .severity: return 6
    case .state: return 7
    case .reporter: return 8
    case .creditName: return 9
    case .credit: return 10
    }
  }
}

/// One field's value as found in a JSON record, before validation.
enum RawValue: Sendable {
  case absent
  case text(String)
  case list([String])
  /// A JSON value of the wrong kind, described for the message (`the number 5`, `an object`).
  case wrongType(String)
}

/// One field's value as the validator reads it: CSV fields as bytes in place, JSON strings copied to bytes.
/// Trivially copyable, so handling a row's values costs no reference counting; a JSON list or the description of a
/// wrong type lives in the record's `FieldExtras`.
enum FieldInput {
  case absent
  /// The value as read, not trimmed.
  case text(UnsafeBufferPointer<UInt8>)
  /// A JSON list: its items are `FieldExtras.lists[n]`.
  case list(Int)
  /// A JSON value of the wrong kind, described by `FieldExtras.descriptions[n]` (`the number 5`, `an object`).
  case wrongType(Int)
}

/// What a JSON record's values hold besides text.
struct FieldExtras {
  var lists: [[String]] = []
  var descriptions: [String] = []
}

/// Where a record came from, for messages an operator can act on (`row 12`, `line 7`, `page 2 record 3`,
/// `updates.csv row 4`). Kept as numbers and rendered only when a message needs it: a million rows must not each
/// format a string.
struct RecordLocation: Sendable, CustomStringConvertible {
  enum Unit: String, Sendable {
    case row, line, record
  }

  let unit: Unit
  let number: Int
  var page: Int?
  /// Set for a secondary input (the updates file), so its rows are not mistaken for rows of the export.
  var file: String?

  var description: String {
    "\(file.map { "\($0) " } ?? "")\(page.map { "page \($0) " } ?? "")\(unit.rawValue) \(number)"
  }
}

/// A row that could not be used, with every reason found in it.
struct RejectedRecord: Sendable {
  let location: RecordLocation
  let id: String?
  let reasons: [String]

  var message: String {
    "\(location)\(id.map { " (id \($0))" } ?? ""): \(reasons.joined(separator: "; "))"
  }
}

/// Trims spaces and tabs; Foundation's `trimmingCharacters` costs microseconds per call, too much for every field of
/// a million rows.
enum ASCIITrim {
  static func trim(_ text: String) -> String {
    guard let first = text.utf8.first, let last = text.utf8.last else { return "" }
    if first != 0x20, first != 0x09, last != 0x20, last != 0x09 { return text }
    return trim(Substring(text))
  }

  static func trim(_ text: Substring) -> String {
    let utf8 = text.utf8
    guard let first = utf8.first, let last = utf8.last else { return "" }
    if first != 0x20, first != 0x09, last != 0x20, last != 0x09 { return String(text) }
    let start = utf8.firstIndex { $0 != 0x20 && $0 != 0x09 }
    let end = utf8.lastIndex { $0 != 0x20 && $0 != 0x09 }
    guard let start, let end else { return "" }
    return String(decoding: utf8[start...end], as: UTF8.self)
  }
}
