import Foundation

/// A report after validation. Instants are seconds since 1970 UTC; text fields point into the record's bytes,
/// trimmed but otherwise as read, and are valid only while those bytes are.
struct ValidRecord {
  var id: UnsafeBufferPointer<UInt8>
  var received: Double
  var firstResponse: Double?
  var resolved: Double?
  var disclosed: Double?
  /// As read; written lower-cased, `unrated` when absent.
  var severity: UnsafeBufferPointer<UInt8>?
  var state: UnsafeBufferPointer<UInt8>?
  /// The reporter's identity (e-mail, handle); only ever written as a keyed pseudonym.
  var reporter: UnsafeBufferPointer<UInt8>?
  var creditName: UnsafeBufferPointer<UInt8>?
  var wantsCredit: Bool
  /// At least one timestamp had no offset and was read in the team's time zone.
  var withoutOffset: Bool
}

/// Validates raw field values into a `ValidRecord`, collecting every problem in the record rather than the first.
/// Works on bytes: only values that end up in a message become strings.
struct RecordValidator {
  static let timestampHint = "expected an RFC 3339 timestamp such as 2026-03-02T10:00:00+01:00"

  /// Every problem of the last record validated; empty when it was valid.
  private(set) var reasons: [String] = []
  /// The last valid record's update timestamps, sorted; reused so rows do not each allocate an array.
  var updates: [Double] = []
  /// The trimmed id of the last record validated, as text, when it had one; set only for a rejected record.
  private(set) var rejectedID: String?

  /// The record, or nil with `reasons` and `rejectedID` set.
  mutating func validate(
    _ values: [FieldInput], _ extras: FieldExtras, table: inout BusinessDayTable
  ) -> ValidRecord? {
    reasons.removeAll(keepingCapacity: true)
    updates.removeAll(keepingCapacity: true)
    var withoutOffset = false

    let id = text(values, extras, .id)
    let receivedText = text(values, extras, .receivedAt)
    if id == nil { requireValue(.id) }
    if receivedText == nil { requireValue(.receivedAt) }
    let received = receivedText.flatMap { instant($0, .receivedAt, &withoutOffset, &table) }
    let firstResponse = text(values, extras, .firstResponseAt).flatMap { instant($0, .firstResponseAt, &withoutOffset, &table) }
    let resolved = text(values, extras, .resolvedAt).flatMap { instant($0, .resolvedAt, &withoutOffset, &table) }
    let disclosed = text(values, extras, .disclosedAt).flatMap { instant($0, .disclosedAt, &withoutOffset, &table) }
    switch values[ReportField.updates.index] {
    case .absent: break
    case .text(let value):
      // `;`-separated; each part trimmed, empty parts skipped.
      var start = 0
      while start < value.count {
        var end = start
        while end < value.count, value[end] != 0x3B { end += 1 }
        let part = FieldBytes.trim(UnsafeBufferPointer(rebasing: value[start..<end]))
        if !part.isEmpty, let at = instant(part, .updates, &withoutOffset, &table) { updates.append(at) }
        start = end + 1
      }
    case .list(let list):
      for item in extras.lists[list] {
        var item = item
        if let at = item.withUTF8({ instant($0, .updates, &withoutOffset, &table) }) { updates.append(at) }
      }
    case .wrongType(let description):
      reasons.append("updates: expected timestamps, got \(extras.descriptions[description])")
    }
    if let received {
      notBefore(received, .firstResponseAt, firstResponse)
      notBefore(received, .resolvedAt, resolved)
      notBefore(received, .disclosedAt, disclosed)
      if let early = updates.first(where: { $0 < received }) {
        reasons.append("updates: \(UTCFormat.string(early)) is before received_at \(UTCFormat.string(received))")
      }
    }
    var wantsCredit = true
    if let credit = text(values, extras, .credit) {
      switch Self.creditChoice(credit) {
      case true?: wantsCredit = true
      case false?: wantsCredit = false
      case nil:
        reasons.append(
          "credit: '\(FieldBytes.string(credit))' is neither credit nor anonymous (also accepted: yes/no, true/false)")
      }
    }
    let severity = text(values, extras, .severity)
    let state = text(values, extras, .state)
    let reporter = text(values, extras, .reporter)
    let creditName = text(values, extras, .creditName)
    guard reasons.isEmpty, let id, let received else {
      rejectedID = id.map(FieldBytes.string)
      return nil
    }
    updates.sort()
    return ValidRecord(
      id: id, received: received, firstResponse: firstResponse, resolved: resolved, disclosed: disclosed,
      severity: severity, state: state, reporter: reporter, creditName: creditName, wantsCredit: wantsCredit,
      withoutOffset: withoutOffset)
  }

  /// A missing required field, unless a list or wrong type already explained it.
  private mutating func requireValue(_ field: ReportField) {
    if !reasons.contains(where: { $0.hasPrefix("\(field.rawValue):") }) {
      reasons.append("\(field.rawValue): missing or empty (required)")
    }
  }

  @inline(__always)
  private mutating func notBefore(_ received: Double, _ field: ReportField, _ value: Double?) {
    if let value, value < received {
      reasons.append("\(field.rawValue): \(UTCFormat.string(value)) is before received_at \(UTCFormat.string(received))")
    }
  }

  /// A field's value trimmed, or nil when absent or blank; a list or a wrong type adds its reason.
  @inline(__always)
  private mutating func text(
    _ values: [FieldInput], _ extras: FieldExtras, _ field: ReportField
  ) -> UnsafeBufferPointer<UInt8>? {
    switch values[field.index] {
    case .absent: return nil
    case .text(let value):
      let trimmed = FieldBytes.trim(value)
      return trimmed.isEmpty ? nil : trimmed
    case .list:
      reasons.append("\(field.rawValue): expected one value, got a list")
      return nil
    case .wrongType(let description):
      reasons.append("\(field.rawValue): expected text, got \(extras.descriptions[description])")
      return nil
    }
  }

  private mutating func instant(
    _ text: UnsafeBufferPointer<UInt8>, _ field: ReportField, _ withoutOffset: inout Bool,
    _ table: inout BusinessDayTable
  ) -> Double? {
    switch ParsedTimestamp.parse(text) {
    case .instant(let value)?: return value
    case .local(let day, let seconds)?:
      withoutOffset = true
      return table.instant(localDay: day, seconds: seconds)
    case nil:
      reasons.append("\(field.rawValue): '\(FieldBytes.string(text))' is not a timestamp (\(Self.timestampHint))")
      return nil
    }
  }

  /// `credit` and its synonyms → true, `anonymous` and its synonyms → false, anything else → nil. Case-insensitive
  /// as Swift's `lowercased()` is; ASCII text is compared without making a string.
  static func creditChoice(_ text: UnsafeBufferPointer<UInt8>) -> Bool? {
    guard FieldBytes.isASCII(text) else {
      switch FieldBytes.string(text).lowercased() {
      case "credit", "credited", "yes", "true", "public": return true
      case "anonymous", "anon", "no", "false", "private": return false
      default: return nil
      }
    }
    for word: StaticString in ["credit", "credited", "yes", "true", "public"]
    where FieldBytes.equalsLowercased(text, word) {
      return true
    }
    for word: StaticString in ["anonymous", "anon", "no", "false", "private"]
    where FieldBytes.equalsLowercased(text, word) {
      return false
    }
    return nil
  }
}
