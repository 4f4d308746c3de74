import Crypto
import Foundation

/// What `vouch sample` put in the auditor's folder.
public struct SampleResult: Sendable {
  public let folder: URL
  public let bundles: [String]
  /// The verification of the sampled bundles in their original folder, as written to `verification.txt`.
  public let verification: VerificationReport
}

/// Copies the bundles of the dates an auditor sampled, with a verification transcript, into one folder to hand over.
public struct Sampler: Sendable {
  public let store: BundleStore
  public let clock: any WallClock

  public init(store: BundleStore, clock: any WallClock) {
    self.store = store
    self.clock = clock
  }

  /// - Parameters:
  ///   - dates: UTC days (`2026-11-03`); each must have at least one bundle.
  ///   - output: a folder that does not exist yet.
  ///   - key: the public key bundles must be signed with, when the auditor has one.
  public func sample(
    dates: [String], into output: URL, key: Curve25519.Signing.PublicKey?
  ) throws(EvidenceError) -> SampleResult {
    guard !dates.isEmpty else { throw EvidenceError("name at least one date to sample") }
    guard !FileManager.default.fileExists(atPath: output.path) else {
      throw EvidenceError("\(output.path) exists; choose a new folder for the sample")
    }
    let chain = try store.bundles()
    var chosen: [BundleReference] = []
    var missing: [String] = []
    for date in dates {
      let matches = chain.filter { Verifier.day(of: $0.name) == date }
      if matches.isEmpty { missing.append(date) }
      chosen += matches.filter { candidate in !chosen.contains { $0.name == candidate.name } }
    }
    guard missing.isEmpty else {
      throw EvidenceError("no bundle was sealed on \(missing.joined(separator: ", ")) in \(store.directory.path)")
    }
    var report: [VerificationReport] = []
    for bundle in chosen {
      report.append(try Verifier().verify(bundle.url, key: key))
    }
    let verification = VerificationReport(
      bundles: report.flatMap(\.bundles), filesChecked: report.reduce(0) { $0 + $1.filesChecked },
      bytesChecked: report.reduce(0) { $0 + $1.bytesChecked }, problems: report.flatMap(\.problems),
      signedBy: report.reduce(into: [:]) { $0.merge($1.signedBy) { first, _ in first } }, daysWithoutBundle: [])
    do {
      try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
      for bundle in chosen {
        try FileManager.default.copyItem(at: bundle.url, to: output.appendingPathComponent(bundle.name))
      }
      try Data(transcript(verification, dates: dates, key: key).utf8)
        .write(to: output.appendingPathComponent("verification.txt"))
    } catch {
      throw EvidenceError("cannot write the sample into \(output.path): \(error.localizedDescription)")
    }
    return SampleResult(folder: output, bundles: chosen.map(\.name), verification: verification)
  }

  /// The transcript: what was sampled, how it was checked, and the outcome per bundle.
  func transcript(_ report: VerificationReport, dates: [String], key: Curve25519.Signing.PublicKey?) -> String {
    var lines = [
      "Vouch \(VouchVersion.current) sample, made \(Timestamp.format(clock.now())) from \(store.directory.path)",
      "Sampled dates: \(dates.joined(separator: ", "))",
      "Signature key: \(key.map { BundleKeys.fingerprint($0) } ?? "none given (signatures checked against their embedded key)")",
      "",
    ]
    for bundle in report.bundles {
      let problems = report.problems.filter { $0.bundle == bundle }
      let signer = report.signedBy[bundle].map { ", signed by \($0)" } ?? ", unsigned"
      lines.append("\(bundle): \(problems.isEmpty ? "intact" : "\(problems.count) problem(s)")\(signer)")
      lines += problems.map { "  \($0)" }
    }
    lines.append("")
    lines.append(
      "\(report.filesChecked) file(s), \(report.bytesChecked) bytes checked: "
        + (report.isIntact ? "intact" : "\(report.problems.count) problem(s)"))
    lines.append("Each bundle was verified in place (files, manifest digest, link to its predecessor, signature).")
    return lines.joined(separator: "\n") + "\n"
  }
}
