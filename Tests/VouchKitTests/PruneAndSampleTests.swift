import Foundation
import Testing

@testable import VouchKit

@Suite struct PruneAndSampleTests {
  /// Five nightly signed bundles, 2026-11-20 … 2026-11-24.
  func history(in evidence: URL, key: BundleSigningKey) async throws {
    for day in 20...24 {
      let catalog = TestControls.catalog([try TestControls.scripted("alpha", value: "night \(day)")])
      var options = runOptions(evidence)
      options.signingKey = key
      _ = try await makeRunner(at: "2026-11-\(day)T02:00:00Z", runID: "000000\(day)").run(catalog, options: options)
    }
  }

  func keys() throws -> (BundleSigningKey, URL) {
    let directory = try TestScratch.makeDirectory("prune-keys")
    let (privatePEM, publicPEM) = BundleKeys.generate()
    try Data(privatePEM.utf8).write(to: directory.appendingPathComponent("k.pem"))
    try Data(publicPEM.utf8).write(to: directory.appendingPathComponent("k.pub.pem"))
    return (
      try BundleKeys.loadPrivateKey(directory.appendingPathComponent("k.pem")),
      directory.appendingPathComponent("k.pub.pem")
    )
  }

  func pruner(_ evidence: URL) -> Pruner {
    Pruner(store: BundleStore(directory: evidence), clock: FixedClock(Timestamp.parse("2026-11-25T03:00:00Z")!))
  }

  @Test func pruningKeepsTheChainVerifiableThroughASignedRecord() async throws {
    let evidence = try TestScratch.makeDirectory("prune")
    let (key, publicKeyFile) = try keys()
    try await history(in: evidence, key: key)
    let record = try #require(try pruner(evidence).prune(keepDays: 2, signingKey: key, holder: "test"))
    #expect(record.bundles.map(\.bundle) == ["20261120T020000Z-00000020", "20261121T020000Z-00000021", "20261122T020000Z-00000022"])
    #expect(record.firstKept == "20261123T020000Z-00000023")
    #expect(try BundleStore(directory: evidence).bundles().map(\.name) == ["20261123T020000Z-00000023", "20261124T020000Z-00000024"])

    let publicKey = try BundleKeys.loadPublicKey(publicKeyFile)
    let report = try Verifier().verify(evidence, key: publicKey)
    #expect(report.isIntact, "\(report.problems)")

    // Without the record the first kept bundle's link is broken again.
    let recordFile = evidence.appendingPathComponent("pruned/20261125T030000Z.json")
    let saved = try Data(contentsOf: recordFile)
    try FileManager.default.removeItem(at: recordFile)
    #expect(try Verifier().verify(evidence).problems.map(\.kind) == [.brokenLink])

    // An edited record no longer matches its signature.
    try Data(String(decoding: saved, as: UTF8.self).replacingOccurrences(of: "\"keepDays\" : 2", with: "\"keepDays\" : 3").utf8)
      .write(to: recordFile)
    let edited = try Verifier().verify(evidence, key: publicKey).problems.map(\.description)
    #expect(edited == ["pruned/20261125T030000Z.json: prune-record: pruned/20261125T030000Z.json: the signature does not verify"])
  }

  @Test func pruningRefusesToLaunderATamperedBundle() async throws {
    let evidence = try TestScratch.makeDirectory("prune-tampered")
    let (key, _) = try keys()
    try await history(in: evidence, key: key)
    try Data("forged".utf8).write(to: evidence.appendingPathComponent("20261121T020000Z-00000021/controls/alpha/value.txt"))
    #expect {
      try pruner(evidence).prune(keepDays: 2, signingKey: key, holder: "test")
    } throws: { error in
      "\(error)".hasPrefix("not pruning: the bundles to remove do not verify (20261121T020000Z-00000021/controls/alpha/value.txt: changed")
    }
    #expect(try BundleStore(directory: evidence).bundles().count == 5)
  }

  @Test func sampleCopiesTheChosenNightsWithATranscript() async throws {
    let evidence = try TestScratch.makeDirectory("sample")
    let (key, publicKeyFile) = try keys()
    try await history(in: evidence, key: key)
    let output = try TestScratch.makeDirectory("sample-out").appendingPathComponent("auditor")
    let sampler = Sampler(store: BundleStore(directory: evidence), clock: FixedClock(Timestamp.parse("2026-11-25T09:00:00Z")!))
    let result = try sampler.sample(
      dates: ["2026-11-21", "2026-11-23"], into: output, key: try BundleKeys.loadPublicKey(publicKeyFile))
    #expect(result.bundles == ["20261121T020000Z-00000021", "20261123T020000Z-00000023"])
    #expect(result.verification.isIntact)
    let copied = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
    #expect(copied == ["20261121T020000Z-00000021", "20261123T020000Z-00000023", "verification.txt"])
    let transcript = try String(contentsOf: output.appendingPathComponent("verification.txt"), encoding: .utf8)
    #expect(transcript.contains("20261121T020000Z-00000021: intact, signed by \(key.fingerprint)"))
    #expect(try Verifier().verify(output.appendingPathComponent("20261123T020000Z-00000023")).isIntact)

    #expect(throws: EvidenceError.self) { try sampler.sample(dates: ["2026-11-21"], into: output, key: nil) }
    #expect {
      try sampler.sample(dates: ["2026-11-19"], into: output.appendingPathComponent("x"), key: nil)
    } throws: { error in "\(error)".hasPrefix("no bundle was sealed on 2026-11-19") }
  }
}
