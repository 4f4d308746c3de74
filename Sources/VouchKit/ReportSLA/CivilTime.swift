import Foundation

/// A calendar date without a time zone, numbered as days since 1970-01-01 so day arithmetic is integer arithmetic.
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
  public let year: Int
  public let month: Int
  public let day: Int

  @inline(__always)
  public init?(year: Int, month: Int, day: Int) {
    guard (1...12).contains(month), day >= 1, day <= CivilDate.daysIn(month: month, year: year) else { return nil }
    self.year = year
    self.month = month
    self.day = day
  }

  /// The date `dayNumber` days after 1970-01-01 (Howard Hinnant's `civil_from_days`).
  public init(dayNumber: Int) {
    let z = dayNumber + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    day = doy - (153 * mp + 2) / 5 + 1
    month = mp < 10 ? mp + 3 : mp - 9
    year = yoe + era * 400 + (month <= 2 ? 1 : 0)
  }

  /// Parses `YYYY-MM-DD`.
  public init?(_ text: String) {
    var text = text
    let parts: (Int, Int, Int)? = text.withUTF8 { bytes in
      guard bytes.count == 10, bytes[4] == 0x2D, bytes[7] == 0x2D, let year = Digits.read(bytes, 0, 4),
        let month = Digits.read(bytes, 5, 2), let day = Digits.read(bytes, 8, 2)
      else { return nil }
      return (year, month, day)
    }
    guard let (year, month, day) = parts else { return nil }
    self.init(year: year, month: month, day: day)
  }

  /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
  @inline(__always)
  public var dayNumber: Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  /// ISO weekday: 1 = Monday … 7 = Sunday.
  public var weekday: Int { Self.weekday(ofDayNumber: dayNumber) }

  static func weekday(ofDayNumber number: Int) -> Int {
    // 1970-01-01 was a Thursday.
    ((number % 7 + 7 + 3) % 7) + 1
  }

  public var description: String {
    String(format: "%04d-%02d-%02d", year, month, day)
  }

  public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool { lhs.dayNumber < rhs.dayNumber }

  static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }
}

/// A timestamp as read from an export: an instant when it carried an offset, otherwise a local wall-clock time.
enum ParsedTimestamp: Sendable, Hashable {
  /// Seconds since 1970-01-01T00:00:00Z.
  case instant(Double)
  /// No offset was given; the wall-clock time is interpreted in the team's time zone and the row is flagged.
  case local(dayNumber: Int, seconds: Double)

  /// Parses RFC 3339 / ISO 8601 shapes found in exports without Foundation's formatters, which are far too slow for
  /// a million rows: `2026-03-02T10:00:00Z`, `…T10:00:00.250+01:00`, `…T10:00+0100`, `2026-03-02 10:00:00`,
  /// `2026-03-02` (local midnight).
  static func parse(_ b: UnsafeBufferPointer<UInt8>) -> ParsedTimestamp? {
    guard b.count >= 10, b[4] == 0x2D, b[7] == 0x2D, let year = Digits.read(b, 0, 4), let month = Digits.read(b, 5, 2),
      let day = Digits.read(b, 8, 2), let date = CivilDate(year: year, month: month, day: day)
    else { return nil }
    if b.count == 10 { return .local(dayNumber: date.dayNumber, seconds: 0) }
    guard b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20, b.count >= 16, b[13] == 0x3A,
      let hour = Digits.read(b, 11, 2), let minute = Digits.read(b, 14, 2), hour < 24, minute < 60
    else { return nil }
    var index = 16
    var seconds = Double(hour * 3600 + minute * 60)
    if index < b.count, b[index] == 0x3A {
      guard let second = Digits.read(b, index + 1, 2), second < 61 else { return nil }
      seconds += Double(second)
      index += 3
      if index < b.count, b[index] == 0x2E || b[index] == 0x2C {
        index += 1
        var scale = 0.1
        let start = index
        while index < b.count, b[index] >= 0x30, b[index] <= 0x39 {
          seconds += Double(b[index] - 0x30) * scale
          scale /= 10
          index += 1
        }
        guard index > start else { return nil }
      }
    }
    if index == b.count { return .local(dayNumber: date.dayNumber, seconds: seconds) }
    let civil = Double(date.dayNumber) * 86_400 + seconds
    if index + 1 == b.count, b[index] == 0x5A || b[index] == 0x7A { return .instant(civil) }
    guard b[index] == 0x2B || b[index] == 0x2D, let offsetHours = Digits.read(b, index + 1, 2) else { return nil }
    var offsetMinutes = 0
    if b.count == index + 6, b[index + 3] == 0x3A, let minutes = Digits.read(b, index + 4, 2) {
      offsetMinutes = minutes
    } else if b.count == index + 5, let minutes = Digits.read(b, index + 3, 2) {
      offsetMinutes = minutes
    } else if b.count != index + 3 {
      return nil
    }
    guard offsetHours < 24, offsetMinutes < 60 else { return nil }
    let offset = Double(offsetHours * 3600 + offsetMinutes * 60) * (b[index] == 0x2D ? -1 : 1)
    return .instant(civil - offset)
  }

  static func parse(_ text: String) -> ParsedTimestamp? {
    var text = text
    return text.withUTF8 { parse($0) }
  }
}

/// Formats instants as `2026-03-02T09:00:00Z` without Foundation's formatters (a million rows, several times each).
enum UTCFormat {
  static func string(_ instant: Double) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(20)
    append(instant, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Appends `2026-03-02T09:00:00Z` (seconds truncated) without intermediate strings.
  @inline(__always)
  static func append<Sink: ByteSink & ~Copyable>(_ instant: Double, to bytes: inout Sink) {
    let (dayNumber, secondOfDay) = split(instant)
    let date = CivilDate(dayNumber: dayNumber)
    guard (0...9999).contains(date.year) else {
      Digits.append(date.year, width: 4, to: &bytes)
      bytes.append(0x2D)
      Digits.append(date.month, width: 2, to: &bytes)
      bytes.append(0x2D)
      Digits.append(date.day, width: 2, to: &bytes)
      bytes.append(0x54)
      Digits.append(secondOfDay / 3600, width: 2, to: &bytes)
      bytes.append(0x3A)
      Digits.append(secondOfDay / 60 % 60, width: 2, to: &bytes)
      bytes.append(0x3A)
      Digits.append(secondOfDay % 60, width: 2, to: &bytes)
      bytes.append(0x5A)
      return
    }
    // The common case in one piece, written in place.
    bytes.append(count: 20) { out in
      putDate(date, out)
      putTime(secondOfDay, out + 10)
    }
  }

  /// The day number (days since 1970-01-01) and second of that day, rounding down: instants before 1970 land on
  /// their own day.
  @inline(__always)
  static func split(_ instant: Double) -> (day: Int, second: Int) {
    // `Int(instant.rounded(.down))`, without a call to `floor`.
    let truncated = Int(instant)
    let total = Double(truncated) > instant ? truncated - 1 : truncated
    let day = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
    return (day, total - day * 86_400)
  }

  /// Writes `YYYY-MM-DD` (a year in 0...9999) at `out`.
  @inline(__always)
  static func putDate(_ date: CivilDate, _ out: UnsafeMutablePointer<UInt8>) {
    Digits.put(date.year / 100, out)
    Digits.put(date.year % 100, out + 2)
    out[4] = 0x2D
    Digits.put(date.month, out + 5)
    out[7] = 0x2D
    Digits.put(date.day, out + 8)
  }

  /// Writes `Thh:mm:ssZ` at `out`.
  @inline(__always)
  static func putTime(_ secondOfDay: Int, _ out: UnsafeMutablePointer<UInt8>) {
    out[0] = 0x54
    Digits.put(secondOfDay / 3600, out + 1)
    out[3] = 0x3A
    Digits.put(secondOfDay / 60 % 60, out + 4)
    out[6] = 0x3A
    Digits.put(secondOfDay % 60, out + 7)
    out[9] = 0x5A
  }

  /// Appends a business-day figure with three decimals (`2.375`), rounded half away from zero.
  @inline(__always)
  static func appendDecimal<Sink: ByteSink & ~Copyable>(_ value: Double, to bytes: inout Sink) {
    let thousandths = Int((value * 1000).rounded())
    if thousandths < 0 { bytes.append(0x2D) }
    let magnitude = abs(thousandths)
    Digits.append(magnitude / 1000, width: 1, to: &bytes)
    bytes.append(0x2E)
    Digits.append(magnitude % 1000, width: 3, to: &bytes)
  }
}

/// Writes timestamps exactly as `UTCFormat.append` does, remembering the `YYYY-MM-DD` of recent days: the timestamps
/// of an export fall on comparatively few days, and turning a day number into a date is much of the cost of writing
/// one. Owned by one task.
struct TimestampWriter {
  private static let slots = 1024
  private var days = [Int](repeating: .min, count: TimestampWriter.slots)
  private var dates = [UInt8](repeating: 0, count: TimestampWriter.slots * 10)

  mutating func append(_ instant: Double, to bytes: inout ByteBuffer) {
    let (dayNumber, secondOfDay) = UTCFormat.split(instant)
    let slot = dayNumber & (Self.slots - 1)
    if days[slot] != dayNumber {
      let date = CivilDate(dayNumber: dayNumber)
      guard (0...9999).contains(date.year) else {
        UTCFormat.append(instant, to: &bytes)
        return
      }
      dates.withUnsafeMutableBufferPointer { dates in
        guard let out = dates.baseAddress.map({ $0 + slot * 10 }) else { return }
        UTCFormat.putDate(date, out)
      }
      days[slot] = dayNumber
    }
    dates.withUnsafeBufferPointer { dates in
      bytes.append(count: 20) { out in
        for index in 0..<10 { out[index] = dates[slot * 10 + index] }
        UTCFormat.putTime(secondOfDay, out + 10)
      }
    }
  }
}

enum Digits {
  /// The decimal number in `bytes[start..<start+count]`, or nil if any byte is not a digit.
  @inline(__always)
  static func read(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int? {
    guard start + count <= bytes.count else { return nil }
    var value = 0
    for index in start..<start + count {
      let byte = bytes[index]
      guard byte >= 0x30, byte <= 0x39 else { return nil }
      value = value * 10 + Int(byte - 0x30)
    }
    return value
  }

  /// Writes `value` (0...99) as two digits.
  @inline(__always)
  static func put(_ value: Int, _ out: UnsafeMutablePointer<UInt8>) {
    out[0] = UInt8(truncatingIfNeeded: value / 10) &+ 0x30
    out[1] = UInt8(truncatingIfNeeded: value % 10) &+ 0x30
  }

  /// Appends `value` in decimal, zero-padded to `width`, without a temporary array. Values below 10,000 are written
  /// with constant divisors, which compile to multiplications rather than divisions.
  @inline(__always)
  static func append<Sink: ByteSink & ~Copyable>(_ value: Int, width: Int, to bytes: inout Sink) {
    let value = abs(value)
    let digits = value < 10 ? 1 : value < 100 ? 2 : value < 1000 ? 3 : value < 10_000 ? 4 : 0
    guard digits > 0 else {
      var divisor = 1
      for _ in 1..<max(width, 1) { divisor *= 10 }
      while value / divisor >= 10 { divisor *= 10 }
      while divisor > 0 {
        bytes.append(UInt8(value / divisor % 10) + 0x30)
        divisor /= 10
      }
      return
    }
    var padding = width - digits
    while padding > 0 {
      bytes.append(0x30)
      padding -= 1
    }
    if digits >= 4 { bytes.append(UInt8(truncatingIfNeeded: value / 1000) &+ 0x30) }
    if digits >= 3 { bytes.append(UInt8(truncatingIfNeeded: value / 100 % 10) &+ 0x30) }
    if digits >= 2 { bytes.append(UInt8(truncatingIfNeeded: value / 10 % 10) &+ 0x30) }
    bytes.append(UInt8(truncatingIfNeeded: value % 10) &+ 0x30)
  }
}
