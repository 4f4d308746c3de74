import Foundation
import Testing

@testable import VouchKit

/// A test-only collector covering every parameter type the loader converts and fact types of each shape.
struct ProbeCollector: Collector {
  static let kind = "probe"
  static let summary = "Test collector that checks an HTTPS endpoint."
  static let parameters = [
    ParameterSpec("url", .string, required: true, "HTTPS address to probe"),
    ParameterSpec("retries", .integer, default: "0", "extra attempts"),
    ParameterSpec("timeout", .duration, default: "30s", "give up after"),
    ParameterSpec("headers", .stringMap, "request headers"),
    ParameterSpec("contacts", .stringList, "who to tell"),
    ParameterSpec("since", .date, "ignore results before"),
    ParameterSpec("weight", .number, "relative importance"),
  ]
  static let facts = [
    FactSpec("status", .integer, "HTTP status"),
    FactSpec("body", .string, "response body"),
    FactSpec("healthy", .boolean, "status was 2xx"),
    FactSpec("headers", .stringMap, "response headers"),
    FactSpec("tags", .stringList, "labels on the response"),
    FactSpec("checked", .timestamp, "when the probe ran"),
  ]

  let parameters: Parameters

  init(parameters: Parameters) throws(ParameterError) {
    let url = try parameters.requiredString("url")
    guard url.hasPrefix("https://") else { throw ParameterError("url", "must start with https://, got '\(url)'") }
    self.parameters = parameters
  }

  func collect(_ context: CollectionContext) async throws -> CollectorOutput { CollectorOutput() }
}

/// A second kind, so "known kinds" lists more than one.
struct StampCollector: Collector {
  static let kind = "stamp"
  static let summary = "Test collector without parameters."
  static let parameters: [ParameterSpec] = []
  static let facts = [FactSpec("now", .timestamp, "the time")]

  init(parameters: Parameters) throws(ParameterError) {}

  func collect(_ context: CollectionContext) async throws -> CollectorOutput { CollectorOutput() }
}

enum ControlFixtures {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/definitions")

  static func loader(environment: [String: String] = [:], requireEnvironment: Bool = true) -> ControlLoader {
    ControlLoader(
      collectors: [ProbeCollector.self, StampCollector.self], environment: environment,
      requireEnvironment: requireEnvironment)
  }

  /// How the loader prints `url`, so expectations can be written relative to a scenario folder.
  static func displayed(_ url: URL) -> String {
    DisplayPath(currentDirectory: FileManager.default.currentDirectoryPath).display(url)
  }

  /// Loads a bad scenario and returns every rendered problem with the scenario folder's path removed.
  static func problems(
    _ scenario: String, controls: String? = nil, variables: String? = nil, environment: [String: String] = [:]
  ) -> [String] {
    let folder = root.appendingPathComponent("bad/\(scenario)")
    let directory = controls.map { folder.appendingPathComponent($0) } ?? folder
    do {
      let catalog = try loader(environment: environment).load(
        directory: directory, variables: variables.map { folder.appendingPathComponent($0) })
      Issue.record("expected problems, loaded \(catalog.controls.map(\.id))")
      return []
    } catch {
      let prefix = displayed(folder) + "/"
      return error.problems.map { $0.description.replacingOccurrences(of: prefix, with: "") }
    }
  }
}
