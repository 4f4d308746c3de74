import Foundation
import Testing

@testable import VouchKit

/// The business-day rule on hand-worked cases, each also recomputed at day level with numpy's busday functions.
@Suite struct ReportSLACalendarTests {
  struct Case: CustomTestStringConvertible, Sendable {
    let name: String
    var zone = "Europe/Berlin"
    var hours: String?
    let received: String
    let response: String
    let clockStart: String
    let deadline: String
    /// Business days from clock start to response, hand-worked.
    let elapsed: Double
    let within: Bool

    var testDescription: String { name }
  }

  static let holidays = ["2026-04-03", "2026-04-06", "2026-12-25", "2026-12-26", "2027-01-01"]

  static let cases: [Case] = [
    Case(
      name: "weekend receipt starts Monday 00:00; deadline end of Thursday", received: "2026-03-07T10:00:00+01:00",
      response: "2026-03-10T12:00:00+01:00", clockStart: "2026-03-08T23:00:00Z", deadline: "2026-03-12T23:00:00Z",
      elapsed: 1.5, within: true),
    Case(
      name: "Friday-night receipt with business hours starts Monday 09:00", hours: "09:00-17:00",
      received: "2026-03-06T22:30:00+01:00", response: "2026-03-09T13:00:00+01:00",
      clockStart: "2026-03-09T08:00:00Z", deadline: "2026-03-12T16:00:00Z", elapsed: 0.5, within: true),
    Case(
      name: "receipt before opening starts at opening; earlier response counts 0", hours: "09:00-17:00",
      received: "2026-03-10T07:30:00+01:00", response: "2026-03-10T07:45:00+01:00",
      clockStart: "2026-03-10T08:00:00Z", deadline: "2026-03-13T16:00:00Z", elapsed: 0, within: true),
    Case(
      name: "Good Friday and Easter Monday on the deadline move it to Tuesday", received: "2026-03-31T10:00:00+02:00",
      response: "2026-04-07T09:00:00+02:00", clockStart: "2026-03-31T08:00:00Z", deadline: "2026-04-07T22:00:00Z",
      elapsed: 14.0 / 24 + 2 + 9.0 / 24, within: true),
    Case(
      name: "receipt on a Friday holiday starts the next business day", received: "2026-04-03T10:00:00+02:00",
      response: "2026-04-07T06:00:00+02:00", clockStart: "2026-04-06T22:00:00Z", deadline: "2026-04-10T22:00:00Z",
      elapsed: 0.25, within: true),
    Case(
      name: "spring-forward weekend: 23-hour Sunday is not counted", received: "2026-03-27T15:00:00+01:00",
      response: "2026-03-30T09:00:00+02:00", clockStart: "2026-03-27T14:00:00Z", deadline: "2026-04-01T22:00:00Z",
      elapsed: 0.75, within: true),
    Case(
      name: "spring-forward weekend with business hours", hours: "09:00-17:00", received: "2026-03-28T11:00:00+01:00",
      response: "2026-04-02T17:00:00+02:00", clockStart: "2026-03-30T07:00:00Z", deadline: "2026-04-02T15:00:00Z",
      elapsed: 4, within: true),
    Case(
      name: "fall-back weekend", received: "2026-10-23T16:00:00+02:00", response: "2026-10-26T06:00:00+01:00",
      clockStart: "2026-10-23T14:00:00Z", deadline: "2026-10-28T23:00:00Z", elapsed: 8.0 / 24 + 6.0 / 24,
      within: true),
    Case(
      name: "US spring-forward weekend, New York business hours", zone: "America/New_York", hours: "09:00-17:00",
      received: "2026-03-06T20:00:00-05:00", response: "2026-03-09T13:00:00-04:00",
      clockStart: "2026-03-09T13:00:00Z", deadline: "2026-03-12T21:00:00Z", elapsed: 0.5, within: true),
    Case(
      name: "New Year: 1 January is skipped", received: "2026-12-30T11:00:00+01:00",
      response: "2027-01-04T12:00:00+01:00", clockStart: "2026-12-30T10:00:00Z", deadline: "2027-01-05T23:00:00Z",
      elapsed: 13.0 / 24 + 1 + 0.5, within: true),
    Case(
      name: "response exactly at the deadline is within", received: "2026-03-02T10:00:00+01:00",
      response: "2026-03-05T23:00:00Z", clockStart: "2026-03-02T09:00:00Z", deadline: "2026-03-05T23:00:00Z",
      elapsed: 14.0 / 24 + 3, within: true),
    Case(
      name: "one second after the deadline is a breach", received: "2026-03-02T10:00:00+01:00",
      response: "2026-03-05T23:00:01Z", clockStart: "2026-03-02T09:00:00Z", deadline: "2026-03-05T23:00:00Z",
      elapsed: 14.0 / 24 + 3 + 1.0 / 86_400, within: false),
    Case(
      name: "leap day is an ordinary business day", received: "2028-02-26T09:00:00+01:00",
      response: "2028-02-29T12:00:00+01:00", clockStart: "2028-02-27T23:00:00Z", deadline: "2028-03-02T23:00:00Z",
      elapsed: 1.5, within: true),
  ]

  static func instant(_ text: String) throws -> Double {
    guard case .instant(let value)? = ParsedTimestamp.parse(text) else {
      throw ReportSLAError("test case timestamp \(text) does not parse")
    }
    return value
  }

  static func calendar(_ testCase: Case) throws -> BusinessCalendar {
    let zone = try #require(TimeZone(identifier: testCase.zone))
    return BusinessCalendar(
      timeZone: zone, holidays: Set(holidays.compactMap(CivilDate.init)), hours: testCase.hours.flatMap(BusinessHours.init))
  }

  @Test(arguments: cases) func handWorkedCase(_ testCase: Case) throws {
    let received = try Self.instant(testCase.received)
    let response = try Self.instant(testCase.response)
    var table = BusinessDayTable(try Self.calendar(testCase), around: Int(received / 86_400))
    let start = table.clockStart(received: received)
    let deadline = table.deadline(clockStart: start, businessDays: 3)
    #expect(UTCFormat.string(start) == testCase.clockStart)
    #expect(UTCFormat.string(deadline) == testCase.deadline)
    #expect(abs(max(0, table.businessDays(from: start, to: response)) - testCase.elapsed) < 1e-9)
    #expect((response <= deadline) == testCase.within)
  }

  /// Day-level facts of each case from numpy: the day the clock starts, the deadline's day, and the whole business
  /// days between the clock-start day and the response day.
  @Test func daysAgreeWithNumpyBusdayFunctions() async throws {
    struct Input: Encodable {
      let received: String
      let receivedMinute: Int
      let close: Int?
      let response: String
      let holidays: [String]
    }
    var inputs: [Input] = []
    var swiftDays: [[String]] = []
    for testCase in Self.cases {
      let calendar = try Self.calendar(testCase)
      var foundation = Calendar(identifier: .gregorian)
      foundation.timeZone = calendar.timeZone
      func local(_ text: String) throws -> (date: String, minute: Int) {
        let parts = foundation.dateComponents(
          [.year, .month, .day, .hour, .minute], from: Date(timeIntervalSince1970: try Self.instant(text)))
        let date = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        return (date, (parts.hour ?? 0) * 60 + (parts.minute ?? 0))
      }
      let received = try local(testCase.received)
      inputs.append(
        Input(
          received: received.date, receivedMinute: received.minute, close: calendar.hours?.closeMinute,
          response: try local(testCase.response).date, holidays: Self.holidays))
      let receivedInstant = try Self.instant(testCase.received)
      var table = BusinessDayTable(calendar, around: Int(receivedInstant / 86_400))
      let start = table.clockStart(received: receivedInstant)
      let startDay = table.day(of: start)
      // The deadline is the exclusive end of the deadline day's business time.
      let deadlineDay = table.day(of: table.deadline(clockStart: start, businessDays: 3) - 0.001)
      let responseDay = table.day(of: try Self.instant(testCase.response))
      let whole = table.businessDays(from: table.startOfDay(startDay), to: table.startOfDay(responseDay))
      swiftDays.append([
        CivilDate(dayNumber: startDay).description, CivilDate(dayNumber: deadlineDay).description,
        String(Int(whole.rounded())),
      ])
    }
    let script = """
      import json, sys
      import numpy as np
      out = []
      for c in json.loads(sys.argv[1]):
          hol = c["holidays"]
          day = np.datetime64(c["received"])
          business = bool(np.is_busday(day, holidays=hol))
          after_close = c.get("close") is not None and c["receivedMinute"] >= c["close"]
          if business and not after_close:
              start = day
          else:
              start = np.busday_offset(day, 1 if business else 0, roll="forward", holidays=hol)
          deadline = np.busday_offset(start, 3, roll="forward", holidays=hol)
          whole = np.busday_count(start, np.datetime64(c["response"]), holidays=hol)
          out.append([str(start), str(deadline), str(int(whole))])
      print(json.dumps(out))
      """
    let encoder = JSONEncoder()
    let argument = String(decoding: try encoder.encode(inputs), as: UTF8.self)
    let python = try await AsyncCommand.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, argument])
    #expect(python.status == 0, "\(python.output)")
    let numpyDays = try JSONDecoder().decode([[String]].self, from: Data(python.output.utf8))
    #expect(numpyDays.count == Self.cases.count)
    for (index, testCase) in Self.cases.enumerated() where index < numpyDays.count {
      #expect(swiftDays[index] == numpyDays[index], "\(testCase.name)")
    }
  }

  @Test func timestampShapes() {
    #expect(ParsedTimestamp.parse("2026-03-02T10:00:00Z") == .instant(1_772_445_600))
    #expect(ParsedTimestamp.parse("2026-03-02T11:00:00.500+01:00") == .instant(1_772_445_600.5))
    #expect(ParsedTimestamp.parse("2026-03-02T11:00+0100") == .instant(1_772_445_600))
    #expect(ParsedTimestamp.parse("2026-03-02 10:00:00") == .local(dayNumber: 20_514, seconds: 36_000))
    #expect(ParsedTimestamp.parse("2026-03-02") == .local(dayNumber: 20_514, seconds: 0))
    for bad in ["yesterday", "2026-02-30T10:00:00Z", "2026-03-02T25:00:00Z", "2026-03-02T10:00:00+1", "2026-03-02T10"] {
      #expect(ParsedTimestamp.parse(bad) == nil, "\(bad)")
    }
    #expect(UTCFormat.string(1_772_445_600.9) == "2026-03-02T10:00:00Z")
    var decimal: [UInt8] = []
    UTCFormat.appendDecimal(2.0416666, to: &decimal)
    UTCFormat.appendDecimal(-0.0005, to: &decimal)
    #expect(String(decoding: decimal, as: UTF8.self) == "2.042-0.001")
    #expect(CivilDate(dayNumber: CivilDate(year: 2028, month: 2, day: 29)?.dayNumber ?? 0).description == "2028-02-29")
  }
}
