import Foundation

/// The rule for control ids and target names: both become folder names in evidence bundles.
enum ControlIdentifier {
  static let rule = "use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100 characters"

  static func isSafe(_ text: String) -> Bool {
    guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= 100, isAlphanumeric(first) else {
      return false
    }
    return text.unicodeScalars.allSatisfy { isAlphanumeric($0) || $0 == "." || $0 == "_" || $0 == "-" }
  }

  private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
  }
}

/// A control that validated, with where its id was written (for duplicate-id reports).
struct BuiltControl {
  let definition: ControlDefinition
  let idLocation: SourceLocation
}

/// Validates one YAML document and turns it into one control, or one per `for_each` target.
struct ControlBuilder {
  let collectors: [any Collector.Type]
  let variables: VariableSet
  let environment: [String: String]
  let requireEnvironment: Bool
  let file: String
  let digest: String

  static let keys = [
    "id", "title", "description", "criteria", "owner", "severity", "frequency", "enabled", "not_applicable",
    "for_each", "collector", "expect",
  ]
  static let requiredKeys = ["id", "title", "description", "criteria", "owner", "severity", "frequency", "collector"]

  /// Builds every control the document defines; problems are appended, repeated ones (per target) only once.
  func build(_ document: YAMLNode, problems: inout [DefinitionProblem]) -> [BuiltControl] {
    guard let entries = document.entries else {
      report(
        &problems, at: document, field: "", "a control must be a map of keys, got \(document.described)",
        hint: "start the document with id:, title:, description:, …")
      return []
    }
    var scopes: [TargetScope] = [.none]
    if let forEach = entries.first(where: { $0.name == "for_each" }) {
      scopes = targetScopes(forEach, problems: &problems)
    }
    var built: [BuiltControl] = []
    for scope in scopes {
      var substitution = Substitution(
        variables: variables, environment: environment, requireEnvironment: requireEnvironment, file: file,
        scope: scope)
      let resolved = entries.map { entry in
        entry.name == "for_each"
          ? entry : YAMLEntry(key: entry.key, value: substitution.apply(to: entry.value, path: entry.name))
      }
      var local = substitution.problems
      let target: String? = if case .named(let name, _) = scope { name } else { nil }
      let control = buildOne(
        YAMLNode(.mapping(resolved), line: document.line, column: document.column), target: target,
        secrets: substitution.secrets, problems: &local)
      for problem in local where !problems.contains(problem) { problems.append(problem) }
      if let control { built.append(control) }
    }
    return built
  }

  private func targetScopes(_ entry: YAMLEntry, problems: inout [DefinitionProblem]) -> [TargetScope] {
    let node = entry.value
    var names: [String] = []
    if node.text == "targets" {
      names = variables.targetNames
      if names.isEmpty {
        report(
          &problems, at: node, field: "for_each", "for_each: targets, but no targets are defined",
          hint: "define targets: in the variables file")
      }
    } else if let items = node.items {
      if items.isEmpty {
        report(
          &problems, at: node, field: "for_each", "for_each lists no targets",
          hint: "name targets, write for_each: targets, or remove for_each")
      }
      for (index, item) in items.enumerated() {
        let field = FieldPath.index("for_each", index)
        guard let name = item.text else {
          report(&problems, at: item, field: field, "expected a target name, got \(item.described)")
          continue
        }
        guard variables.targets[name] != nil else {
          report(
            &problems, at: item, field: field, "unknown target '\(name)'",
            hint: Suggestions.hint(for: name, in: variables.targetNames, listing: "known targets")
              ?? "define targets: in the variables file")
          continue
        }
        names.append(name)
      }
    } else {
      report(
        &problems, at: node, field: "for_each", "expected 'targets' or a list of target names, got \(node.described)")
    }
    if names.isEmpty { return [.unresolved] }
    return names.map { .named($0, variables.targets[$0] ?? [:]) }
  }

  // MARK: - One control

  private func buildOne(
    _ document: YAMLNode, target: String?, secrets: Set<String>, problems: inout [DefinitionProblem]
  )
    -> BuiltControl?
  {
    let entries = document.entries ?? []
    var fields: [String: YAMLEntry] = [:]
    for entry in entries {
      if Self.keys.contains(entry.name) {
        fields[entry.name] = fields[entry.name] ?? entry
      } else {
        report(
          &problems, at: entry.key, field: entry.name, "unknown key '\(entry.name)'",
          hint: Suggestions.hint(for: entry.name, in: Self.keys, listing: "known keys"))
      }
    }
    for key in Self.requiredKeys where fields[key] == nil {
      report(&problems, at: document, field: key, "missing required key '\(key)'")
    }
    let before = problems.count
    let id = fields["id"].flatMap { identifier($0, target: target, problems: &problems) }
    let title = fields["title"].flatMap { text($0, problems: &problems) }
    let description = fields["description"].flatMap { text($0, problems: &problems) }
    let owner = fields["owner"].flatMap { text($0, problems: &problems) }
    let criteria = fields["criteria"].flatMap { self.criteria($0, problems: &problems) }
    let severity = fields["severity"].flatMap { self.severity($0, problems: &problems) }
    let frequency = fields["frequency"].flatMap { self.frequency($0, problems: &problems) }
    let enabled = fields["enabled"].map { boolean($0, problems: &problems) } ?? true
    let notApplicable = fields["not_applicable"].flatMap { text($0, problems: &problems) }
    let invocation = fields["collector"].flatMap { collector($0, problems: &problems) }
    let collectorType = fields["collector"]?.value.entries?.first { $0.name == "kind" }?.value.text.flatMap {
      CollectorRegistry.collector(kind: $0, in: collectors)
    }
    let expectations =
      fields["expect"].map { self.expectations($0, collector: collectorType, problems: &problems) } ?? []
    guard problems.count == before, let id, let idEntry = fields["id"], let title, let description, let owner,
      let criteria, let severity, let frequency, let invocation
    else { return nil }
    let definition = ControlDefinition(
      id: id, title: title, description: description, criteria: criteria, owner: owner, severity: severity,
      frequency: frequency, enabled: enabled, target: target, collector: invocation, expectations: expectations,
      source: document.location(in: file), sourceDigest: digest, secrets: secrets, notApplicable: notApplicable)
    return BuiltControl(definition: definition, idLocation: idEntry.value.location(in: file))
  }

  private func report(
    _ problems: inout [DefinitionProblem], at node: YAMLNode, field: String, _ message: String, hint: String? = nil
  ) {
    problems.append(DefinitionProblem(at: node.location(in: file), field: field, message, hint: hint))
  }

  private func text(_ entry: YAMLEntry, problems: inout [DefinitionProblem]) -> String? {
    guard let text = entry.value.text else {
      report(&problems, at: entry.value, field: entry.name, "expected text, got \(entry.value.described)")
      return nil
    }
    guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
      report(&problems, at: entry.value, field: entry.name, "must not be empty")
      return nil
    }
    return text
  }

  private func identifier(_ entry: YAMLEntry, target: String?, problems: inout [DefinitionProblem]) -> String? {
    guard let base = text(entry, problems: &problems) else { return nil }
    guard ControlIdentifier.isSafe(base) else {
      report(&problems, at: entry.value, field: "id", "id '\(base)' cannot name a folder", hint: ControlIdentifier.rule)
      return nil
    }
    guard let target else { return base }
    let id = "\(base).\(target)"
    guard ControlIdentifier.isSafe(id) else {
      report(
        &problems, at: entry.value, field: "id", "expanded id '\(id)' is longer than 100 characters",
        hint: "shorten the id or the target name")
      return nil
    }
    return id
  }

  private func criteria(_ entry: YAMLEntry, problems: inout [DefinitionProblem]) -> [String]? {
    guard let items = entry.value.items else {
      let example = entry.value.text ?? "CC7.1"
      report(&problems, at: entry.value, field: "criteria", "expected a list, e.g. [\(example)]")
      return nil
    }
    guard !items.isEmpty else {
      report(&problems, at: entry.value, field: "criteria", "must name at least one criterion", hint: "e.g. [CC7.1]")
      return nil
    }
    var criteria: [String] = []
    for (index, item) in items.enumerated() {
      let field = FieldPath.index("criteria", index)
      guard let text = item.text, Self.isCriterion(text) else {
        report(
          &problems, at: item, field: field, "\(item.described) is not a SOC 2 criterion",
          hint: "expected CC1.1…CC9.99, A1.x, C1.x, PI1.x or P1.x…P8.x")
        continue
      }
      criteria.append(text)
    }
    return criteria.count == items.count ? criteria : nil
  }

  /// The series of the Trust Services Criteria; a reference is `<series>.<1 or 2 digits>`.
  static let criteriaSeries: Set<Substring> = Set(
    (1...9).map { "CC\($0)" } + (1...8).map { "P\($0)" } + ["A1", "C1", "PI1"])

  /// Matches `^(CC[1-9]|A1|C1|PI1|P[1-8])\.[0-9]{1,2}$` without a regular expression: checked for every expanded
  /// control, where a regex match per criterion showed up in profiles of large catalogues.
  static func isCriterion(_ text: String) -> Bool {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 2, criteriaSeries.contains(parts[0]), (1...2).contains(parts[1].count) else { return false }
    return parts[1].allSatisfy { $0.isASCII && $0.isNumber }
  }

  private func severity(_ entry: YAMLEntry, problems: inout [DefinitionProblem]) -> Severity? {
    let names = Severity.allCases.map(\.rawValue)
    guard let text = entry.value.text, let severity = Severity(rawValue: text) else {
      report(
        &problems, at: entry.value, field: "severity", "unknown severity \(entry.value.described)",
        hint: Suggestions.hint(for: entry.value.text ?? "", in: names, listing: "one of"))
      return nil
    }
    return severity
  }

  private func frequency(_ entry: YAMLEntry, problems: inout [DefinitionProblem]) -> Frequency? {
    guard let text = entry.value.text, let frequency = Frequency(text) else {
      let named = Frequency.named.sorted { $0.value < $1.value }.map(\.key)
      report(
        &problems, at: entry.value, field: "frequency", "unknown frequency \(entry.value.described)",
        hint: Suggestions.nearest(to: entry.value.text ?? "", in: named).map { "did you mean '\($0)'?" }
          ?? "one of \(named.joined(separator: ", ")), or <n>h / <n>d")
      return nil
    }
    return frequency
  }

  private func boolean(_ entry: YAMLEntry, problems: inout [DefinitionProblem]) -> Bool {
    guard case .scalar(_, .boolean(let value)) = entry.value.content else {
      report(&problems, at: entry.value, field: entry.name, "expected true or false, got \(entry.value.described)")
      return true
    }
    return value
  }

  // MARK: - Collector

  private func collector(_ entry: YAMLEntry, problems: inout [DefinitionProblem]) -> CollectorInvocation? {
    let kinds = collectors.map { $0.kind }.sorted()
    guard let entries = entry.value.entries else {
      report(
        &problems, at: entry.value, field: "collector",
        "expected a map with kind: and parameters, got \(entry.value.described)")
      return nil
    }
    guard let kindEntry = entries.first(where: { $0.name == "kind" }) else {
      report(
        &problems, at: entry.value, field: "collector.kind", "missing required key 'kind'",
        hint: "known kinds: \(kinds.joined(separator: ", "))")
      return nil
    }
    guard let kind = kindEntry.value.text, let type = CollectorRegistry.collector(kind: kind, in: collectors) else {
      report(
        &problems, at: kindEntry.value, field: "collector.kind", "unknown collector kind \(kindEntry.value.described)",
        hint: Suggestions.hint(for: kindEntry.value.text ?? "", in: kinds, listing: "known kinds"))
      return nil
    }
    let names = type.parameters.map(\.name)
    var values: [String: ParameterValue] = [:]
    var valueNodes: [String: YAMLNode] = [:]
    var failed = false
    for parameter in entries where parameter.name != "kind" {
      let field = FieldPath.child("collector", parameter.name)
      guard let spec = type.parameters.first(where: { $0.name == parameter.name }) else {
        report(
          &problems, at: parameter.key, field: field, "unknown parameter '\(parameter.name)' for collector '\(kind)'",
          hint: Suggestions.hint(for: parameter.name, in: names, listing: "parameters"))
        failed = true
        continue
      }
      do {
        values[spec.name] = try ParameterConversion.convert(parameter.value, to: spec.type)
        valueNodes[spec.name] = parameter.value
      } catch {
        report(
          &problems, at: error.inner?.node ?? parameter.value, field: field + (error.inner?.path ?? ""), error.message,
          hint: error.hint)
        failed = true
      }
    }
    for spec in type.parameters where spec.required && !entries.contains(where: { $0.name == spec.name }) {
      report(
        &problems, at: entry.value, field: FieldPath.child("collector", spec.name),
        "missing required parameter '\(spec.name)'", hint: "\(spec.type.rawValue): \(spec.summary)")
      failed = true
    }
    guard !failed else { return nil }
    let parameters = Parameters(values)
    do {
      return CollectorInvocation(kind: kind, parameters: parameters, collector: try type.init(parameters: parameters))
    } catch {
      let node = valueNodes[error.parameter] ?? entry.value
      report(&problems, at: node, field: FieldPath.child("collector", error.parameter), error.message)
      return nil
    }
  }

  // MARK: - Expectations

  private func expectations(_ entry: YAMLEntry, collector: (any Collector.Type)?, problems: inout [DefinitionProblem])
    -> [Expectation]
  {
    guard let items = entry.value.items else {
      report(
        &problems, at: entry.value, field: "expect", "expected a list of expectations, got \(entry.value.described)",
        hint: "e.g. - fact: status, equals: 200")
      return []
    }
    return items.enumerated().compactMap { index, item in
      expectation(item, field: FieldPath.index("expect", index), collector: collector, problems: &problems)
    }
  }

  private func expectation(
    _ item: YAMLNode, field: String, collector: (any Collector.Type)?, problems: inout [DefinitionProblem]
  ) -> Expectation? {
    let operators = ExpectationOperator.allCases.map(\.rawValue)
    guard let entries = item.entries else {
      report(&problems, at: item, field: field, "expected a map with fact: and one operator, got \(item.described)")
      return nil
    }
    var fact: (path: String, node: YAMLNode)?
    var chosen: (op: ExpectationOperator, entry: YAMLEntry)?
    var valid = true
    for entry in entries {
      let entryField = FieldPath.child(field, entry.name)
      if entry.name == "fact" {
        if let path = entry.value.text {
          fact = (path, entry.value)
        } else {
          report(&problems, at: entry.value, field: entryField, "expected a fact name, got \(entry.value.described)")
          valid = false
        }
      } else if let op = ExpectationOperator(rawValue: entry.name) {
        if let first = chosen {
          report(
            &problems, at: entry.key, field: entryField,
            "more than one operator: '\(entry.name)' after '\(first.op.rawValue)'",
            hint: "write one expectation per operator")
          valid = false
        } else {
          chosen = (op, entry)
        }
      } else {
        report(
          &problems, at: entry.key, field: entryField, "unknown operator '\(entry.name)'",
          hint: Suggestions.hint(for: entry.name, in: operators, listing: "operators"))
        valid = false
      }
    }
    if fact == nil, !entries.contains(where: { $0.name == "fact" }) {
      report(&problems, at: item, field: FieldPath.child(field, "fact"), "missing required key 'fact'")
    }
    if chosen == nil, valid {
      report(
        &problems, at: item, field: field, "missing an operator",
        hint: "add one of: \(operators.joined(separator: ", "))")
    }
    guard let fact, let chosen else { return nil }
    let operand = chosen.entry.value.factValue
    if let collector {
      let name = String(fact.path.split(separator: ".", maxSplits: 1).first ?? "")
      guard let spec = collector.facts.first(where: { $0.name == name }) else {
        report(
          &problems, at: fact.node, field: FieldPath.child(field, "fact"),
          "unknown fact '\(name)' for collector '\(collector.kind)'",
          hint: Suggestions.hint(for: name, in: collector.facts.map(\.name), listing: "facts"))
        return nil
      }
      var type: FactType? = spec.type
      if fact.path != name {
        guard spec.type.isMap else {
          report(
            &problems, at: fact.node, field: FieldPath.child(field, "fact"),
            "fact '\(name)' is \(spec.type.rawValue), so '\(fact.path)' names nothing",
            hint: "only map facts take a dotted path")
          return nil
        }
        // Entries of a string map are strings; entries of a general map may be anything.
        type = spec.type == .stringMap ? .string : nil
      }
      if let type, let reason = chosen.op.incompatibility(with: type, operand: operand) {
        report(&problems, at: chosen.entry.value, field: FieldPath.child(field, chosen.op.rawValue), reason)
        return nil
      }
    }
    guard valid else { return nil }
    return Expectation(fact: fact.path, op: chosen.op, operand: operand)
  }
}
