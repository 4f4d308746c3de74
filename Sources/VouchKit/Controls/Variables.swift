import Foundation

/// The contents of a variables file: shared values and the targets `for_each` expands over.
struct VariableSet {
  /// Name → a scalar or a list of scalars.
  var vars: [String: YAMLNode] = [:]
  /// Target names in file order, so expansion order follows the file.
  var targetNames: [String] = []
  var targets: [String: [String: YAMLNode]] = [:]

  /// Reads `vars:` and `targets:` from the file's single document, reporting every malformed entry.
  init(document: YAMLNode?, file: String, problems: inout [DefinitionProblem]) {
    guard let document else { return }
    guard let entries = document.entries else {
      problems.append(
        DefinitionProblem(
          at: document.location(in: file), field: "", "a variables file must be a map, got \(document.described)",
          hint: "write vars: and targets: at the top level"))
      return
    }
    for entry in entries {
      switch entry.name {
      case "vars": readVars(entry.value, file: file, problems: &problems)
      case "targets": readTargets(entry.value, file: file, problems: &problems)
      default:
        problems.append(
          DefinitionProblem(
            at: entry.key.location(in: file), field: entry.name, "unknown key '\(entry.name)'",
            hint: Suggestions.hint(for: entry.name, in: ["vars", "targets"], listing: "known keys")))
      }
    }
  }

  init() {}

  private mutating func readVars(_ node: YAMLNode, file: String, problems: inout [DefinitionProblem]) {
    if case .scalar(_, .null) = node.content { return }
    guard let entries = node.entries else {
      problems.append(
        DefinitionProblem(
          at: node.location(in: file), field: "vars", "expected a map of names to values, got \(node.described)"))
      return
    }
    for entry in entries {
      let field = FieldPath.child("vars", entry.name)
      switch entry.value.content {
      case .scalar:
        vars[entry.name] = entry.value
      case .sequence(let items) where items.allSatisfy({ $0.entries == nil && $0.items == nil }):
        vars[entry.name] = entry.value
      case .sequence, .mapping:
        problems.append(
          DefinitionProblem(
            at: entry.value.location(in: file), field: field, "a variable must be a scalar or a list of scalars",
            hint: "split nested values into separate variables"))
      }
    }
  }

  private mutating func readTargets(_ node: YAMLNode, file: String, problems: inout [DefinitionProblem]) {
    if case .scalar(_, .null) = node.content { return }
    guard let entries = node.entries else {
      problems.append(
        DefinitionProblem(
          at: node.location(in: file), field: "targets",
          "expected a map of target names to their variables, got \(node.described)"))
      return
    }
    for entry in entries {
      let field = FieldPath.child("targets", entry.name)
      guard ControlIdentifier.isSafe(entry.name) else {
        problems.append(
          DefinitionProblem(
            at: entry.key.location(in: file), field: field, "target name '\(entry.name)' cannot name a folder",
            hint: ControlIdentifier.rule))
        continue
      }
      var values: [String: YAMLNode] = [:]
      if let variables = entry.value.entries {
        for variable in variables {
          let variableField = FieldPath.child(field, variable.name)
          if variable.name == "name" {
            problems.append(
              DefinitionProblem(
                at: variable.key.location(in: file), field: variableField,
                "'name' is reserved for the target's own name",
                hint: "${target.name} is always '\(entry.name)'; rename this variable"))
          } else if variable.value.text == nil, variable.value.entries != nil || variable.value.items != nil {
            problems.append(
              DefinitionProblem(
                at: variable.value.location(in: file), field: variableField, "a target variable must be a scalar"))
          } else {
            values[variable.name] = variable.value
          }
        }
      } else if case .scalar(_, .null) = entry.value.content {
        // A target without variables of its own.
      } else {
        problems.append(
          DefinitionProblem(
            at: entry.value.location(in: file), field: field,
            "expected a map of variables, got \(entry.value.described)"))
        continue
      }
      targetNames.append(entry.name)
      targets[entry.name] = values
    }
  }
}

/// Which target, if any, `${target.…}` refers to while one control is being resolved.
enum TargetScope {
  /// The control has no `for_each`.
  case none
  /// `for_each` is present but unusable; target references resolve to empty text without further complaint.
  case unresolved
  case named(String, [String: YAMLNode])
}

/// Replaces `${vars.…}`, `${target.…}` and `${env.…}` in every string of a control, tracking secrets.
struct Substitution {
  let variables: VariableSet
  let environment: [String: String]
  let requireEnvironment: Bool
  let file: String
  let scope: TargetScope
  /// Values that came from the environment; they must be redacted wherever evidence is written.
  private(set) var secrets: Set<String> = []
  private(set) var problems: [DefinitionProblem] = []

  init(
    variables: VariableSet, environment: [String: String], requireEnvironment: Bool, file: String, scope: TargetScope
  ) {
    self.variables = variables
    self.environment = environment
    self.requireEnvironment = requireEnvironment
    self.file = file
    self.scope = scope
  }

  /// Substitutes inside every string scalar; keys are left as written.
  mutating func apply(to node: YAMLNode, path: String) -> YAMLNode {
    switch node.content {
    case .scalar(let text, .string):
      return substitute(text, at: node, path: path)
    case .scalar:
      return node
    case .sequence(let items):
      let resolved = items.enumerated().map { apply(to: $0.element, path: FieldPath.index(path, $0.offset)) }
      return YAMLNode(.sequence(resolved), line: node.line, column: node.column)
    case .mapping(let entries):
      let resolved = entries.map { entry in
        YAMLEntry(key: entry.key, value: apply(to: entry.value, path: FieldPath.child(path, entry.name)))
      }
      return YAMLNode(.mapping(resolved), line: node.line, column: node.column)
    }
  }

  private enum Piece {
    case text(String)
    case reference(String)
  }

  private mutating func substitute(_ text: String, at node: YAMLNode, path: String) -> YAMLNode {
    guard text.contains("${") else { return node }
    guard let pieces = split(text, at: node, path: path) else { return node }
    if pieces.count == 1, case .reference(let reference) = pieces[0] {
      guard let value = resolve(reference, at: node, path: path) else { return node }
      // A lone reference keeps the variable's own type: a list stays a list, 3 stays an integer.
      return YAMLNode(value.content, line: node.line, column: node.column)
    }
    var result = ""
    for piece in pieces {
      switch piece {
      case .text(let literal):
        result += literal
      case .reference(let reference):
        guard let value = resolve(reference, at: node, path: path) else { continue }
        guard let part = value.text else {
          problems.append(
            DefinitionProblem(
              at: node.location(in: file), field: path,
              "'${\(reference)}' is a list and cannot be part of a longer string",
              hint: "use it as the whole value: ${\(reference)}"))
          continue
        }
        result += part
      }
    }
    return YAMLNode(.scalar(text: result, value: .string(result)), line: node.line, column: node.column)
  }

  /// Splits text into literal parts and reference names; `$${` is a literal `${`.
  private mutating func split(_ text: String, at node: YAMLNode, path: String) -> [Piece]? {
    var pieces: [Piece] = []
    var literal = ""
    var rest = Substring(text)
    while !rest.isEmpty {
      if rest.hasPrefix("$${") {
        literal += "${"
        rest = rest.dropFirst(3)
      } else if rest.hasPrefix("${") {
        guard let close = rest.firstIndex(of: "}") else {
          problems.append(
            DefinitionProblem(
              at: node.location(in: file), field: path, "unterminated '${' in '\(text)'",
              hint: "close it with '}', or write '$${' for a literal '${'"))
          return nil
        }
        if !literal.isEmpty { pieces.append(.text(literal)) }
        literal = ""
        pieces.append(.reference(String(rest[rest.index(rest.startIndex, offsetBy: 2)..<close])))
        rest = rest[rest.index(after: close)...]
      } else if let first = rest.first {
        literal.append(first)
        rest = rest.dropFirst()
      }
    }
    if !literal.isEmpty { pieces.append(.text(literal)) }
    return pieces
  }

  private mutating func resolve(_ reference: String, at node: YAMLNode, path: String) -> YAMLNode? {
    let location = node.location(in: file)
    let parts = reference.split(separator: ".", maxSplits: 1).map(String.init)
    guard parts.count == 2, !parts[1].isEmpty else {
      problems.append(
        DefinitionProblem(
          at: location, field: path, "'${\(reference)}' is not a variable reference",
          hint: "write ${vars.NAME}, ${target.NAME} or ${env.NAME}"))
      return nil
    }
    let name = parts[1]
    switch parts[0] {
    case "vars":
      if let value = variables.vars[name] { return value }
      problems.append(
        DefinitionProblem(
          at: location, field: path, "unknown variable 'vars.\(name)'",
          hint: Suggestions.nearest(to: name, in: variables.vars.keys.sorted()).map { "did you mean 'vars.\($0)'?" }
            ?? "define it under vars: in the variables file"))
      return nil
    case "target":
      return resolveTarget(name, reference: reference, location: location, path: path)
    case "env":
      guard let value = environment[name] else {
        problems.append(
          DefinitionProblem(
            requireEnvironment ? .error : .warning, at: location, field: path,
            "environment variable '\(name)' is not set", hint: "export \(name) before running"))
        return YAMLNode(.scalar(text: "", value: .string("")), line: node.line, column: node.column)
      }
      if !value.isEmpty { secrets.insert(value) }
      return YAMLNode(.scalar(text: value, value: .string(value)), line: node.line, column: node.column)
    default:
      problems.append(
        DefinitionProblem(
          at: location, field: path, "unknown variable namespace '\(parts[0])' in '${\(reference)}'",
          hint: Suggestions.nearest(to: parts[0], in: ["vars", "target", "env"]).map { "did you mean '\($0).\(name)'?" }
            ?? "use vars., target. or env."))
      return nil
    }
  }

  private mutating func resolveTarget(_ name: String, reference: String, location: SourceLocation, path: String)
    -> YAMLNode?
  {
    switch scope {
    case .none:
      problems.append(
        DefinitionProblem(
          at: location, field: path, "'${\(reference)}' is only available in a control with for_each",
          hint: "add for_each: targets, or use ${vars.\(name)}"))
      return nil
    case .unresolved:
      return YAMLNode(.scalar(text: "", value: .string("")), line: location.line, column: location.column)
    case .named(let target, let values):
      if name == "name" {
        return YAMLNode(.scalar(text: target, value: .string(target)), line: location.line, column: location.column)
      }
      if let value = values[name] { return value }
      let known = ["name"] + values.keys.sorted()
      problems.append(
        DefinitionProblem(
          at: location, field: path, "unknown variable 'target.\(name)' for target '\(target)'",
          hint: Suggestions.nearest(to: name, in: known).map { "did you mean 'target.\($0)'?" }
            ?? "define \(name) under targets.\(target) in the variables file"))
      return nil
    }
  }
}
