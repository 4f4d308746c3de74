import ArgumentParser
import Foundation
import Logging
import VouchKit

struct Run: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Collect evidence for every control, seal a bundle and write the reports (HTML, XML, JUnit, OSCAL).",
    discussion: """
      Meant for cron, a systemd timer or a Kubernetes CronJob. Refuses to start on invalid definitions (exit 3) \
      or while another run holds the evidence folder (exit 4). Otherwise exits 0 when every control that ran \
      passed, 1 when one failed, 2 when one could not collect its evidence.
      """
  )

  @Option(help: "The controls folder.")
  var controls: String = "controls"

  @Option(name: .customLong("vars"), help: "Variables file (vars: and targets:).")
  var variables: String?

  @Option(help: "Where bundles are sealed and chained.")
  var evidence: String = "evidence"

  @Option(help: "Where the HTML and XML reports go.")
  var reports: String = "reports"

  @Option(help: "Controls collected at the same time.")
  var concurrency: Int = 16

  @Option(help: "Seconds a collector may take before its control is an error.")
  var timeout: Double = 120

  @Option(
    help: "Comma-separated control ids to run (an id also selects its for_each expansions; `prefix*` works).",
    transform: Run.list)
  var only: [String] = []

  @Option(help: "Comma-separated criteria to run (`CC7.1`, or `CC7` for the series).", transform: Run.list)
  var criteria: [String] = []

  @Option(help: "Ed25519 private key (PEM, from `vouch keygen`) to sign the bundle with; default: $VOUCH_SIGN_KEY.")
  var signKey: String?

  @Option(help: "Folder of waiver files (default: waivers, when it exists).")
  var waivers: String?

  @Option(
    help: "Comma-separated statuses that make the run exit non-zero (fail, error, stale, waived, skipped, not-applicable).",
    transform: Run.statuses)
  var failOn: Set<ControlStatus> = VouchExitCode.defaultFailOn

  static func statuses(_ text: String) throws -> Set<ControlStatus> {
    try Set(
      list(text).map { name in
        guard let status = ControlStatus(rawValue: name) else {
          let known = ControlStatus.allCases.map(\.rawValue).joined(separator: ", ")
          throw ValidationError("unknown status '\(name)' in --fail-on; known: \(known)")
        }
        return status
      })
  }

  static func list(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
  }

  func validate() throws {
    guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
    guard timeout > 0 else { throw ValidationError("--timeout must be more than 0 seconds") }
  }

  func run() async throws {
    let environment = RunEnvironment.live()
    let logger = Logger(label: "vouch")
    var catalog: ControlCatalog
    do {
      catalog = try ControlLoader(environment: environment.variables).load(
        directory: URL(fileURLWithPath: controls), variables: variables.map { URL(fileURLWithPath: $0) })
    } catch {
      printError(error.description)
      printError("vouch run: nothing ran; fix the definitions above (`vouch validate` lists the same problems)")
      throw ExitCode(VouchExitCode.invalidInput.rawValue)
    }
    for warning in catalog.warnings { printError(warning.description) }
    let waiverList: [Waiver]
    let waiverFolder = WaiverLoader.folder(waivers)
    do {
      let loaded = try waiverFolder.map { folder throws(DefinitionErrors) in
        try WaiverLoader(controlIDs: catalog.controls.map(\.id)).load(directory: URL(fileURLWithPath: folder))
      }
      waiverList = loaded?.waivers ?? []
      catalog = ControlCatalog(
        controls: catalog.controls, files: catalog.files + (loaded?.files ?? []), warnings: catalog.warnings)
    } catch {
      printError(error.description)
      printError("vouch run: nothing ran; fix the waivers above")
      throw ExitCode(VouchExitCode.invalidInput.rawValue)
    }
    let signingKey: BundleSigningKey?
    do {
      signingKey = try BundleKeys.signingKey(path: signKey, environment: environment.variables)
    } catch {
      printError("vouch run: \(error)")
      throw ExitCode(VouchExitCode.invalidInput.rawValue)
    }

    let progress: any RunProgress = TerminalProgress.isTerminal ? TerminalProgress() : LogProgress(logger: logger)
    let runner = Runner(environment: environment, logger: logger, progress: progress)
    let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    let options = RunOptions(
      evidenceDirectory: URL(fileURLWithPath: evidence), concurrency: concurrency, timeout: timeout, only: only,
      criteria: criteria, controlsDirectory: controls, variablesFile: variables, baseDirectory: cwd,
      signingKey: signingKey, waivers: waiverList)
    let outcome: RunOutcome
    do {
      outcome = try await runner.run(catalog, options: options)
    } catch {
      printError("vouch run: \(error)")
      throw ExitCode(VouchExitCode.environment.rawValue)
    }
    let written: WrittenReports
    do {
      written = try ReportWriter(clock: environment.clock).write(
        outcome.record, to: URL(fileURLWithPath: reports), bundle: outcome.bundle)
    } catch {
      printError("vouch run: bundle \(outcome.bundle.path) is sealed, but the reports could not be written: \(error)")
      throw ExitCode(VouchExitCode.environment.rawValue)
    }
    let counts = outcome.record.counts
    print("bundle: \(outcome.bundle.path)")
    if let fingerprint = outcome.record.signerFingerprint { print("signed by: \(fingerprint)") }
    for report in written.reports { print("report: \(report.path)") }
    let summary = ControlStatus.allCases.filter { counts[$0] > 0 || [.pass, .fail, .error, .skipped].contains($0) }
    print("controls: " + summary.map { "\(counts[$0]) \($0.rawValue)" }.joined(separator: ", "))
    let code = VouchExitCode.forRun(counts, failOn: failOn)
    if code != .success { throw ExitCode(code.rawValue) }
  }
}
