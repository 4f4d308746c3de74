import Foundation

/// A typed value a collector observed; the unit expectations are evaluated against.
public enum FactValue: Sendable, Hashable {
  case string(String)
  case integer(Int)
  case number(Double)
  case boolean(Bool)
  case list([FactValue])
  case map([String: FactValue])
  case null

  /// The value as a number when it is numeric, for ordering comparisons.
  public var numeric: Double? {
    switch self {
    case .integer(let value): return Double(value)
    case .number(let value): return value
    default: return nil
    }
  }

  /// A compact, deterministic rendering for findings and reports.
  public var rendered: String {
    switch self {
    case .string(let value): return value
    case .integer(let value): return String(value)
    case .number(let value): return value.formatted(.number.grouping(.never).precision(.fractionLength(0...6)))
    case .boolean(let value): return value ? "true" : "false"
    case .null: return "null"
    case .list(let values): return "[" + values.map(\.quotedRendering).joined(separator: ", ") + "]"
    case .map(let entries):
      return "{" + entries.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.quotedRendering)" }
        .joined(separator: ", ") + "}"
    }
  }

  private var quotedRendering: String {
    if case .string(let value) = self { return "\"\(value)\"" }
    return rendered
  }

  /// Looks up a dotted path (`headers.content-type`) inside maps; `nil` when any step is missing.
  public func value(at path: ArraySlice<String>) -> FactValue? {
    guard let head = path.first else { return self }
    guard case .map(let entries) = self, let next = entries[head] else { return nil }
    return next.value(at: path.dropFirst())
  }
}

extension FactValue: Codable {
  public init(from decoder: Decoder) throws {
    // Strings are the most common facts, so they are tried first: every failed attempt costs a thrown error, which
    // dominated reading a year of bundles back. JSON keeps the kinds apart (a number never decodes as a string or a
    // boolean), so the order does not change what is decoded; Int before Double keeps integers integral.
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode(Int.self) {
      self = .integer(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(Bool.self) {
      self = .boolean(value)
    } else if let value = try? container.decode([FactValue].self) {
      self = .list(value)
    } else {
      self = .map(try container.decode([String: FactValue].self))
    }
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .string(let value): try container.encode(value)
    case .integer(let value): try container.encode(value)
    case .number(let value): try container.encode(value)
    case .boolean(let value): try container.encode(value)
    case .list(let value): try container.encode(value)
    case .map(let value): try container.encode(value)
    case .null: try container.encodeNil()
    }
  }
}

/// The declared type of a fact, checked against expectation operands by `vouch validate`.
public enum FactType: String, Sendable, Codable, CaseIterable {
  case string, integer, number, boolean, timestamp
  case stringList = "list<string>"
  case integerList = "list<integer>"
  case stringMap = "map<string,string>"
  case map = "map"
  case list = "list"

  /// Whether ordering operators (`at-least`, `at-most`) make sense.
  public var isOrdered: Bool { self == .integer || self == .number || self == .timestamp }
  public var isList: Bool { self == .stringList || self == .integerList || self == .list }
  public var isMap: Bool { self == .stringMap || self == .map }
}

/// Documentation of one fact a collector publishes.
public struct FactSpec: Sendable, Hashable {
  public let name: String
  public let type: FactType
  public let summary: String
  /// Artifact file names (within the control's folder) that back this fact.
  public let evidence: [String]

  public init(_ name: String, _ type: FactType, _ summary: String, evidence: [String] = []) {
    self.name = name
    self.type = type
    self.summary = summary
    self.evidence = evidence
  }
}
