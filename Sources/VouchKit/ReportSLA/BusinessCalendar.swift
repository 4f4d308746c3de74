import Foundation

/// The responding team's working calendar: time zone, weekend, holidays and optional business hours.
///
/// The rule it implements (docs/report-sla.md has worked examples):
/// - business time is every business day (not a weekend day, not a holiday) from its opening to its closing, or the
///   whole local day when no hours are set;
/// - a report received outside business time starts its clock at the opening of the next business day;
/// - the deadline for N business days is the closing of the N-th business day after the day the clock starts;
/// - elapsed time counts each business day as 1, and a part of one as the share of its business time that passed.
public struct BusinessCalendar: Sendable, Hashable {
  public let timeZone: TimeZone
  /// ISO weekdays (1 = Monday … 7 = Sunday) that are never business days.
  public let weekend: Set<Int>
  public let holidays: Set<CivilDate>
  /// Opening and closing as minutes after local midnight; nil means the whole day.
  public let hours: BusinessHours?

  public init(timeZone: TimeZone, weekend: Set<Int> = [6, 7], holidays: Set<CivilDate> = [], hours: BusinessHours? = nil) {
    self.timeZone = timeZone
    self.weekend = weekend
    self.holidays = holidays
    self.hours = hours
  }

  public func isBusinessDay(_ date: CivilDate) -> Bool {
    !weekend.contains(date.weekday) && !holidays.contains(date)
  }

  static let weekdayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

  /// `saturday`, `sat`, `Sunday` → ISO weekday.
  static func weekday(named name: String) -> Int? {
    let lowered = name.trimmingCharacters(in: .whitespaces).lowercased()
    guard lowered.count >= 3 else { return nil }
    return weekdayNames.firstIndex { $0.hasPrefix(lowered) }.map { $0 + 1 }
  }
}

/// Business hours in local wall-clock time, e.g. `09:00-17:30`.
public struct BusinessHours: Sendable, Hashable, CustomStringConvertible {
  public let openMinute: Int
  public let closeMinute: Int

  public init?(_ text: String) {
    let parts = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
    guard parts.count == 2, let open = Self.minutes(parts[0]), let close = Self.minutes(parts[1]), open < close else {
      return nil
    }
    openMinute = open
    closeMinute = close
  }

  private static func minutes(_ text: String) -> Int? {
    var text = text
    return text.withUTF8 { bytes in
      guard bytes.count == 5, bytes[2] == 0x3A, let hour = Digits.read(bytes, 0, 2),
        let minute = Digits.read(bytes, 3, 2), minute < 60, hour < 24 || (hour == 24 && minute == 0)
      else { return nil }
      return hour * 60 + minute
    }
  }

  public var description: String {
    String(format: "%02d:%02d-%02d:%02d", openMinute / 60, openMinute % 60, closeMinute / 60, closeMinute % 60)
  }
}

/// Per-day instants of a `BusinessCalendar`, computed once per local day with Foundation and then looked up, so a
/// million reports cost array reads rather than time zone conversions. Grows on demand; each task measuring records
/// works on its own copy.
struct BusinessDayTable: Sendable {
  let calendar: BusinessCalendar
  private let foundation: Calendar
  /// Day number of index 0; business-day positions count from it, so results are only bit-for-bit equal between
  /// tables with the same first day.
  private(set) var firstDay: Int
  /// UTC seconds of each local day's first instant; one more entry than the other arrays.
  private var starts: [Double] = []
  private var business: [Bool] = []
  private var opens: [Double] = []
  private var closes: [Double] = []
  /// Business days before each day, counted from `firstDay`.
  private var before: [Int] = []

  init(_ calendar: BusinessCalendar, around day: Int) {
    self.calendar = calendar
    var foundation = Calendar(identifier: .gregorian)
    foundation.timeZone = calendar.timeZone
    self.foundation = foundation
    firstDay = day - 400
    extend(through: day + 400)
  }

  private var lastDay: Int { firstDay + business.count - 1 }

  /// UTC seconds of a local wall-clock time; Foundation resolves times skipped or repeated by a DST change.
  private func instant(_ date: CivilDate, minute: Int) -> Double {
    var components = DateComponents(year: date.year, month: date.month, day: date.day)
    if minute >= 24 * 60 {
      let next = CivilDate(dayNumber: date.dayNumber + 1)
      components = DateComponents(year: next.year, month: next.month, day: next.day)
    } else {
      components.hour = minute / 60
      components.minute = minute % 60
    }
    if let date = foundation.date(from: components) { return date.timeIntervalSince1970 }
    // Foundation only fails for dates outside its range; fall back to the offset at that civil time.
    let civil = Double(date.dayNumber) * 86_400 + Double(minute) * 60
    return civil - Double(calendar.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: civil)))
  }

  private func dayStart(_ dayNumber: Int) -> Double {
    let date = CivilDate(dayNumber: dayNumber)
    guard let start = foundation.date(from: DateComponents(year: date.year, month: date.month, day: date.day)) else {
      return instant(date, minute: 0)
    }
    return foundation.startOfDay(for: start).timeIntervalSince1970
  }

  private mutating func extend(through day: Int) {
    if starts.isEmpty { starts.append(dayStart(firstDay)) }
    while lastDay < day {
      let number = lastDay + 1
      let date = CivilDate(dayNumber: number)
      let isBusiness = calendar.isBusinessDay(date)
      let start = starts[starts.count - 1]
      let nextStart = dayStart(number + 1)
      before.append((before.last ?? 0) + ((business.last ?? false) ? 1 : 0))
      business.append(isBusiness)
      if let hours = calendar.hours {
        opens.append(instant(date, minute: hours.openMinute))
        closes.append(hours.closeMinute >= 24 * 60 ? nextStart : instant(date, minute: hours.closeMinute))
      } else {
        opens.append(start)
        closes.append(nextStart)
      }
      starts.append(nextStart)
    }
  }

  /// Makes sure `day` is in the table; inlined, as it is asked several times per report and almost always is.
  @inline(__always)
  private mutating func ensure(_ day: Int) {
    if day < firstDay || day >= firstDay + business.count { grow(toInclude: day) }
  }

  /// Rebuilds the table so it starts at `day`; rare, since tables start 400 days before the window.
  private mutating func grow(toInclude day: Int) {
    if day < firstDay {
      let last = lastDay
      self = BusinessDayTable(calendar, around: day)
      extend(through: last)
    } else if day > lastDay {
      extend(through: day + 366)
    }
  }

  /// Computes the days up to `day` ahead of need; never moves the first day.
  mutating func prepare(through day: Int) {
    if day > lastDay { extend(through: day) }
  }

  /// The local day (as a day number) an instant falls on.
  mutating func day(of instant: Double) -> Int {
    var day = Int((instant / 86_400).rounded(.down))
    ensure(day - 1)
    ensure(day + 1)
    while instant < starts[day - firstDay] {
      day -= 1
      ensure(day)
    }
    while instant >= starts[day - firstDay + 1] {
      day += 1
      ensure(day + 1)
    }
    return day
  }

  mutating func isBusiness(day: Int) -> Bool {
    ensure(day)
    return business[day - firstDay]
  }

  /// UTC seconds of the first instant of a local day.
  mutating func startOfDay(_ day: Int) -> Double {
    ensure(day)
    return starts[day - firstDay]
  }

  /// UTC seconds of a local wall-clock time read without an offset.
  mutating func instant(localDay day: Int, seconds: Double) -> Double {
    ensure(day + 1)
    let index = day - firstDay
    let offsetAtStart = Double(day) * 86_400 - starts[index]
    let offsetAtEnd = Double(day + 1) * 86_400 - starts[index + 1]
    if offsetAtStart == offsetAtEnd { return Double(day) * 86_400 + seconds - offsetAtStart }
    // A DST change happens that day: let Foundation place the wall-clock time.
    let whole = Int(seconds)
    let components = DateComponents(
      year: CivilDate(dayNumber: day).year, month: CivilDate(dayNumber: day).month,
      day: CivilDate(dayNumber: day).day, hour: whole / 3600, minute: whole / 60 % 60, second: whole % 60)
    let date = foundation.date(from: components)?.timeIntervalSince1970 ?? Double(day) * 86_400 - offsetAtStart
    return date + (seconds - Double(whole))
  }

  /// When the response clock starts for a report received at `received`.
  mutating func clockStart(received: Double) -> Double {
    let day = day(of: received)
    let index = day - firstDay
    if business[index], received < closes[index] { return max(received, opens[index]) }
    var next = day + 1
    while !isBusiness(day: next) { next += 1 }
    return opens[next - firstDay]
  }

  /// The closing instant of the `businessDays`-th business day after the day the clock starts.
  mutating func deadline(clockStart: Double, businessDays: Int) -> Double {
    var day = day(of: clockStart)
    var remaining = businessDays
    while remaining > 0 {
      day += 1
      if isBusiness(day: day) { remaining -= 1 }
    }
    return closes[day - firstDay]
  }

  /// Business days between two instants, fractional; negative when `to` is earlier.
  mutating func businessDays(from: Double, to: Double) -> Double {
    let fromDay = day(of: from)
    let toDay = day(of: to)
    ensure(min(fromDay, toDay))
    return position(to, day: toDay) - position(from, day: fromDay)
  }

  /// The local day of `instant` and its business-day position; differences of positions taken while `firstDay`
  /// stays put are exactly what `businessDays` returns, so consecutive gaps need each instant located once.
  mutating func locate(_ instant: Double) -> (day: Int, position: Double) {
    let day = day(of: instant)
    return (day, position(instant, day: day))
  }

  /// Business days from the table's first day to `instant`, on its local `day`.
  func position(_ instant: Double, day: Int) -> Double {
    let index = day - firstDay
    guard business[index] else { return Double(before[index]) }
    let open = opens[index]
    let close = closes[index]
    let share = instant <= open ? 0 : instant >= close ? 1 : (instant - open) / (close - open)
    return Double(before[index]) + share
  }
}
