import ArgumentParser
import Foundation
import VouchKit

struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Recompute every digest of a bundle or an evidence folder and check the hash chain.",
    discussion: "Exits 0 when everything is intact, 1 when any file or link is wrong, 4 when the path is unusable."
  )

  @Argument(help: "A bundle folder or an evidence folder.")
  var path: String = "evidence"

  @Option(help: "Public key (PEM) every bundle must be signed with.")
  var key: String?

  @Option(help: "First UTC day to check (YYYY-MM-DD).", transform: Verify.day)
  var from: Date?

  @Option(help: "Last UTC day to check (YYYY-MM-DD).", transform: Verify.day)
  var to: Date?

  static func day(_ text: String) throws -> Date {
    guard let date = Timestamp.parse(text + "T00:00:00Z") else {
      throw ValidationError("'\(text)' is not a date such as 2026-11-29")
    }
    return date
  }

  func run() throws {
    let report: VerificationReport
    do {
      let publicKey = try key.map { path throws(KeyError) in try BundleKeys.loadPublicKey(URL(fileURLWithPath: path)) }
      report = try Verifier().verify(URL(fileURLWithPath: path), key: publicKey, from: from, to: to)
    } catch {
      printError("vouch verify: \(error)")
      throw ExitCode(VouchExitCode.environment.rawValue)
    }
    for problem in report.problems { print(problem) }
    for day in report.daysWithoutBundle { print("note: no bundle sealed on \(day)") }
    let signers = Set(report.signedBy.values).sorted()
    if !signers.isEmpty {
      print("\(report.signedBy.count) of \(report.bundles.count) bundle(s) signed by \(signers.joined(separator: ", "))")
    }
    let summary =
      "\(report.bundles.count) bundle(s), \(report.filesChecked) file(s), \(report.bytesChecked) bytes checked: "
      + (report.isIntact ? "intact" : "\(report.problems.count) problem(s)")
    print(summary)
    if !report.isIntact { throw ExitCode(VouchExitCode.failures.rawValue) }
  }
}
