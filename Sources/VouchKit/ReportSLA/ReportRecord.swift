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

/// One field's value as found in the input, before validation.
enum RawValue: Sendable {
  case absent
  case text(String)
  case list([String])
  /// A JSON value of the wrong kind, described for the message (`the number 5`, `an object`).
  case wrongType(String)
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

/// A report after validation; instants are seconds since 1970 UTC.
struct ReportRecord: Sendable {
  var id: String
  var received: Double
  var firstResponse: Double?
  var updates: [Double]
  var resolved: Double?
  var disclosed: Double?
  var severity: String
  var state: String?
  var reporter: String?
  var creditName: String?
  var wantsCredit: Bool
  /// At least one timestamp had no offset and was read in the team's time zone.
  var withoutOffset: Bool
}

/// A row that could not be used, with every reason found in it; an `Error` only so it can travel in a `Result`.
struct RejectedRecord: Error, Sendable {
  let location: RecordLocation
  let id: String?
  let reasons: [String]

  var message: String {
    "\(location)\(id.map { " (id \($0))" } ?? ""): \(reasons.joined(separator: "; "))"
  }
}

/// Validates raw field values into a `ReportRecord`, collecting every problem in the record rather than the first.
struct RecordValidator {
  static let timestampHint = "expected an RFC 3339 timestamp such as 2026-03-02T10:00:00+01:00"

  func validate(
    _ values: [RawValue], at location: RecordLocation, table: inout BusinessDayTable
  ) -> Result<ReportRecord, RejectedRecord> {
    var reasons: [String] = []
    var withoutOffset = false

    func text(_ field: ReportField) -> String? {
      switch values[field.index] {
      case .absent: return nil
      case .text(let value):
        let trimmed = ASCIITrim.trim(value)
        return trimmed.isEmpty ? nil : trimmed
      case .list:
        reasons.append("\(field.rawValue): expected one value, got a list")
        return nil
      case .wrongType(let description):
        reasons.append("\(field.rawValue): expected text, got \(description)")
        return nil
      }
    }

    func instant(_ text: String, _ field: ReportField) -> Double? {
      switch ParsedTimestamp.parse(text) {
      case .instant(let value)?: return value
      case .local(let day, let seconds)?:
        withoutOffset = true
        return table.instant(localDay: day, seconds: seconds)
      case nil:
        reasons.append("\(field.rawValue): '\(text)' is not a timestamp (\(Self.timestampHint))")
        return nil
      }
    }

    func timestamp(_ field: ReportField) -> Double? {
      text(field).flatMap { instant($0, field) }
    }

    let id = text(.id)
    let receivedText = text(.receivedAt)
    for (field, value) in [(ReportField.id, id), (.receivedAt, receivedText)] where value == nil {
      if !reasons.contains(where: { $0.hasPrefix("\(field.rawValue):") }) {
        reasons.append("\(field.rawValue): missing or empty (required)")
      }
    }
    let received = receivedText.flatMap { instant($0, .receivedAt) }
    let firstResponse = timestamp(.firstResponseAt)
    let resolved = timestamp(.resolvedAt)
    let disclosed = timestamp(.disclosedAt)
    var updates: [Double] = []
    switch values[ReportField.updates.index] {
    case .absent: break
    case .text(let value):
      var rest = Substring(value)
      while !rest.isEmpty {
        let end = rest.utf8.firstIndex(of: 0x3B) ?? rest.endIndex
        let part = ASCIITrim.trim(rest[..<end])
        if !part.isEmpty, let value = instant(part, .updates) { updates.append(value) }
        rest = end == rest.endIndex ? rest[end...] : rest[rest.utf8.index(after: end)...]
      }
    case .list(let items): updates = items.compactMap { instant($0, .updates) }
    case .wrongType(let description): reasons.append("updates: expected timestamps, got \(description)")
    }
    if let received {
      let shown = UTCFormat.string(received)
      for (field, value) in [(ReportField.firstResponseAt, firstResponse), (.resolvedAt, resolved), (.disclosedAt, disclosed)] {
        if let value, value < received {
          reasons.append("\(field.rawValue): \(UTCFormat.string(value)) is before received_at \(shown)")
        }
      }
      if let early = updates.first(where: { $0 < received }) {
        reasons.append("updates: \(UTCFormat.string(early)) is before received_at \(shown)")
      }
    }
    var wantsCredit = true
    if let credit = text(.credit) {
      switch credit.lowercased() {
      case "credit", "credited", "yes", "true", "public": wantsCredit = true
      case "anonymous", "anon", "no", "false", "private": wantsCredit = false
      default: reasons.append("credit: '\(credit)' is neither credit nor anonymous (also accepted: yes/no, true/false)")
      }
    }
    let severity = text(.severity)?.lowercased() ?? "unrated"
    let state = text(.state)?.lowercased()
    let reporter = text(.reporter)
    let creditName = text(.creditName)
    guard reasons.isEmpty, let id, let received else {
      return .failure(RejectedRecord(location: location, id: id, reasons: reasons))
    }
    return .success(
      ReportRecord(
        id: id, received: received, firstResponse: firstResponse, updates: updates.sorted(), resolved: resolved,
        disclosed: disclosed, severity: severity, state: state, reporter: reporter, creditName: creditName,
        wantsCredit: wantsCredit, withoutOffset: withoutOffset))
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
