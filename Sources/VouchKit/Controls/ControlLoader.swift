import Foundation

/// Reads control definitions from YAML, substitutes variables and validates everything a run depends on.
///
/// Validation happens before any collector runs so that a typo never costs a half-finished evidence run, and
/// it reports every problem at once so a definition file is fixed in one pass.
public struct ControlLoader: Sendable {
  private let collectors: [any Collector.Type]
  private let environment: [String: String]
  private let requireEnvironment: Bool

  /// - Parameters:
  ///   - collectors: the collectors `collector.kind` may name; tests pass their own.
  ///   - environment: what `${env.NAME}` reads, injected so loading never depends on the real process.
  ///   - requireEnvironment: `false` (for `vouch validate`) turns a missing environment variable into a warning.
  public init(
    collectors: [any Collector.Type] = CollectorRegistry.builtIn, environment: [String: String],
    requireEnvironment: Bool = true
  ) {
    self.collectors = collectors
    self.environment = environment
    self.requireEnvironment = requireEnvironment
  }

  /// Loads every `*.yaml`/`*.yml` file under `directory` (recursively, hidden files ignored).
  ///
  /// - Parameter variables: an optional file with `vars:` and `targets:`.
  /// - Throws: `DefinitionErrors` with every problem, warnings included, when any problem is an error.
  public func load(directory: URL, variables: URL?) throws(DefinitionErrors) -> ControlCatalog {
    let paths = DisplayPath(currentDirectory: FileManager.default.currentDirectoryPath)
    var problems: [DefinitionProblem] = []
    var files: [DefinitionFile] = []

    var variableSet = VariableSet()
    if let variables, let source = Self.read(variables, paths: paths, files: &files, problems: &problems) {
      let file = paths.display(variables)
      let parsed = YAMLSource(text: source.text, file: file)
      problems += parsed.problems
      if parsed.documents.count > 1 {
        problems.append(
          DefinitionProblem(
            at: parsed.documents[1].location(in: file), field: "", "a variables file holds a single document",
            hint: "merge the documents into one"))
      }
      variableSet = VariableSet(document: parsed.documents.first, file: file, problems: &problems)
    }

    var built: [BuiltControl] = []
    for url in Self.definitionFiles(in: directory, paths: paths, problems: &problems) {
      guard let source = Self.read(url, paths: paths, files: &files, problems: &problems) else { continue }
      let file = paths.display(url)
      let parsed = YAMLSource(text: source.text, file: file)
      problems += parsed.problems
      let builder = ControlBuilder(
        collectors: collectors, variables: variableSet, environment: environment,
        requireEnvironment: requireEnvironment, file: file, digest: source.digest)
      for document in parsed.documents {
        built += builder.build(document, problems: &problems)
      }
    }

    var firstByID: [String: SourceLocation] = [:]
    for control in built {
      let id = control.definition.id
      if let first = firstByID[id] {
        problems.append(
          DefinitionProblem(
            at: control.idLocation, field: "id", "duplicate id '\(id)', first defined at \(first)",
            hint: "ids must be unique across all definition files"))
      } else {
        firstByID[id] = control.idLocation
      }
    }

    problems = Self.ordered(problems)
    guard !problems.contains(where: { $0.level == .error }) else { throw DefinitionErrors(problems) }
    return ControlCatalog(
      controls: built.map(\.definition).sorted { $0.id < $1.id }, files: files, warnings: problems)
  }

  /// Groups problems by file (in the order files were read) and sorts each file's problems by position.
  static func ordered(_ problems: [DefinitionProblem]) -> [DefinitionProblem] {
    var fileOrder: [String: Int] = [:]
    for problem in problems where fileOrder[problem.location.file] == nil {
      fileOrder[problem.location.file] = fileOrder.count
    }
    return problems.enumerated().sorted { lhs, rhs in
      let left = (fileOrder[lhs.element.location.file] ?? 0, lhs.element.location.line, lhs.element.location.column)
      let right = (fileOrder[rhs.element.location.file] ?? 0, rhs.element.location.line, rhs.element.location.column)
      return left != right ? left < right : lhs.offset < rhs.offset
    }.map(\.element)
  }

  static func read(_ url: URL, paths: DisplayPath, files: inout [DefinitionFile], problems: inout [DefinitionProblem])
    -> (text: String, digest: String)?
  {
    let file = paths.display(url)
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      problems.append(
        DefinitionProblem(
          at: SourceLocation(file: file, line: 1, column: 1), field: "",
          "cannot read file: \(error.localizedDescription)"))
      return nil
    }
    let digest = Digest.sha256(data)
    files.append(DefinitionFile(path: file, sha256: digest))
    guard let text = String(data: data, encoding: .utf8) else {
      problems.append(
        DefinitionProblem(at: SourceLocation(file: file, line: 1, column: 1), field: "", "file is not valid UTF-8"))
      return nil
    }
    return (text, digest)
  }

  /// Every definition file under `directory`, sorted by path so loading order never depends on the file system.
  static func definitionFiles(
    in directory: URL, paths: DisplayPath, problems: inout [DefinitionProblem], folderName: String = "controls",
    requireFiles: Bool = true
  ) -> [URL] {
    let location = SourceLocation(file: paths.display(directory), line: 1, column: 1)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
    else {
      problems.append(
        DefinitionProblem(
          at: location, field: "", "\(folderName) directory not found", hint: "pass the folder holding *.yaml"))
      return []
    }
    var found: [URL] = []
    var pending = [directory.standardizedFileURL]
    while let folder = pending.popLast() {
      let children: [URL]
      do {
        children = try FileManager.default.contentsOfDirectory(
          at: folder, includingPropertiesForKeys: [.isDirectoryKey], options: [.skipsHiddenFiles])
      } catch {
        problems.append(
          DefinitionProblem(
            at: SourceLocation(file: paths.display(folder), line: 1, column: 1), field: "",
            "cannot read directory: \(error.localizedDescription)"))
        continue
      }
      for child in children where !child.lastPathComponent.hasPrefix(".") {
        if (try? child.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true {
          pending.append(child)
        } else if ["yaml", "yml"].contains(child.pathExtension.lowercased()) {
          found.append(child)
        }
      }
    }
    if found.isEmpty && requireFiles {
      problems.append(
        DefinitionProblem(
          at: location, field: "", "no control definitions found", hint: "add *.yaml or *.yml files to this folder"))
    }
    return found.sorted { $0.path < $1.path }
  }
}

/// How files appear in problems and `run.json`: relative to the current directory when under it, else absolute.
struct DisplayPath {
  let currentDirectory: String

  func display(_ url: URL) -> String {
    let path = url.standardizedFileURL.path
    let base = currentDirectory.hasSuffix("/") ? currentDirectory : currentDirectory + "/"
    return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
  }
}
