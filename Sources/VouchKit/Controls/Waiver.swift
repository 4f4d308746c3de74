import Foundation

/// An approved, time-limited acceptance of a failing control, written by people in `waivers/*.yaml`.
public struct Waiver: Sendable, Codable, Hashable {
  public let id: String
  /// A control id; without `target` it also covers the control's `for_each` expansions.
  public let control: String
  public let target: String?
  public let justification: String
  public let approver: String
  public let approvedAt: Date
  public let expires: Date
  public let risk: Severity
  /// Where its `id` is written.
  public let source: SourceLocation

  /// Whether this waiver is written for `controlID`.
  public func covers(_ controlID: String) -> Bool {
    if let target { return controlID == "\(control).\(target)" }
    return controlID == control || controlID.hasPrefix(control + ".")
  }

  /// Where the waiver stands at `now`.
  public func state(at now: Date) -> WaiverOutcome.State {
    if now >= expires { return .expired }
    if now < approvedAt { return .pending }
    return .active
  }
}

/// What a run did with one waiver; every waiver appears in the reports, used or not.
public struct WaiverOutcome: Sendable, Codable, Hashable {
  public enum State: String, Sendable, Codable, Hashable {
    /// In force, and turned at least one failure into `waived`.
    case applied
    /// In force, but nothing it covers failed.
    case active
    /// Past `expires`: no longer applies, the failure it used to cover is a failure again.
    case expired
    /// `approved_at` lies in the future.
    case pending
  }

  public let waiver: Waiver
  public let state: State
  /// Controls it turned into `waived`.
  public let appliedTo: [String]
  /// Controls it covers that fail now because it has expired.
  public let failingBecauseExpired: [String]

  public init(waiver: Waiver, state: State, appliedTo: [String], failingBecauseExpired: [String]) {
    self.waiver = waiver
    self.state = state
    self.appliedTo = appliedTo
    self.failingBecauseExpired = failingBecauseExpired
  }
}

/// Loads and checks waiver files, reporting every problem with its location like control definitions.
public struct WaiverLoader: Sendable {
  /// Where waivers live unless `--waivers` says otherwise.
  public static let defaultFolder = "waivers"

  /// The waiver folder to load: the one given, else `waivers` when it exists; `nil` means no waivers.
  public static func folder(_ explicit: String?) -> String? {
    explicit ?? (FileManager.default.fileExists(atPath: defaultFolder) ? defaultFolder : nil)
  }

  static let keys = ["id", "control", "target", "justification", "approver", "approved_at", "expires", "risk"]
  static let requiredKeys = ["id", "control", "justification", "approver", "approved_at", "expires", "risk"]

  /// Ids of the loaded catalogue (expanded), so a waiver for a control that does not exist is caught.
  let controlIDs: Set<String>
  let currentDirectory: String

  public init(controlIDs: some Sequence<String>, currentDirectory: String = FileManager.default.currentDirectoryPath) {
    self.controlIDs = Set(controlIDs)
    self.currentDirectory = currentDirectory
  }

  /// Every waiver under `directory` (one per YAML document), sorted by id.
  public func load(directory: URL) throws(DefinitionErrors) -> (waivers: [Waiver], files: [DefinitionFile]) {
    let paths = DisplayPath(currentDirectory: currentDirectory)
    var problems: [DefinitionProblem] = []
    var files: [DefinitionFile] = []
    var waivers: [Waiver] = []
    var seen: [String: SourceLocation] = [:]
    let urls = ControlLoader.definitionFiles(
      in: directory, paths: paths, problems: &problems, folderName: "waivers", requireFiles: false)
    for url in urls {
      guard let (text, _) = ControlLoader.read(url, paths: paths, files: &files, problems: &problems) else { continue }
      let file = paths.display(url)
      let source = YAMLSource(text: text, file: file)
      problems += source.problems
      for document in source.documents {
        guard let waiver = build(document, file: file, problems: &problems) else { continue }
        if let first = seen[waiver.id] {
          problems.append(
            DefinitionProblem(at: waiver.source, field: "id", "duplicate waiver id '\(waiver.id)', first defined at \(first)"))
          continue
        }
        seen[waiver.id] = waiver.source
        waivers.append(waiver)
      }
    }
    guard !problems.contains(where: { $0.level == .error }) else {
      throw DefinitionErrors(ControlLoader.ordered(problems))
    }
    return (waivers.sorted { $0.id < $1.id }, files)
  }

  private func build(_ document: YAMLNode, file: String, problems: inout [DefinitionProblem]) -> Waiver? {
    func report(_ node: YAMLNode, _ field: String, _ message: String, hint: String? = nil) {
      problems.append(DefinitionProblem(at: node.location(in: file), field: field, message, hint: hint))
    }
    guard let entries = document.entries else {
      report(document, "", "a waiver must be a map of keys, got \(document.described)", hint: "start with id:, control:, …")
      return nil
    }
    let before = problems.count
    var fields: [String: YAMLEntry] = [:]
    for entry in entries {
      if Self.keys.contains(entry.name) {
        fields[entry.name] = fields[entry.name] ?? entry
      } else {
        report(
          entry.key, entry.name, "unknown key '\(entry.name)'",
          hint: Suggestions.hint(for: entry.name, in: Self.keys, listing: "known keys"))
      }
    }
    for key in Self.requiredKeys where fields[key] == nil {
      report(document, key, "missing required key '\(key)'")
    }
    func text(_ key: String) -> String? {
      guard let entry = fields[key] else { return nil }
      guard let value = entry.value.text, !value.trimmingCharacters(in: .whitespaces).isEmpty else {
        report(entry.value, key, "expected text, got \(entry.value.described)")
        return nil
      }
      return value
    }
    func date(_ key: String) -> Date? {
      guard let entry = fields[key] else { return nil }
      do {
        return try ParameterConversion.date(entry.value)
      } catch {
        report(entry.value, key, "\(error)", hint: "e.g. 2026-11-30 or 2026-11-30T00:00:00Z")
        return nil
      }
    }
    let id = text("id")
    if let id, !ControlIdentifier.isSafe(id) {
      report(fields["id"]?.value ?? document, "id", "waiver id '\(id)' must be letters, digits, '.', '_' or '-'")
    }
    let control = text("control")
    let target = text("target")
    if let control, let entry = fields["control"] {
      let wanted = target.map { "\(control).\($0)" } ?? control
      if !controlIDs.contains(wanted) && !controlIDs.contains(where: { $0.hasPrefix(control + ".") && target == nil }) {
        report(
          target == nil ? entry.value : (fields["target"]?.value ?? entry.value), target == nil ? "control" : "target",
          "no control '\(wanted)' in the catalogue",
          hint: Suggestions.hint(for: wanted, in: controlIDs.sorted(), listing: "known controls"))
      }
    }
    let risk = text("risk").flatMap { value -> Severity? in
      guard let risk = Severity(rawValue: value) else {
        report(fields["risk"]?.value ?? document, "risk", "unknown risk '\(value)'", hint: "one of low, medium, high, critical")
        return nil
      }
      return risk
    }
    let approvedAt = date("approved_at")
    let expires = date("expires")
    if let approvedAt, let expires, expires <= approvedAt, let entry = fields["expires"] {
      report(entry.value, "expires", "expires before it was approved (\(Timestamp.format(approvedAt)))")
    }
    guard problems.count == before, let id, let control, let justification = text("justification"),
      let approver = text("approver"), let approvedAt, let expires, let risk
    else { return nil }
    return Waiver(
      id: id, control: control, target: target, justification: justification, approver: approver,
      approvedAt: approvedAt, expires: expires, risk: risk,
      source: (fields["id"]?.value ?? document).location(in: file))
  }
}
