import Foundation
import Testing

@testable import VouchKit

@Suite struct BundleTests {
  func sealedRun(in evidence: URL, at instant: String = "2026-11-29T06:00:00Z", runID: String = "0000beef")
    async throws -> RunOutcome
  {
    let catalog = TestControls.catalog([
      try TestControls.scripted("alpha", value: "one"), try TestControls.scripted("beta", value: "two"),
    ])
    return try await makeRunner(at: instant, runID: runID).run(catalog, options: runOptions(evidence))
  }

  @Test func sealedBundleHoldsRunResultsManifestAndVerifies() async throws {
    let temp = try TestScratch.makeDirectory("bundle")
    let outcome = try await sealedRun(in: temp)
    #expect(outcome.bundle.lastPathComponent == "20261129T060000Z-0000beef")
    let files = try BundleFiles.list(outcome.bundle)
    #expect(
      files == [
        "controls/alpha/value.txt", "controls/beta/value.txt", "manifest.json", "manifest.sha256", "results.json",
        "run.json",
      ])
    let report = try Verifier().verify(outcome.bundle)
    #expect(report.isIntact, "\(report.problems)")
    #expect(report.filesChecked == 4)
    let manifest = try BundleStore(directory: temp).loadManifest(outcome.bundle)
    #expect(manifest.previous == nil)
    let digestLine = try String(contentsOf: outcome.bundle.appendingPathComponent("manifest.sha256"), encoding: .utf8)
    #expect(digestLine == "\(outcome.record.manifestDigest!)  manifest.json\n")
    let reloaded = try BundleStore(directory: temp).loadRecord(outcome.bundle)
    #expect(reloaded == outcome.record)
  }

  @Test func changedAddedAndRemovedFilesAreNamed() async throws {
    let temp = try TestScratch.makeDirectory("bundle")
    let bundle = try await sealedRun(in: temp).bundle
    let value = bundle.appendingPathComponent("controls/alpha/value.txt")
    try Data("onf".utf8).write(to: value)
    try Data("x".utf8).write(to: bundle.appendingPathComponent("controls/beta/extra.txt"))
    try FileManager.default.removeItem(at: bundle.appendingPathComponent("results.json"))
    let problems = try Verifier().verify(temp).problems.map(\.description)
    #expect(problems.count == 3)
    #expect(problems.contains { $0.hasPrefix("20261129T060000Z-0000beef/controls/alpha/value.txt: changed: SHA-256 ") })
    #expect(problems.contains("20261129T060000Z-0000beef/controls/beta/extra.txt: extra: file is not listed in the manifest"))
    #expect(problems.contains("20261129T060000Z-0000beef/results.json: missing: listed in the manifest but absent"))
  }

  @Test func editedManifestIsCaughtByItsDigestFile() async throws {
    let temp = try TestScratch.makeDirectory("bundle")
    let bundle = try await sealedRun(in: temp).bundle
    let url = bundle.appendingPathComponent("manifest.json")
    var text = try String(contentsOf: url, encoding: .utf8)
    text = text.replacingOccurrences(of: "0.0.0-test", with: "0.0.1-test")
    try Data(text.utf8).write(to: url)
    let problems = try Verifier().verify(bundle).problems
    #expect(problems.map(\.kind) == [.manifestDigest])
  }

  @Test func consecutiveRunsAreChainedAndABrokenLinkIsReported() async throws {
    let temp = try TestScratch.makeDirectory("bundle")
    let first = try await sealedRun(in: temp, at: "2026-11-27T06:00:00Z", runID: "00000001")
    let second = try await sealedRun(in: temp, at: "2026-11-28T06:00:00Z", runID: "00000002")
    let third = try await sealedRun(in: temp, at: "2026-11-29T06:00:00Z", runID: "00000003")
    let store = BundleStore(directory: temp)
    #expect(try store.loadManifest(second.bundle).previous == Manifest.Link(bundle: first.record.bundleName, manifestSHA256: first.record.manifestDigest!))
    #expect(try store.loadManifest(third.bundle).previous?.bundle == second.record.bundleName)
    #expect(try Verifier().verify(temp).isIntact)

    try FileManager.default.removeItem(at: second.bundle)
    let problems = try Verifier().verify(temp).problems.map(\.description)
    #expect(
      problems == [
        "20261129T060000Z-00000003: broken-link: links to 20261128T060000Z-00000002 but the bundle before it is 20261127T060000Z-00000001 (a bundle was deleted, inserted or re-ordered)"
      ])
  }

  @Test func twoRunsInTheSameSecondStayInChainOrder() async throws {
    let temp = try TestScratch.makeDirectory("bundle")
    // The second run's random id sorts before the first's; the chain decides the order.
    _ = try await sealedRun(in: temp, runID: "ffffffff")
    _ = try await sealedRun(in: temp, runID: "00000000")
    let names = try BundleStore(directory: temp).bundles().map(\.name)
    #expect(names == ["20261129T060000Z-ffffffff", "20261129T060000Z-00000000"])
    #expect(try Verifier().verify(temp).isIntact)
  }

  @Test func secondRunExitsAtOnceWhileTheLockIsHeldAndAStaleLockFileDoesNotBlock() async throws {
    let temp = try TestScratch.makeDirectory("bundle")
    do {
      let held = try RunLock(evidenceDirectory: temp, holder: "pid 4242 on elsewhere")
      await #expect {
        _ = try await sealedRun(in: temp)
      } throws: { error in
        "\(error)" == "another vouch run (pid 4242 on elsewhere) is writing to \(temp.standardizedFileURL.path); this run did not start"
      }
      withExtendedLifetime(held) {}
    }
    // A lock file left by a killed run holds text but no flock: the next run proceeds.
    try Data("pid 1 on gone\n".utf8).write(to: temp.appendingPathComponent(RunLock.fileName))
    let outcome = try await sealedRun(in: temp)
    #expect(FileManager.default.fileExists(atPath: outcome.bundle.path))
  }

  @Test func interruptedStagingIsNeverABundleAndIsCleanedByTheNextRun() async throws {
    let temp = try TestScratch.makeDirectory("bundle")
    let staging = temp.appendingPathComponent(".staging/20261128T060000Z-dead0000/controls/x")
    try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
    try Data("partial".utf8).write(to: staging.appendingPathComponent("body"))
    #expect(throws: EvidenceError.self) { try Verifier().verify(temp) }
    _ = try await sealedRun(in: temp)
    #expect(try FileManager.default.contentsOfDirectory(atPath: temp.appendingPathComponent(".staging").path).isEmpty)
    #expect(try Verifier().verify(temp).bundles == ["20261129T060000Z-0000beef"])
  }

  @Test func aFolderThatCannotBeFlushedIsAnErrorNamingIt() throws {
    let temp = try TestScratch.makeDirectory("bundle")
    let gone = temp.appendingPathComponent("removed-staging")
    let error = #expect(throws: EvidenceError.self) { try BundleStore.syncTree(gone) }
    #expect(error?.description == "cannot open \(gone.path) to flush it to disk: No such file or directory")
    try BundleStore.syncTree(temp)
  }
}
