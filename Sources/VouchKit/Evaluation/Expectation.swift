import Foundation

/// The comparison an expectation applies to a fact.
public enum ExpectationOperator: String, Sendable, Codable, CaseIterable {
  case equals
  case notEquals = "not-equals"
  case contains
  case notContains = "not-contains"
  case atLeast = "at-least"
  case atMost = "at-most"
  case matches
  case notMatches = "not-matches"
  case exists
  case oneOf = "one-of"
  case subsetOf = "subset-of"
  case supersetOf = "superset-of"

  /// One line for `vouch explain` and validation hints.
  public var summary: String {
    switch self {
    case .equals: return "the fact equals the value"
    case .notEquals: return "the fact differs from the value"
    case .contains: return "a string fact contains the substring, a list holds the element, or a map has the key"
    case .notContains: return "the opposite of contains"
    case .atLeast: return "a number or timestamp fact is greater than or equal to the value"
    case .atMost: return "a number or timestamp fact is less than or equal to the value"
    case .matches: return "a string fact matches the regular expression"
    case .notMatches: return "a string fact does not match the regular expression"
    case .exists: return "true: the fact is present and not null; false: it is absent or null"
    case .oneOf: return "the fact equals one of the listed values"
    case .subsetOf: return "every element of a list fact is among the listed values"
    case .supersetOf: return "a list fact holds every listed value"
    }
  }

  /// Why this operator cannot apply to a fact of `type` with this operand, or `nil` when it can.
  public func incompatibility(with type: FactType, operand: FactValue) -> String? {
    switch self {
    case .equals, .notEquals:
      return nil
    case .contains, .notContains:
      if type == .string || type.isList || type.isMap { return nil }
      return "'\(rawValue)' needs a string, list or map fact; this fact is \(type.rawValue)"
    case .atLeast, .atMost:
      guard type.isOrdered else { return "'\(rawValue)' needs a number or timestamp fact; this fact is \(type.rawValue)" }
      if type == .timestamp {
        if case .string(let text) = operand, Timestamp.parse(text) != nil { return nil }
        return "'\(rawValue)' on a timestamp needs an RFC 3339 date-time such as 2026-01-31T00:00:00Z"
      }
      return operand.numeric == nil ? "'\(rawValue)' needs a number" : nil
    case .matches, .notMatches:
      guard type == .string || type == .timestamp else {
        return "'\(rawValue)' needs a string fact; this fact is \(type.rawValue)"
      }
      guard case .string(let pattern) = operand else { return "'\(rawValue)' needs a regular expression string" }
      do {
        _ = try Regex(pattern)
        return nil
      } catch {
        return "invalid regular expression: \(error)"
      }
    case .exists:
      if case .boolean = operand { return nil }
      return "'exists' takes true or false"
    case .oneOf:
      if case .list = operand { return nil }
      return "'one-of' takes a list of values"
    case .subsetOf, .supersetOf:
      guard type.isList else { return "'\(rawValue)' needs a list fact; this fact is \(type.rawValue)" }
      if case .list = operand { return nil }
      return "'\(rawValue)' takes a list of values"
    }
  }
}

/// One assertion over a collector's facts, as written under `expect:`.
public struct Expectation: Sendable, Hashable {
  /// Dotted fact path: the first segment is a fact name, later ones are map keys.
  public let fact: String
  public let op: ExpectationOperator
  public let operand: FactValue

  public init(fact: String, op: ExpectationOperator, operand: FactValue) {
    self.fact = fact
    self.op = op
    self.operand = operand
  }

  /// The fact name (first path segment).
  public var factName: String { String(fact.split(separator: ".", maxSplits: 1).first ?? "") }

  /// A readable form such as `status equals 200`.
  public var text: String { "\(fact) \(op.rawValue) \(operand.rendered)" }

  /// Evaluates against collected facts; `nil` when satisfied, otherwise the finding to report.
  public func evaluate(_ facts: [String: FactValue]) -> Finding? {
    let segments = fact.split(separator: ".", maxSplits: 1).map(String.init)
    var actual = facts[segments[0]]
    if segments.count > 1, let root = actual {
      // Map keys may contain dots (header names do not, but be exact): try the whole remainder first.
      if case .map(let entries) = root {
        actual = entries[segments[1]] ?? entries[segments[1].lowercased()]
      } else {
        actual = nil
      }
    }
    if satisfied(actual) { return nil }
    return Finding(fact: fact, op: op, expected: operand, actual: actual, message: explanation(actual))
  }

  private func satisfied(_ actual: FactValue?) -> Bool {
    if op == .exists {
      let present = actual != nil && actual != .null
      return operand == .boolean(present)
    }
    guard let actual, actual != .null else { return false }
    switch op {
    case .equals: return Self.equal(actual, operand)
    case .notEquals: return !Self.equal(actual, operand)
    case .contains: return Self.contains(actual, operand)
    case .notContains: return !Self.contains(actual, operand)
    case .atLeast, .atMost:
      guard let order = Self.compare(actual, operand) else { return false }
      return op == .atLeast ? order >= 0 : order <= 0
    case .matches, .notMatches:
      guard case .string(let text) = actual, case .string(let pattern) = operand,
        let regex = try? Regex(pattern)
      else { return false }
      let found = text.contains(regex)
      return op == .matches ? found : !found
    case .oneOf:
      guard case .list(let options) = operand else { return false }
      return options.contains { Self.equal(actual, $0) }
    case .subsetOf:
      guard case .list(let elements) = actual, case .list(let allowed) = operand else { return false }
      return elements.allSatisfy { element in allowed.contains { Self.equal(element, $0) } }
    case .supersetOf:
      guard case .list(let elements) = actual, case .list(let required) = operand else { return false }
      return required.allSatisfy { needed in elements.contains { Self.equal($0, needed) } }
    case .exists:
      return false
    }
  }

  private func explanation(_ actual: FactValue?) -> String {
    guard let actual, actual != .null else {
      return op == .exists ? "fact '\(fact)' is absent" : "fact '\(fact)' is absent, expected \(op.rawValue) \(operand.rendered)"
    }
    if op == .exists { return "fact '\(fact)' is present (\(actual.rendered)) but expected absent" }
    return "\(fact) is \(actual.rendered), expected \(op.rawValue) \(operand.rendered)"
  }

  static func equal(_ lhs: FactValue, _ rhs: FactValue) -> Bool {
    if let left = lhs.numeric, let right = rhs.numeric { return left == right }
    return lhs == rhs
  }

  static func contains(_ container: FactValue, _ needle: FactValue) -> Bool {
    switch container {
    case .string(let text):
      guard case .string(let part) = needle else { return text.contains(needle.rendered) }
      return text.contains(part)
    case .list(let elements):
      return elements.contains { equal($0, needle) }
    case .map(let entries):
      return entries[needle.rendered] != nil
    default:
      return false
    }
  }

  /// Orders numbers numerically and RFC 3339 timestamps chronologically.
  static func compare(_ lhs: FactValue, _ rhs: FactValue) -> Int? {
    if let left = lhs.numeric, let right = rhs.numeric { return left < right ? -1 : (left > right ? 1 : 0) }
    if case .string(let a) = lhs, case .string(let b) = rhs, let left = Timestamp.parse(a), let right = Timestamp.parse(b) {
      return left < right ? -1 : (left > right ? 1 : 0)
    }
    return nil
  }
}

/// A failed expectation: what was expected, what was observed.
public struct Finding: Sendable, Hashable, Codable {
  public let fact: String
  public let op: ExpectationOperator
  public let expected: FactValue
  /// `nil` when the fact was absent.
  public let actual: FactValue?
  public let message: String

  public init(fact: String, op: ExpectationOperator, expected: FactValue, actual: FactValue?, message: String) {
    self.fact = fact
    self.op = op
    self.expected = expected
    self.actual = actual
    self.message = message
  }

  enum CodingKeys: String, CodingKey {
    case fact, op = "operator", expected, actual, message
  }
}

/// RFC 3339 timestamps as used in facts, definitions and bundles.
public enum Timestamp {
  /// Parses an RFC 3339 date-time with or without fractional seconds.
  public static func parse(_ text: String) -> Date? {
    if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: false)) { return date }
    return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
  }

  /// `2026-11-29T06:00:00Z`, always UTC, second precision.
  public static func format(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false))
  }

  /// `20261129T060000Z`, for folder names that sort chronologically.
  public static func compact(_ date: Date) -> String {
    format(date).filter { $0 != "-" && $0 != ":" }
  }
}
