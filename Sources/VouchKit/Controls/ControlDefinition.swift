import Foundation

/// A place in a definition file, 1-based, as editors show it.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
  /// Relative to the current directory when the file lies under it, otherwise absolute.
  public let file: String
  public let line: Int
  public let column: Int

  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  public var description: String { "\(file):\(line):\(column)" }
}

/// How bad it is if a control fails.
public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
  case low, medium, high, critical

  public static func < (lhs: Severity, rhs: Severity) -> Bool {
    lhs.rank < rhs.rank
  }

  private var rank: Int {
    switch self {
    case .low: return 0
    case .medium: return 1
    case .high: return 2
    case .critical: return 3
    }
  }
}

/// How often a control's evidence must be refreshed; evidence older than this is stale.
public struct Frequency: Sendable, Hashable, Codable, CustomStringConvertible {
  /// As written: `daily`, `weekly`, `monthly`, `quarterly`, `yearly`, or `<n>h` / `<n>d`.
  public let text: String
  public let seconds: Int

  static let named: [String: Int] = [
    "hourly": 3_600, "daily": 86_400, "weekly": 7 * 86_400, "monthly": 31 * 86_400,
    "quarterly": 92 * 86_400, "yearly": 366 * 86_400,
  ]

  /// Parses a frequency; `nil` when the text is none of the accepted forms.
  public init?(_ text: String) {
    if let seconds = Self.named[text] {
      self.text = text
      self.seconds = seconds
      return
    }
    guard let unit = text.last, let count = Int(text.dropLast()), count > 0 else { return nil }
    switch unit {
    case "h": seconds = count * 3_600
    case "d": seconds = count * 86_400
    default: return nil
    }
    self.text = text
  }

  public var description: String { text }
}

/// Which collector gathers a control's evidence, with its typed parameters.
public struct CollectorInvocation: Sendable {
  public let kind: String
  public let parameters: Parameters
  /// The built collector, ready to run.
  public let collector: any Collector

  public init(kind: String, parameters: Parameters, collector: any Collector) {
    self.kind = kind
    self.parameters = parameters
    self.collector = collector
  }
}

/// One control, fully resolved: variables substituted, parameters typed, collector built.
public struct ControlDefinition: Sendable {
  /// Unique across the catalogue; letters, digits, `.`, `_`, `-` (it names folders).
  public let id: String
  public let title: String
  public let description: String
  /// SOC 2 Trust Services Criteria references such as `CC7.1`.
  public let criteria: [String]
  public let owner: String
  public let severity: Severity
  public let frequency: Frequency
  /// `false` keeps the control in the catalogue with status `skipped`.
  public let enabled: Bool
  /// The target name when the control was expanded with `for_each`.
  public let target: String?
  public let collector: CollectorInvocation
  public let expectations: [Expectation]
  /// Where the control's definition starts.
  public let source: SourceLocation
  /// SHA-256 of the definition file's bytes, recorded in `run.json`.
  public let sourceDigest: String
  /// Values substituted from `${env.…}`; redacted everywhere in the bundle.
  public let secrets: Set<String>
  /// Why the control does not apply (`not_applicable:`); such a control is reported, never run.
  public let notApplicable: String?

  public init(
    id: String, title: String, description: String, criteria: [String], owner: String, severity: Severity,
    frequency: Frequency, enabled: Bool, target: String?, collector: CollectorInvocation, expectations: [Expectation],
    source: SourceLocation, sourceDigest: String, secrets: Set<String>, notApplicable: String? = nil
  ) {
    self.id = id
    self.title = title
    self.description = description
    self.criteria = criteria
    self.owner = owner
    self.severity = severity
    self.frequency = frequency
    self.enabled = enabled
    self.target = target
    self.collector = collector
    self.expectations = expectations
    self.source = source
    self.sourceDigest = sourceDigest
    self.secrets = secrets
    self.notApplicable = notApplicable
  }
}

/// A problem in the definitions, located precisely enough to fix without searching.
public struct DefinitionProblem: Sendable, Hashable, Codable, CustomStringConvertible {
  public enum Level: String, Sendable, Codable { case error, warning }

  public let level: Level
  public let location: SourceLocation
  /// Field path inside the document, such as `collector.url` or `expect[2].at-least`.
  public let field: String
  public let message: String
  /// What would be right, when it can be said (`did you mean 'owner'?`).
  public let hint: String?

  public init(_ level: Level = .error, at location: SourceLocation, field: String, _ message: String, hint: String? = nil) {
    self.level = level
    self.location = location
    self.field = field
    self.message = message
    self.hint = hint
  }

  public var description: String {
    let fieldPart = field.isEmpty ? "" : "\(field): "
    let hintPart = hint.map { " (\($0))" } ?? ""
    return "\(location): \(level.rawValue): \(fieldPart)\(message)\(hintPart)"
  }
}

/// Definitions that cannot be used; carries every problem found, not just the first.
public struct DefinitionErrors: Error, Sendable, CustomStringConvertible {
  public let problems: [DefinitionProblem]

  public init(_ problems: [DefinitionProblem]) {
    self.problems = problems
  }

  public var description: String {
    let errors = problems.filter { $0.level == .error }.count
    return problems.map(\.description).joined(separator: "\n") + "\n\(errors) error(s) in control definitions"
  }
}

/// A definition file that took part in a run.
public struct DefinitionFile: Sendable, Hashable, Codable {
  public let path: String
  public let sha256: String

  public init(path: String, sha256: String) {
    self.path = path
    self.sha256 = sha256
  }
}

/// The validated catalogue a run works from.
public struct ControlCatalog: Sendable {
  /// Sorted by id.
  public let controls: [ControlDefinition]
  /// Every file read (controls and variables), for `run.json`.
  public let files: [DefinitionFile]
  /// Problems that do not stop a run.
  public let warnings: [DefinitionProblem]

  public init(controls: [ControlDefinition], files: [DefinitionFile], warnings: [DefinitionProblem]) {
    self.controls = controls
    self.files = files
    self.warnings = warnings
  }
}
