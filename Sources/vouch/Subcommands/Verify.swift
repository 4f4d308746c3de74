import ArgumentParser
import Foundation
import VouchKit

struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Recompute every digest of a bundle or an evidence folder and check the hash chain.",
    discussion: "Exits 0 when everything is intact, 1 when any file or link is wrong, 4 when the path is unusable."
  )

  @Argument(help: "A bundle folder or an evidence folder.")
  var path: String = "evidence"

  func run() throws {
    let report: VerificationReport
    do {
      report = try Verifier().verify(URL(fileURLWithPath: path))
    } catch {
      printError("vouch verify: \(error)")
      throw ExitCode(VouchExitCode.environment.rawValue)
    }
    for problem in report.problems { print(problem) }
    let summary =
      "\(report.bundles.count) bundle(s), \(report.filesChecked) file(s), \(report.bytesChecked) bytes checked: "
      + (report.isIntact ? "intact" : "\(report.problems.count) problem(s)")
    print(summary)
    if !report.isIntact { throw ExitCode(VouchExitCode.failures.rawValue) }
  }
}
