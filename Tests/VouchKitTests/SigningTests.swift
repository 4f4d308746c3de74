import Crypto
import Foundation
import Testing

@testable import VouchKit

@Suite struct SigningTests {
  struct Keys {
    let privateKey: URL
    let publicKey: URL
  }

  func makeKeys(in directory: URL, name: String = "key") throws -> Keys {
    let (privatePEM, publicPEM) = BundleKeys.generate()
    let keys = Keys(
      privateKey: directory.appendingPathComponent("\(name).pem"),
      publicKey: directory.appendingPathComponent("\(name).pub.pem"))
    try Data(privatePEM.utf8).write(to: keys.privateKey)
    try Data(publicPEM.utf8).write(to: keys.publicKey)
    return keys
  }

  func sealedRun(in evidence: URL, day: String, key: URL?, runID: String = "0000beef") async throws -> RunOutcome {
    let catalog = TestControls.catalog([try TestControls.scripted("alpha", value: "one")])
    var options = runOptions(evidence)
    options.signingKey = try key.map { try BundleKeys.loadPrivateKey($0) }
    return try await makeRunner(at: "\(day)T02:00:00Z", runID: runID).run(catalog, options: options)
  }

  @Test func signedBundlesVerifyWithTheirKeyAndFailWithAnother() async throws {
    let work = try TestScratch.makeDirectory("signing")
    let keys = try makeKeys(in: work)
    let other = try makeKeys(in: work, name: "other")
    let evidence = work.appendingPathComponent("evidence")
    let outcome = try await sealedRun(in: evidence, day: "2026-11-28", key: keys.privateKey)
    let publicKey = try BundleKeys.loadPublicKey(keys.publicKey)
    #expect(outcome.record.signerFingerprint == BundleKeys.fingerprint(publicKey))
    #expect(try BundleStore(directory: evidence).loadRecord(outcome.bundle).signerFingerprint == BundleKeys.fingerprint(publicKey))

    let good = try Verifier().verify(evidence, key: publicKey)
    #expect(good.isIntact, "\(good.problems)")
    #expect(good.signedBy == [outcome.record.bundleName: BundleKeys.fingerprint(publicKey)])

    let wrong = try Verifier().verify(evidence, key: try BundleKeys.loadPublicKey(other.publicKey))
    #expect(wrong.problems.map(\.kind) == [.signature])
    #expect(wrong.problems[0].description.contains("does not verify with the given key"))
  }

  @Test func unsignedBundleIsAProblemOnlyWhenAKeyIsRequired() async throws {
    let work = try TestScratch.makeDirectory("unsigned")
    let keys = try makeKeys(in: work)
    let evidence = work.appendingPathComponent("evidence")
    _ = try await sealedRun(in: evidence, day: "2026-11-28", key: nil)
    #expect(try Verifier().verify(evidence).isIntact)
    let report = try Verifier().verify(evidence, key: try BundleKeys.loadPublicKey(keys.publicKey))
    #expect(report.problems.map(\.kind) == [.unsigned])
  }

  @Test func rewrittenManifestWithARecomputedDigestStillFailsItsSignature() async throws {
    let work = try TestScratch.makeDirectory("rewritten")
    let keys = try makeKeys(in: work)
    let evidence = work.appendingPathComponent("evidence")
    let bundle = try await sealedRun(in: evidence, day: "2026-11-28", key: keys.privateKey).bundle
    // An editor who changes evidence, fixes the manifest and its digest file, but cannot sign.
    let value = bundle.appendingPathComponent("controls/alpha/value.txt")
    try Data("forged".utf8).write(to: value)
    let manifestURL = bundle.appendingPathComponent("manifest.json")
    var manifest = try String(contentsOf: manifestURL, encoding: .utf8)
    let (oldDigest, oldSize) = (Digest.sha256("one"), 3)
    manifest = manifest.replacingOccurrences(of: oldDigest, with: Digest.sha256("forged"))
      .replacingOccurrences(of: "\"size\" : \(oldSize)", with: "\"size\" : 6")
    try Data(manifest.utf8).write(to: manifestURL)
    try Data("\(Digest.sha256(manifest))  manifest.json\n".utf8).write(to: bundle.appendingPathComponent("manifest.sha256"))

    let withoutKey = try Verifier().verify(evidence)
    #expect(withoutKey.problems.map(\.kind) == [.signature])
    let withKey = try Verifier().verify(evidence, key: try BundleKeys.loadPublicKey(keys.publicKey))
    #expect(withKey.problems.map(\.kind) == [.signature])
  }

  @Test func reorderedAndInsertedBundlesBreakTheChain() async throws {
    let work = try TestScratch.makeDirectory("reorder")
    let evidence = work.appendingPathComponent("evidence")
    let first = try await sealedRun(in: evidence, day: "2026-11-26", key: nil, runID: "00000001")
    let second = try await sealedRun(in: evidence, day: "2026-11-27", key: nil, runID: "00000002")
    _ = try await sealedRun(in: evidence, day: "2026-11-28", key: nil, runID: "00000003")

    // Inserted: a copy of the first bundle dated between the second and third.
    let inserted = evidence.appendingPathComponent("20261127T120000Z-0000ffff")
    try FileManager.default.copyItem(at: first.bundle, to: inserted)
    let insertion = try Verifier().verify(evidence).problems.map(\.description)
    #expect(insertion.contains { $0.hasPrefix("20261127T120000Z-0000ffff: broken-link: starts a new chain") })
    #expect(insertion.contains { $0.hasPrefix("20261128T020000Z-00000003: broken-link: links to 20261127T020000Z-00000002 but the bundle before it is 20261127T120000Z-0000ffff") })
    try FileManager.default.removeItem(at: inserted)

    // Re-ordered: the first and second bundles swap names.
    let swap = evidence.appendingPathComponent("swap")
    try FileManager.default.moveItem(at: first.bundle, to: swap)
    try FileManager.default.moveItem(at: second.bundle, to: first.bundle)
    try FileManager.default.moveItem(at: swap, to: second.bundle)
    let reordering = try Verifier().verify(evidence).problems.map(\.kind)
    #expect(reordering.filter { $0 == .brokenLink }.count >= 2)
  }

  @Test func aDateRangeChecksOnlyItsBundlesAndListsMissedNights() async throws {
    let work = try TestScratch.makeDirectory("range")
    let evidence = work.appendingPathComponent("evidence")
    _ = try await sealedRun(in: evidence, day: "2026-11-24", key: nil, runID: "00000001")
    _ = try await sealedRun(in: evidence, day: "2026-11-25", key: nil, runID: "00000002")
    _ = try await sealedRun(in: evidence, day: "2026-11-27", key: nil, runID: "00000003")
    let from = try #require(Timestamp.parse("2026-11-25T00:00:00Z"))
    let to = try #require(Timestamp.parse("2026-11-28T00:00:00Z"))
    let report = try Verifier().verify(evidence, from: from, to: to)
    #expect(report.isIntact, "\(report.problems)")
    #expect(report.bundles == ["20261125T020000Z-00000002", "20261127T020000Z-00000003"])
    #expect(report.daysWithoutBundle == ["2026-11-26", "2026-11-28"])
  }

  /// README's recipe: an auditor checks a bundle with sha256sum, awk and openssl only.
  @Test func aBundleChecksWithStandardToolsAlone() async throws {
    let work = try TestScratch.makeDirectory("openssl")
    let keys = try makeKeys(in: work)
    let bundle = try await sealedRun(in: work.appendingPathComponent("evidence"), day: "2026-11-28", key: keys.privateKey).bundle
    let recipe = """
      set -e
      sha256sum -c manifest.sha256
      awk -F'"' '/"path"/ { path = $4 } /"sha256"/ { print $4 "  " path }' manifest.json | sha256sum -c
      openssl pkeyutl -verify -pubin -inkey '\(keys.publicKey.path)' -rawin -in manifest.json -sigfile manifest.sig
      openssl pkey -pubin -in '\(keys.publicKey.path)' -outform DER | sha256sum
      """
    let output = try Command.run("/bin/bash", ["-c", recipe], in: bundle)
    #expect(output.contains("Signature Verified Successfully"))
    let fingerprint = BundleKeys.fingerprint(try BundleKeys.loadPublicKey(keys.publicKey))
    #expect(output.contains("\(fingerprint)  -"))

    try Data("forged".utf8).write(to: bundle.appendingPathComponent("controls/alpha/value.txt"))
    #expect(throws: Command.Failure.self) { try Command.run("/bin/bash", ["-c", recipe], in: bundle) }
  }
}
