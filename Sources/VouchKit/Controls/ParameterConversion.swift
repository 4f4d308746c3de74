import Foundation

/// Why a YAML value cannot be a parameter of the declared type; the loader locates it at the value.
struct ConversionError: Error {
  let message: String
  let hint: String?
  /// The element or entry at fault inside a list or map value, with its path suffix (`[1]`, `.accept`).
  var inner: (node: YAMLNode, path: String)? = nil
}

/// Turns YAML values into `ParameterValue`s according to `ParameterSpec.type`, before any collector sees them.
enum ParameterConversion {
  static func convert(_ node: YAMLNode, to type: ParameterType) throws(ConversionError) -> ParameterValue {
    switch type {
    case .string:
      guard let text = node.text else { throw mismatch(node, expected: "a string") }
      return .string(text)
    case .integer:
      guard case .scalar(_, .integer(let value)) = node.content else { throw mismatch(node, expected: "an integer") }
      return .integer(value)
    case .number:
      switch node.content {
      case .scalar(_, .integer(let value)): return .number(Double(value))
      case .scalar(_, .number(let value)): return .number(value)
      default: throw mismatch(node, expected: "a number")
      }
    case .boolean:
      guard case .scalar(_, .boolean(let value)) = node.content else { throw mismatch(node, expected: "true or false") }
      return .boolean(value)
    case .duration:
      return .duration(try duration(node))
    case .date:
      return .date(try date(node))
    case .stringList:
      guard let items = node.items else {
        if let text = node.text { throw ConversionError(message: "expected a list, e.g. [\(text)]", hint: nil) }
        throw mismatch(node, expected: "a list of strings")
      }
      var values: [String] = []
      for (index, item) in items.enumerated() {
        guard let text = item.text else {
          var error = mismatch(item, expected: "a string")
          error.inner = (item, "[\(index)]")
          throw error
        }
        values.append(text)
      }
      return .stringList(values)
    case .stringMap:
      guard let entries = node.entries else { throw mismatch(node, expected: "a map of strings") }
      var values: [String: String] = [:]
      for entry in entries {
        guard let text = entry.value.text else {
          var error = mismatch(entry.value, expected: "a string")
          error.inner = (entry.value, ".\(entry.name)")
          throw error
        }
        values[entry.name] = text
      }
      return .stringMap(values)
    }
  }

  private static let durationUnits: [Character: Double] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]

  /// A number of seconds, or `<n>s` / `<n>m` / `<n>h` / `<n>d`.
  static func duration(_ node: YAMLNode) throws(ConversionError) -> Double {
    let failure = ConversionError(
      message: "expected a duration, got \(node.described)", hint: "write a number of seconds or 30s, 5m, 2h, 1d")
    switch node.content {
    case .scalar(_, .integer(let seconds)) where seconds >= 0: return Double(seconds)
    case .scalar(_, .number(let seconds)) where seconds >= 0 && seconds.isFinite: return seconds
    case .scalar(let text, .string):
      guard let unit = text.last, let factor = durationUnits[unit], let count = Double(text.dropLast()), count >= 0,
        text.dropLast().allSatisfy({ $0.isNumber || $0 == "." })
      else { throw failure }
      return count * factor
    default:
      throw failure
    }
  }

  /// `2026-01-31` (midnight UTC) or an RFC 3339 date-time.
  static func date(_ node: YAMLNode) throws(ConversionError) -> Date {
    let failure = ConversionError(
      message: "expected a date, got \(node.described)", hint: "write 2026-01-31 or 2026-01-31T00:00:00Z")
    guard let text = node.text else { throw failure }
    if let date = Timestamp.parse(text) { return date }
    if text.count == 10, let date = Timestamp.parse(text + "T00:00:00Z") { return date }
    throw failure
  }

  private static func mismatch(_ node: YAMLNode, expected: String) -> ConversionError {
    ConversionError(message: "expected \(expected), got \(node.described)", hint: nil)
  }
}
