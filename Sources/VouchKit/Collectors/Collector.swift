import Foundation
import Logging

/// A source of evidence: turns validated parameters into facts and artifacts.
///
/// Each collector is one value type in its own file, registered once in `CollectorRegistry.builtIn`.
public protocol Collector: Sendable {
  /// The `collector.kind` that selects this collector in a control definition.
  static var kind: String { get }
  /// One line for `vouch collectors`.
  static var summary: String { get }
  /// Every parameter it accepts; names and types are checked before `init(parameters:)` runs.
  static var parameters: [ParameterSpec] { get }
  /// Every fact it may publish.
  static var facts: [FactSpec] { get }

  /// Builds the collector from parameters already checked against `parameters`.
  ///
  /// - Throws: `ParameterError` naming the parameter whose value is unusable.
  init(parameters: Parameters) throws(ParameterError)

  /// Gathers evidence. Throwing makes the control's status `error` with the error's description.
  func collect(_ context: CollectionContext) async throws -> CollectorOutput
}

/// The type a collector parameter must have in YAML.
public enum ParameterType: String, Sendable {
  case string, integer, number, boolean
  /// A number of seconds, or a string such as `30s`, `5m`, `2h`, `1d`.
  case duration
  /// An RFC 3339 date (`2026-01-31`) or date-time.
  case date
  case stringList = "list of strings"
  case stringMap = "map of strings"
}

/// Documentation and checking rules for one collector parameter.
public struct ParameterSpec: Sendable {
  public let name: String
  public let type: ParameterType
  public let required: Bool
  /// The default as it would be written in YAML, for `vouch explain`.
  public let defaultValue: String?
  public let summary: String

  public init(_ name: String, _ type: ParameterType, required: Bool = false, default defaultValue: String? = nil, _ summary: String) {
    self.name = name
    self.type = type
    self.required = required
    self.defaultValue = defaultValue
    self.summary = summary
  }
}

/// A parameter value after variable substitution, already converted to its declared type.
public enum ParameterValue: Sendable, Hashable {
  case string(String)
  case integer(Int)
  case number(Double)
  case boolean(Bool)
  /// Seconds.
  case duration(Double)
  case date(Date)
  case stringList([String])
  case stringMap([String: String])
}

/// A parameter is unusable; the loader turns this into a located definition problem.
public struct ParameterError: Error, Sendable, CustomStringConvertible {
  public let parameter: String
  public let message: String

  public init(_ parameter: String, _ message: String) {
    self.parameter = parameter
    self.message = message
  }

  public var description: String { "\(parameter): \(message)" }
}

/// The typed parameters of one control's collector.
public struct Parameters: Sendable, Hashable {
  public let values: [String: ParameterValue]

  public init(_ values: [String: ParameterValue]) {
    self.values = values
  }

  public func string(_ name: String) -> String? {
    if case .string(let value)? = values[name] { return value }
    return nil
  }

  public func integer(_ name: String) -> Int? {
    if case .integer(let value)? = values[name] { return value }
    return nil
  }

  public func number(_ name: String) -> Double? {
    switch values[name] {
    case .number(let value)?: return value
    case .integer(let value)?: return Double(value)
    default: return nil
    }
  }

  public func boolean(_ name: String) -> Bool? {
    if case .boolean(let value)? = values[name] { return value }
    return nil
  }

  /// Seconds.
  public func duration(_ name: String) -> Double? {
    if case .duration(let value)? = values[name] { return value }
    return nil
  }

  public func date(_ name: String) -> Date? {
    if case .date(let value)? = values[name] { return value }
    return nil
  }

  public func stringList(_ name: String) -> [String]? {
    if case .stringList(let value)? = values[name] { return value }
    return nil
  }

  public func stringMap(_ name: String) -> [String: String]? {
    if case .stringMap(let value)? = values[name] { return value }
    return nil
  }

  /// A required string; the loader has already enforced presence, so absence is a programming error surfaced as a parameter error.
  public func requiredString(_ name: String) throws(ParameterError) -> String {
    guard let value = string(name) else { throw ParameterError(name, "is required") }
    return value
  }
}

/// What a collector hands back: facts, and which artifacts back which facts.
public struct CollectorOutput: Sendable {
  public var facts: [String: FactValue]
  /// Fact name → artifact paths relative to the bundle.
  public var evidence: [String: [String]]
  /// When the evidence itself dates from, if not from now (an attested document's last review). Evidence older than
  /// the control's `frequency` makes the control `stale`.
  public var evidenceDate: Date?

  public init(facts: [String: FactValue] = [:], evidence: [String: [String]] = [:], evidenceDate: Date? = nil) {
    self.facts = facts
    self.evidence = evidence
    self.evidenceDate = evidenceDate
  }
}

/// Everything a collector may use while it runs. Injected so runs and tests are deterministic.
public struct CollectionContext: Sendable {
  public let controlID: String
  public let artifacts: ArtifactSink
  public let http: HTTPClient
  public let clock: any WallClock
  public let redactor: Redactor
  public let logger: Logger
  /// Where relative paths in definitions (e.g. a `file` collector's `path`) resolve from.
  public let baseDirectory: URL
  /// The process environment, injected: collectors that take a secret by variable name (an API token, a pseudonym
  /// key) read it here, never from `ProcessInfo`.
  public let environment: [String: String]

  public init(
    controlID: String, artifacts: ArtifactSink, http: HTTPClient, clock: any WallClock, redactor: Redactor,
    logger: Logger, baseDirectory: URL, environment: [String: String] = [:]
  ) {
    self.controlID = controlID
    self.artifacts = artifacts
    self.http = http
    self.clock = clock
    self.redactor = redactor
    self.logger = logger
    self.baseDirectory = baseDirectory
    self.environment = environment
  }
}

/// Replaces secret values (from `${env.…}` references) before anything reaches the bundle.
public struct Redactor: Sendable {
  public static let placeholder = "[REDACTED]"
  private let secrets: [String]

  public init(secrets: some Sequence<String>) {
    // Longest first so a secret containing another is replaced whole.
    self.secrets = Set(secrets.filter { !$0.isEmpty }).sorted { $0.count > $1.count }
  }

  public func redact(_ text: String) -> String {
    secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: Self.placeholder) }
  }
}
