import Foundation

/// Small grammars RFC 9116 imports, written over bytes so linting thousands of files stays cheap.
enum SecurityTxtSyntax {
  /// Parses an RFC 3339 `date-time` (`T`, `t` or — as RFC 3339 §5.6 allows — a space between date and time).
  ///
  /// Stricter than `Date.ISO8601FormatStyle`: seconds and an offset are required and every field is range-checked.
  static func rfc3339(_ text: Substring) -> Date? {
    let b = Array(text.utf8)
    guard b.count >= 20 else { return nil }
    func number(_ start: Int, _ length: Int) -> Int? {
      guard start + length <= b.count else { return nil }
      var value = 0
      for byte in b[start..<start + length] {
        guard byte >= 0x30, byte <= 0x39 else { return nil }
        value = value * 10 + Int(byte - 0x30)
      }
      return value
    }
    guard let year = number(0, 4), b[4] == 0x2D, let month = number(5, 2), b[7] == 0x2D, let day = number(8, 2),
      b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20, let hour = number(11, 2), b[13] == 0x3A,
      let minute = number(14, 2), b[16] == 0x3A, let second = number(17, 2)
    else { return nil }
    var index = 19
    var fraction = 0.0
    if b[index] == 0x2E {
      index += 1
      var scale = 0.1
      let start = index
      while index < b.count, b[index] >= 0x30, b[index] <= 0x39 {
        fraction += Double(b[index] - 0x30) * scale
        scale /= 10
        index += 1
      }
      guard index > start else { return nil }
    }
    guard index < b.count else { return nil }
    var offset = 0
    switch b[index] {
    case 0x5A, 0x7A:
      index += 1
    case 0x2B, 0x2D:
      guard let hours = number(index + 1, 2), index + 3 < b.count, b[index + 3] == 0x3A,
        let minutes = number(index + 4, 2), hours <= 23, minutes <= 59
      else { return nil }
      offset = (hours * 60 + minutes) * 60 * (b[index] == 0x2D ? -1 : 1)
      index += 6
    default:
      return nil
    }
    guard index == b.count, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour <= 23,
      minute <= 59, second <= 60
    else { return nil }
    let days = daysFromCivil(year: year, month: month, day: day)
    let seconds = Double(days * 86_400 + hour * 3_600 + minute * 60 + second - offset) + fraction
    return Date(timeIntervalSince1970: seconds)
  }

  static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
  static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }

  /// The same instant one calendar year later in UTC (29 February → 28 February), by arithmetic: Foundation's
  /// Calendar cost more than validating a whole file.
  static func oneYear(after date: Date) -> Date {
    let seconds = date.timeIntervalSince1970
    let days = Int((seconds / 86_400).rounded(.down))
    let (year, month, day) = civil(fromDays: days)
    let next = daysFromCivil(year: year + 1, month: month, day: min(day, daysIn(month: month, year: year + 1)))
    return Date(timeIntervalSince1970: seconds + Double(next - days) * 86_400)
  }

  /// `2027-03-01T00:00:00Z`: the UTC rendering used in messages, without Foundation's formatters.
  static func format(_ date: Date) -> String {
    let seconds = Int(date.timeIntervalSince1970.rounded(.down))
    let days = Int((Double(seconds) / 86_400).rounded(.down))
    let (year, month, day) = civil(fromDays: days)
    let time = seconds - days * 86_400
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(year)-\(two(month))-\(two(day))T\(two(time / 3_600)):\(two(time / 60 % 60)):\(two(time % 60))Z"
  }

  /// The inverse of `daysFromCivil` (Howard Hinnant's algorithm).
  static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
    let shifted = days + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  /// A well-formed RFC 5646 language tag (§2.1 `Language-Tag`); registry membership is not checked.
  static func isLanguageTag(_ tag: Substring) -> Bool {
    let parts = tag.split(separator: "-", omittingEmptySubsequences: false)
    guard let first = parts.first, !first.isEmpty else { return false }
    func alpha(_ s: Substring) -> Bool { s.utf8.allSatisfy(isAlpha) }
    func digits(_ s: Substring) -> Bool { s.utf8.allSatisfy(isDigit) }
    func alnum(_ s: Substring) -> Bool { s.utf8.allSatisfy { isAlpha($0) || isDigit($0) } }
    if first.count == 1 {
      // privateuse (`x-…`) or a grandfathered irregular tag (`i-klingon`).
      guard first.lowercased() == "x" || first.lowercased() == "i", parts.count > 1 else { return false }
      return parts.dropFirst().allSatisfy { (1...8).contains($0.count) && alnum($0) }
    }
    guard alpha(first), (2...8).contains(first.count) else { return false }
    var index = 1
    if first.count <= 3 {
      var extlangs = 0
      while index < parts.count, extlangs < 3, parts[index].count == 3, alpha(parts[index]) {
        index += 1
        extlangs += 1
      }
    }
    if index < parts.count, parts[index].count == 4, alpha(parts[index]) { index += 1 }
    if index < parts.count,
      (parts[index].count == 2 && alpha(parts[index])) || (parts[index].count == 3 && digits(parts[index]))
    {
      index += 1
    }
    while index < parts.count {
      let part = parts[index]
      let isVariant =
        ((5...8).contains(part.count) && alnum(part))
        || (part.count == 4 && digits(part.prefix(1)) && alnum(part))
      guard isVariant else { break }
      index += 1
    }
    while index < parts.count, parts[index].count == 1, parts[index].lowercased() != "x", alnum(parts[index]) {
      index += 1
      let start = index
      while index < parts.count, (2...8).contains(parts[index].count), alnum(parts[index]) { index += 1 }
      guard index > start else { return false }
    }
    if index < parts.count, parts[index].lowercased() == "x" {
      index += 1
      let start = index
      while index < parts.count, (1...8).contains(parts[index].count), alnum(parts[index]) { index += 1 }
      guard index > start else { return false }
    }
    return index == parts.count
  }

  static func isAlpha(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
  static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

  /// The scheme of a URI (`mailto`, `https`…) as written; `nil` unless the value starts with an RFC 3986 scheme and
  /// a colon.
  static func uriScheme(_ value: Substring) -> Substring? {
    guard let colon = value.utf8.firstIndex(of: 0x3A), colon > value.startIndex else { return nil }
    let scheme = value[..<colon]
    guard let head = scheme.utf8.first, isAlpha(head),
      scheme.utf8.allSatisfy({ isAlpha($0) || isDigit($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E })
    else { return nil }
    return scheme
  }
}
