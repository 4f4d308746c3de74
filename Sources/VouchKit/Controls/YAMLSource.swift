import Foundation
import Yams

/// A YAML value with the place it was written, so every problem can point at it.
struct YAMLNode: Sendable {
  /// A scalar as YAML typed it (plain `200` is an integer, `"200"` a string).
  enum Scalar: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case number(Double)
    case boolean(Bool)
    case null
  }

  enum Content: Sendable {
    case scalar(text: String, value: Scalar)
    case sequence([YAMLNode])
    case mapping([YAMLEntry])
  }

  var content: Content
  let line: Int
  let column: Int

  init(_ content: Content, line: Int, column: Int) {
    self.content = content
    self.line = line
    self.column = column
  }

  init(_ node: Node) {
    line = node.mark?.line ?? 1
    column = node.mark?.column ?? 1
    switch node {
    case .scalar(let scalar):
      let text = scalar.string
      let value: Scalar
      switch Tag.Name(rawValue: node.tag.rawValue) {
      case .int: value = node.int.map(Scalar.integer) ?? .string(text)
      case .float: value = node.float.map(Scalar.number) ?? .string(text)
      case .bool: value = node.bool.map(Scalar.boolean) ?? .string(text)
      case .null: value = .null
      default: value = .string(text)
      }
      content = .scalar(text: text, value: value)
    case .sequence(let sequence):
      content = .sequence(sequence.map(YAMLNode.init))
    case .mapping(let mapping):
      content = .mapping(mapping.map { YAMLEntry(key: YAMLNode($0.key), value: YAMLNode($0.value)) })
    case .alias:
      // The composer resolves aliases to their anchored node; an unresolved one carries no value.
      content = .scalar(text: "", value: .null)
    }
  }

  /// The text of a non-null scalar.
  var text: String? {
    if case .scalar(let text, let value) = content, value != .null { return text }
    return nil
  }

  var entries: [YAMLEntry]? {
    if case .mapping(let entries) = content { return entries }
    return nil
  }

  var items: [YAMLNode]? {
    if case .sequence(let items) = content { return items }
    return nil
  }

  /// How the value reads in a message: `a list`, `a map`, or the scalar itself quoted.
  var described: String {
    switch content {
    case .sequence: return "a list"
    case .mapping: return "a map"
    case .scalar(_, .null): return "nothing (null)"
    case .scalar(let text, _): return "'\(text)'"
    }
  }

  func location(in file: String) -> SourceLocation {
    SourceLocation(file: file, line: line, column: column)
  }

  /// The value an expectation compares against.
  var factValue: FactValue {
    switch content {
    case .scalar(_, .string(let text)): return .string(text)
    case .scalar(_, .integer(let value)): return .integer(value)
    case .scalar(_, .number(let value)): return .number(value)
    case .scalar(_, .boolean(let value)): return .boolean(value)
    case .scalar(_, .null): return .null
    case .sequence(let items): return .list(items.map(\.factValue))
    case .mapping(let entries):
      return .map(Dictionary(entries.map { ($0.name, $0.value.factValue) }, uniquingKeysWith: { first, _ in first }))
    }
  }

  /// The field path of the key written at `line`:`column`, used to name duplicate keys found while parsing.
  func pathOfKey(line: Int, column: Int, under path: String = "") -> String? {
    switch content {
    case .scalar: return nil
    case .sequence(let items):
      for (index, item) in items.enumerated() {
        if let found = item.pathOfKey(line: line, column: column, under: "\(path)[\(index)]") { return found }
      }
    case .mapping(let entries):
      for entry in entries {
        let child = FieldPath.child(path, entry.name)
        if entry.key.line == line && entry.key.column == column { return child }
        if let found = entry.value.pathOfKey(line: line, column: column, under: child) { return found }
      }
    }
    return nil
  }
}

/// One `key: value` pair of a mapping, in file order.
struct YAMLEntry: Sendable {
  let key: YAMLNode
  let value: YAMLNode

  /// The key as written; non-scalar keys read as an empty name and are reported as unknown.
  var name: String { key.text ?? "" }
}

/// Builds field paths the way problems print them: `collector.url`, `expect[2].at-least`.
enum FieldPath {
  static func child(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
  static func index(_ path: String, _ index: Int) -> String { "\(path)[\(index)]" }
}

/// A definition or variables file split into documents, with every parse problem located.
struct YAMLSource {
  let documents: [YAMLNode]
  let problems: [DefinitionProblem]

  /// Enough passes to set aside every duplicate key of a realistic file; each pass removes one.
  private static let maximumRepairs = 200

  /// Parses all documents; duplicate keys are reported and the later occurrence set aside so parsing can go on.
  init(text: String, file: String) {
    var text = text
    var problems: [DefinitionProblem] = []
    var duplicates: [(name: String, first: (line: Int, column: Int), second: (line: Int, column: Int))] = []
    var documents: [YAMLNode] = []
    for _ in 0..<Self.maximumRepairs {
      documents = []
      do {
        var sequence = try Yams.compose_all(yaml: text)
        while let node = sequence.next() { documents.append(YAMLNode(node)) }
        if let error = sequence.error { throw error }
        break
      } catch YamlError.duplicatedKeysInMapping(let names, let context) {
        let name = names.first ?? ""
        if let repaired = Self.setAsideDuplicate(of: name, firstAt: context.mark, in: text) {
          duplicates.append((name, (context.mark.line, context.mark.column), repaired.position))
          text = repaired.text
          continue
        }
        problems.append(
          DefinitionProblem(
            at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column), field: "",
            "duplicate key '\(name)' in this map", hint: "keep one; the rest of this file was not checked"))
        break
      } catch let error as YamlError {
        problems.append(Self.problem(from: error, file: file))
        break
      } catch {
        problems.append(DefinitionProblem(at: SourceLocation(file: file, line: 1, column: 1), field: "", "\(error)"))
        break
      }
    }
    for duplicate in duplicates {
      let path = documents.lazy.compactMap {
        $0.pathOfKey(line: duplicate.first.line, column: duplicate.first.column)
      }.first
      problems.append(
        DefinitionProblem(
          at: SourceLocation(file: file, line: duplicate.second.line, column: duplicate.second.column),
          field: path ?? duplicate.name, "duplicate key '\(duplicate.name)'",
          hint: "already set at line \(duplicate.first.line), column \(duplicate.first.column); keep one"))
    }
    // An empty document (a trailing `---`, a file of comments) defines nothing and is not an error.
    self.documents = documents.filter {
      if case .scalar(let text, .null) = $0.content, text.isEmpty { return false }
      return true
    }
    self.problems = problems
  }

  private static func problem(from error: YamlError, file: String) -> DefinitionProblem {
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      return DefinitionProblem(
        at: SourceLocation(file: file, line: mark.line, column: mark.column), field: "", "malformed YAML: \(problem)",
        hint: context.map { "\($0.text) at line \($0.mark.line), column \($0.mark.column)" })
    default:
      return DefinitionProblem(
        at: SourceLocation(file: file, line: 1, column: 1), field: "", "malformed YAML: \(error)")
    }
  }

  /// Blanks the later block-style occurrence of a duplicated key (and its nested lines), keeping line numbers.
  ///
  /// - Returns: `nil` when the duplicate cannot be found textually (flow style), so parsing stops honestly.
  private static func setAsideDuplicate(of name: String, firstAt mark: Mark, in text: String)
    -> (text: String, position: (line: Int, column: Int))?
  {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let indent = mark.column - 1
    let spellings = [name, "\"\(name)\"", "'\(name)'"].map { $0 + ":" }
    var index = mark.line
    while index < lines.count {
      let line = lines[index]
      let trimmed = line.drop { $0 == " " }
      let lineIndent = line.count - trimmed.count
      if trimmed.isEmpty || trimmed.hasPrefix("#") {
        index += 1
        continue
      }
      if lineIndent < indent || trimmed.hasPrefix("---") || trimmed.hasPrefix("...") { return nil }
      if lineIndent == indent,
        spellings.contains(where: { trimmed == $0 || trimmed.hasPrefix($0 + " ") })
      {
        lines[index] = ""
        var next = index + 1
        while next < lines.count {
          let nested = lines[next].drop { $0 == " " }
          let nestedIndent = lines[next].count - nested.count
          // A block sequence may sit at its key's own indentation.
          let sequenceItem = nestedIndent == indent && nested.hasPrefix("-") && !nested.hasPrefix("---")
          guard nested.isEmpty || nestedIndent > indent || sequenceItem else { break }
          lines[next] = ""
          next += 1
        }
        return (lines.joined(separator: "\n"), (index + 1, mark.column))
      }
      index += 1
    }
    return nil
  }
}
