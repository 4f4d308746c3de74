import ArgumentParser
import Foundation
import VouchKit

struct Prune: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "prune",
    abstract: "Remove bundles older than a retention period, keeping the chain verifiable.",
    discussion: """
      Writes evidence/pruned/<UTC stamp>.json listing every removed bundle with its manifest SHA-256 (signed with \
      --sign-key or VOUCH_SIGN_KEY), so `vouch verify` still accepts the oldest kept bundle's link. Refuses when \
      the bundles to remove do not verify. The newest bundle is always kept.
      """
  )

  @Option(help: "Keep bundles sealed within this many days.")
  var keep: Int

  @Option(help: "The evidence folder.")
  var evidence: String = "evidence"

  @Option(help: "Ed25519 private key (PEM) to sign the prune record with; default: $VOUCH_SIGN_KEY.")
  var signKey: String?

  func validate() throws {
    guard keep >= 1 else { throw ValidationError("--keep must be at least 1 day") }
  }

  func run() throws {
    let environment = RunEnvironment.live()
    do {
      let signingKey = try BundleKeys.signingKey(path: signKey, environment: environment.variables)
      let pruner = Pruner(store: BundleStore(directory: URL(fileURLWithPath: evidence)), clock: environment.clock)
      let holder = "vouch prune, pid \(ProcessInfo.processInfo.processIdentifier) on \(environment.hostname)"
      guard let record = try pruner.prune(keepDays: keep, signingKey: signingKey, holder: holder) else {
        print("nothing older than \(keep) day(s) to prune")
        return
      }
      print("pruned \(record.bundles.count) bundle(s), \(record.bundles.first?.bundle ?? "") … \(record.bundles.last?.bundle ?? "")")
      print("oldest kept: \(record.firstKept); record: \(evidence)/\(PruneRecord.folder)/\(Timestamp.compact(record.prunedAt)).json")
    } catch let error as KeyError {
      printError("vouch prune: \(error)")
      throw ExitCode(VouchExitCode.invalidInput.rawValue)
    } catch {
      printError("vouch prune: \(error)")
      throw ExitCode(VouchExitCode.environment.rawValue)
    }
  }
}
