import Foundation
import Logging

@testable import VouchKit

/// A test-only collector whose behaviour the test chooses: publish facts after a delay, throw, or hang.
struct ScriptedCollector: Collector {
  static let kind = "scripted"
  static let summary = "test collector"
  static let parameters: [ParameterSpec] = [
    ParameterSpec("behaviour", .string, required: true, "facts, throw, hang, hang-uncancellable"),
    ParameterSpec("delay_ms", .integer, "delay before answering"),
    ParameterSpec("value", .string, "value of the `value` fact and of the artifact"),
    ParameterSpec("evidence_date", .date, "when the evidence dates from, for staleness"),
  ]
  static let facts: [FactSpec] = [
    FactSpec("value", .string, "the configured value", evidence: ["value.txt"]),
    FactSpec("count", .integer, "always 3"),
  ]

  let behaviour: String
  let delay: Int
  let value: String
  let evidenceDate: Date?

  init(parameters: Parameters) throws(ParameterError) {
    behaviour = try parameters.requiredString("behaviour")
    delay = parameters.integer("delay_ms") ?? 0
    value = parameters.string("value") ?? ""
    evidenceDate = parameters.date("evidence_date")
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  func collect(_ context: CollectionContext) async throws -> CollectorOutput {
    if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
    switch behaviour {
    case "throw":
      throw Failure(description: "scripted failure for \(context.controlID)")
    case "hang":
      try await Task.sleep(for: .seconds(3600))
    case "hang-uncancellable":
      // Ignores cancellation for a minute, like a collector stuck in a blocking call; the blocking happens on its
      // own thread so the test process's cooperative pool stays free.
      await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        Thread {
          sleep(60)
          done.resume()
        }.start()
      }
    default:
      break
    }
    let record = try context.artifacts.write(
      "value.txt", data: Data(value.utf8), mediaType: "text/plain", summary: "the value")
    return CollectorOutput(
      facts: ["value": .string(value), "count": .integer(3)], evidence: ["value": [record.path]],
      evidenceDate: evidenceDate)
  }
}

/// Builds controls without YAML, for runner and bundle tests.
enum TestControls {
  static func scripted(
    _ id: String, behaviour: String = "facts", delayMilliseconds: Int = 0, value: String = "ok",
    expect: [Expectation] = [], criteria: [String] = ["CC7.1"], enabled: Bool = true, secrets: Set<String> = [],
    evidenceDate: Date? = nil, frequency: String = "daily", notApplicable: String? = nil
  ) throws -> ControlDefinition {
    var values: [String: ParameterValue] = [
      "behaviour": .string(behaviour), "delay_ms": .integer(delayMilliseconds), "value": .string(value),
    ]
    if let evidenceDate { values["evidence_date"] = .date(evidenceDate) }
    let parameters = Parameters(values)
    return ControlDefinition(
      id: id, title: "Title of \(id)", description: "Description of \(id)", criteria: criteria, owner: "security",
      severity: .high, frequency: Frequency(frequency)!, enabled: enabled, target: nil,
      collector: CollectorInvocation(
        kind: ScriptedCollector.kind, parameters: parameters, collector: try ScriptedCollector(parameters: parameters)),
      expectations: expect, source: SourceLocation(file: "controls/test.yaml", line: 1, column: 1),
      sourceDigest: String(repeating: "a", count: 64), secrets: secrets, notApplicable: notApplicable)
  }

  static func catalog(_ controls: [ControlDefinition]) -> ControlCatalog {
    ControlCatalog(
      controls: controls.sorted { $0.id < $1.id },
      files: [DefinitionFile(path: "controls/test.yaml", sha256: String(repeating: "a", count: 64))], warnings: [])
  }
}

/// A runner with an injected clock and run id.
func makeRunner(at instant: String = "2026-11-29T06:00:00Z", runID: String = "0000beef") -> Runner {
  let environment = RunEnvironment(
    clock: FixedClock(Timestamp.parse(instant)!), variables: [:], hostname: "test-host", toolVersion: "0.0.0-test",
    makeRunID: { runID })
  return Runner(environment: environment, logger: Logger(label: "test"))
}

func runOptions(_ evidence: URL, concurrency: Int = 4, timeout: Double = 10, only: [String] = [], criteria: [String] = [])
  -> RunOptions
{
  RunOptions(
    evidenceDirectory: evidence, concurrency: concurrency, timeout: timeout, only: only, criteria: criteria,
    controlsDirectory: "controls", variablesFile: nil, baseDirectory: evidence)
}
