import Foundation
import Logging
import VouchKit

// Benchmarks of the audit layer, printing figures for BENCHMARKS.md:
//   vouch-bench FOLDER [NIGHTS] [CONTROLS]
// builds NIGHTS synthetic nightly bundles of CONTROLS `file` controls each with the real runner and an injected
// clock (once; reused when FOLDER already holds them), then times `verify` over all of them, the period report over
// the whole span, and SHA-256 throughput next to `sha256sum` on the same files.

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
  FileHandle.standardError.write(Data("usage: vouch-bench FOLDER [NIGHTS] [CONTROLS]\n".utf8))
  exit(3)
}
let folder = URL(fileURLWithPath: arguments[1])
let nights = arguments.count > 2 ? Int(arguments[2]) ?? 365 : 365
let perNight = arguments.count > 3 ? Int(arguments[3]) ?? 50 : 50
let evidence = folder.appendingPathComponent("evidence")
guard let start = Timestamp.parse("2025-12-01T00:00:00Z"), let yearly = Frequency("yearly") else {
  fatalError("the benchmark's fixed start date and frequency must parse")
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
  let began = DispatchTime.now().uptimeNanoseconds
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
}

func makeHistory() async throws {
  let documents = folder.appendingPathComponent("documents")
  try FileManager.default.createDirectory(at: documents, withIntermediateDirectories: true)
  var controls: [ControlDefinition] = []
  for index in 0..<perNight {
    let document = documents.appendingPathComponent("document-\(index).txt")
    try Data(String(repeating: "evidence line \(index)\n", count: 120).utf8).write(to: document)
    let parameters = Parameters([
      "path": .string(document.path), "attested_by": .string("owner \(index)"),
      "reviewed_at": .date(start), "media_type": .string("text/plain"),
    ])
    controls.append(
      ControlDefinition(
        id: String(format: "control-%03d", index), title: "Control \(index)", description: "Synthetic control",
        criteria: ["CC\(index % 9 + 1).\(index % 5 + 1)"], owner: "owner \(index % 7)", severity: .medium,
        frequency: yearly, enabled: true, target: nil,
        collector: CollectorInvocation(
          kind: FileCollector.kind, parameters: parameters, collector: try FileCollector(parameters: parameters)),
        expectations: [Expectation(fact: "size", op: .atLeast, operand: .integer(1))],
        source: SourceLocation(file: "controls/bench.yaml", line: 1, column: 1), sourceDigest: Digest.sha256("bench"),
        secrets: []))
  }
  let catalog = ControlCatalog(controls: controls, files: [], warnings: [])
  var logger = Logger(label: "bench")
  logger.logLevel = .error
  for night in 0..<nights {
    let environment = RunEnvironment(
      clock: FixedClock(start.addingTimeInterval(Double(night) * 86_400 + 7_200)), variables: [:], hostname: "bench",
      makeRunID: { String(format: "%08x", night) })
    let options = RunOptions(
      evidenceDirectory: evidence, concurrency: 8, timeout: 60, controlsDirectory: "controls", variablesFile: nil,
      baseDirectory: folder)
    _ = try await Runner(environment: environment, logger: logger).run(catalog, options: options)
  }
}

let existing = (try? BundleStore(directory: evidence).bundles().count) ?? 0
if existing != nights {
  try? FileManager.default.removeItem(at: folder)
  let made = try await { () async throws -> Double in
    let began = DispatchTime.now().uptimeNanoseconds
    try await makeHistory()
    return Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
  }()
  print(String(format: "generated %d nightly bundles of %d controls in %.1f s", nights, perNight, made))
}

var verification: VerificationReport?
let verifyTime = try seconds { verification = try Verifier().verify(evidence) }
guard let verification, verification.isIntact else {
  print("verification failed: \(verification?.problems.prefix(3).map(\.description) ?? [])")
  exit(1)
}
let periodTime = try seconds {
  _ = try PeriodReport(clock: SystemClock()).write(
    evidence: evidence, reports: folder.appendingPathComponent("reports"), from: start,
    to: start.addingTimeInterval(Double(nights - 1) * 86_400), criteria: [], key: nil)
}

// Hashing throughput over every evidence file, against sha256sum reading the same list.
let files = try FileManager.default.subpathsOfDirectory(atPath: evidence.path).map { evidence.appendingPathComponent($0) }
  .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
let list = folder.appendingPathComponent("files.txt")
try Data(files.map(\.path).joined(separator: "\n").utf8).write(to: list)
var bytes = 0
let oursTime = try seconds {
  for file in files { bytes += try Digest.sha256(fileAt: file).size }
}
let theirsTime = try seconds {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/bin/sh")
  process.arguments = ["-c", "xargs -a '\(list.path)' -d '\\n' sha256sum > /dev/null"]
  try process.run()
  process.waitUntilExit()
}
let megabytes = Double(bytes) / 1_048_576
print(
  String(
    format: "%d bundles, %d files, %.1f MiB, %d cores", verification.bundles.count, verification.filesChecked,
    megabytes, ProcessInfo.processInfo.activeProcessorCount))
print(String(format: "verify (digests, chain, manifest digests):  %6.2f s   (target <= 2 s)", verifyTime))
print(String(format: "period report over %d nights (HTML, XML):  %6.2f s   (target <= 2 s)", nights, periodTime))
print(
  String(
    format: "SHA-256 of every file: vouch %.0f MiB/s, sha256sum %.0f MiB/s, ratio %.2f (target >= 0.8)",
    megabytes / oursTime, megabytes / theirsTime, theirsTime / oursTime))
