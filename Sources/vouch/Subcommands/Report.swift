import ArgumentParser
import Foundation
import VouchKit

struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Verify the bundles of a period and write the SOC 2 Type 2 period report (HTML and XML).",
    discussion: """
      For each control: a day-by-day calendar, pass rate, every exception with its date, finding and bundle, and \
      the nights with no run; a roll-up by criterion; the waivers. Exits 0 when every bundle verified, 1 when \
      verification found problems (the report says which), 4 when the folders cannot be used.
      """
  )

  @Option(help: "First UTC day of the period (YYYY-MM-DD).", transform: Verify.day)
  var from: Date

  @Option(help: "Last UTC day of the period (YYYY-MM-DD).", transform: Verify.day)
  var to: Date

  @Option(help: "Comma-separated criteria to report on (`CC7.1`, or `CC7` for the series).", transform: Run.list)
  var criteria: [String] = []

  @Option(help: "The evidence folder.")
  var evidence: String = "evidence"

  @Option(help: "Where the period report folder goes.")
  var reports: String = "reports"

  @Option(help: "Public key (PEM) every bundle must be signed with.")
  var key: String?

  func validate() throws {
    guard from <= to else { throw ValidationError("--from must not be after --to") }
  }

  func run() throws {
    let summary: PeriodSummary
    let files: [URL]
    do {
      let publicKey = try key.map { path throws(KeyError) in try BundleKeys.loadPublicKey(URL(fileURLWithPath: path)) }
      (summary, files) = try PeriodReport(clock: SystemClock()).write(
        evidence: URL(fileURLWithPath: evidence), reports: URL(fileURLWithPath: reports), from: from, to: to,
        criteria: criteria, key: publicKey)
    } catch {
      printError("vouch report: \(error)")
      throw ExitCode(VouchExitCode.environment.rawValue)
    }
    for file in files { print("report: \(file.path)") }
    print("\(summary.bundles.count) bundle(s), \(summary.controls.count) control(s), \(summary.daysWithoutRun.count) night(s) without a run")
    for problem in summary.verificationProblems { print(problem) }
    if !summary.verificationProblems.isEmpty { throw ExitCode(VouchExitCode.failures.rawValue) }
  }
}
