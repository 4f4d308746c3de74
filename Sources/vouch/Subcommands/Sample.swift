import ArgumentParser
import Foundation
import VouchKit

struct Sample: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sample",
    abstract: "Copy the bundles of dates an auditor sampled, with a verification transcript, into one folder.",
    discussion: "Exits 0 when every sampled bundle verifies, 1 when one does not (the sample is written either way)."
  )

  @Option(help: "Comma-separated UTC dates (YYYY-MM-DD).", transform: Run.list)
  var dates: [String]

  @Option(help: "The evidence folder.")
  var evidence: String = "evidence"

  @Option(help: "A new folder to write the sample into.")
  var out: String

  @Option(help: "Public key (PEM) the sampled bundles must be signed with.")
  var key: String?

  func validate() throws {
    for date in dates where Timestamp.parse(date + "T00:00:00Z") == nil {
      throw ValidationError("'\(date)' is not a date such as 2026-11-29")
    }
  }

  func run() throws {
    let result: SampleResult
    do {
      let publicKey = try key.map { path throws(KeyError) in try BundleKeys.loadPublicKey(URL(fileURLWithPath: path)) }
      let sampler = Sampler(store: BundleStore(directory: URL(fileURLWithPath: evidence)), clock: SystemClock())
      result = try sampler.sample(dates: dates, into: URL(fileURLWithPath: out), key: publicKey)
    } catch {
      printError("vouch sample: \(error)")
      throw ExitCode(VouchExitCode.environment.rawValue)
    }
    print("sampled \(result.bundles.count) bundle(s) into \(result.folder.path) (see verification.txt)")
    for problem in result.verification.problems { print(problem) }
    if !result.verification.isIntact { throw ExitCode(VouchExitCode.failures.rawValue) }
  }
}
