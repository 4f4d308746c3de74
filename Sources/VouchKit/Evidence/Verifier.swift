import Crypto
import Foundation
import Synchronization

/// One integrity problem found by `vouch verify`.
public struct VerificationProblem: Sendable, Hashable, CustomStringConvertible {
  public enum Kind: String, Sendable, Hashable {
    case changed, missing, extra, unreadableManifest = "unreadable-manifest", manifestDigest = "manifest-digest"
    case brokenLink = "broken-link"
    case unsigned
    case signature
    case pruneRecord = "prune-record"
  }

  public let kind: Kind
  public let bundle: String
  /// The file concerned, relative to the bundle, when there is one.
  public let path: String?
  public let detail: String

  public init(_ kind: Kind, bundle: String, path: String? = nil, _ detail: String) {
    self.kind = kind
    self.bundle = bundle
    self.path = path
    self.detail = detail
  }

  public var description: String {
    "\(bundle)\(path.map { "/\($0)" } ?? ""): \(kind.rawValue): \(detail)"
  }
}

/// What `vouch verify` found.
public struct VerificationReport: Sendable {
  /// Bundles checked, in chain order.
  public let bundles: [String]
  public let filesChecked: Int
  public let bytesChecked: Int
  public let problems: [VerificationProblem]
  /// Bundles whose signature verified, by signer fingerprint.
  public let signedBy: [String: String]
  /// UTC days within the checked range on which no bundle was sealed (a missed nightly run, not tampering).
  public let daysWithoutBundle: [String]

  public var isIntact: Bool { problems.isEmpty }
}

/// Recomputes every digest of one bundle or a whole evidence folder and checks the chain.
public struct Verifier: Sendable {
  public init() {}

  /// Verifies a single bundle (a folder holding `manifest.json`) or every bundle of an evidence folder.
  ///
  /// A single bundle's link is checked against the bundle it names when that sits in the same folder (a sample folder
  /// holds non-consecutive bundles, so "the one before it" would be the wrong comparison).
  ///
  /// - Parameters:
  ///   - key: when given, every bundle must carry a valid signature by this key; without it, signatures present are
  ///     checked against the public key they embed (integrity, not authenticity).
  ///   - from: first UTC day to check (bundles are dated by the timestamp in their name).
  ///   - to: last UTC day to check.
  public func verify(
    _ url: URL, key: Curve25519.Signing.PublicKey? = nil, from: Date? = nil, to: Date? = nil
  ) throws(EvidenceError) -> VerificationReport {
    let target = url.standardizedFileURL
    guard FileManager.default.fileExists(atPath: target.path) else {
      throw EvidenceError("\(target.path) does not exist")
    }
    if FileManager.default.fileExists(atPath: target.appendingPathComponent(Manifest.fileName).path) {
      let store = BundleStore(directory: target.deletingLastPathComponent())
      // An unreadable manifest is reported by the bundle check below; here it only means no link to follow.
      let linked = (try? store.loadManifest(target))?.previous?.bundle
      let predecessor = try store.bundles().first { $0.name == linked }
      return verify(
        chain: [BundleReference(name: target.lastPathComponent, url: target)], predecessor: predecessor, key: key,
        days: nil, pruned: Pruner.records(in: store.directory, key: key), requireFirstLink: false)
    }
    let all = try BundleStore(directory: target).bundles()
    let start = from.map { Self.utcDay($0) }
    let end = to.map { Self.utcDay($0) }
    let selected = all.enumerated().filter { _, bundle in
      let day = Self.day(of: bundle.name)
      return (start.map { day >= $0 } ?? true) && (end.map { day <= $0 } ?? true)
    }
    guard let first = selected.first else {
      throw EvidenceError("\(target.path) holds no bundles\(from != nil || to != nil ? " in that range" : "")")
    }
    let days = (start ?? Self.day(of: first.element.name), end ?? Self.day(of: selected[selected.count - 1].element.name))
    return verify(
      chain: selected.map(\.element), predecessor: first.offset > 0 ? all[first.offset - 1] : nil, key: key, days: days,
      pruned: Pruner.records(in: target, key: key), requireFirstLink: true)
  }

  /// `2026-11-29` for a date, in UTC.
  static func utcDay(_ date: Date) -> String { String(Timestamp.format(date).prefix(10)) }

  /// `2026-11-29` for a bundle named `20261129T…`.
  static func day(of bundle: String) -> String {
    let digits = Array(bundle.prefix(8))
    guard digits.count == 8 else { return bundle }
    return "\(String(digits[0..<4]))-\(String(digits[4..<6]))-\(String(digits[6..<8]))"
  }

  private func verify(
    chain: [BundleReference], predecessor: BundleReference?, key: Curve25519.Signing.PublicKey?,
    days: (String, String)?, pruned records: [Pruner.Found], requireFirstLink: Bool
  ) -> VerificationReport {
    var problems: [VerificationProblem] = records.flatMap { found in
      found.problems.map { VerificationProblem(.pruneRecord, bundle: found.file, $0) }
    }
    let pruned = Dictionary(
      records.compactMap(\.record).flatMap(\.bundles).map { ($0.bundle, $0.manifestSHA256) },
      uniquingKeysWith: { first, _ in first })
    var signedBy: [String: String] = [:]
    var files = 0
    var bytes = 0
    // Bundles are independent until their links are compared: check them on every core, then walk the chain.
    let checks = Mutex([Int: BundleCheck]())
    // The key type is not Sendable; its 32 raw bytes are.
    let keyBytes = key?.rawRepresentation
    DispatchQueue.concurrentPerform(iterations: chain.count) { index in
      let key = keyBytes.flatMap { try? Curve25519.Signing.PublicKey(rawRepresentation: $0) }
      var fileProblems: [VerificationProblem] = []
      let checked = verifyBundle(chain[index], problems: &fileProblems)
      var signatureProblems: [VerificationProblem] = []
      let signer = checkSignature(chain[index], key: key, problems: &signatureProblems)
      let check = BundleCheck(
        manifest: checked.manifest, digest: checked.digest, files: checked.files, bytes: checked.bytes,
        fileProblems: fileProblems, signatureProblems: signatureProblems, signer: signer)
      checks.withLock { $0[index] = check }
    }
    let results = checks.withLock { $0 }
    var previous: (name: String, digest: String?)? = predecessor.map { ($0.name, manifestDigest(of: $0.url)) }
    for (index, bundle) in chain.enumerated() {
      guard let check = results[index] else { continue }
      problems += check.fileProblems
      files += check.files
      bytes += check.bytes
      if let manifest = check.manifest {
        checkLink(
          manifest.previous, of: bundle.name, after: previous,
          isFirst: requireFirstLink && index == 0 && predecessor == nil, pruned: pruned, problems: &problems)
      }
      problems += check.signatureProblems
      if let signer = check.signer { signedBy[bundle.name] = signer }
      previous = (bundle.name, check.digest)
    }
    let sealedDays = Set(chain.map { Self.day(of: $0.name) })
    let missing = days.map { Self.days(from: $0.0, to: $0.1).filter { !sealedDays.contains($0) } } ?? []
    return VerificationReport(
      bundles: chain.map(\.name), filesChecked: files, bytesChecked: bytes, problems: problems, signedBy: signedBy,
      daysWithoutBundle: missing)
  }

  /// What one bundle's own checks found, before its link is compared with its predecessor.
  private struct BundleCheck: Sendable {
    let manifest: Manifest?
    let digest: String?
    let files: Int
    let bytes: Int
    let fileProblems: [VerificationProblem]
    let signatureProblems: [VerificationProblem]
    let signer: String?
  }

  /// Every UTC day from `first` to `last`, inclusive.
  static func days(from first: String, to last: String) -> [String] {
    guard var date = Timestamp.parse(first + "T00:00:00Z"), let end = Timestamp.parse(last + "T00:00:00Z") else {
      return []
    }
    var result: [String] = []
    while date <= end {
      result.append(utcDay(date))
      date = date.addingTimeInterval(86_400)
    }
    return result
  }

  /// Checks `manifest.sig` over `manifest.json`; returns the signer's fingerprint when the signature holds.
  private func checkSignature(
    _ bundle: BundleReference, key: Curve25519.Signing.PublicKey?, problems: inout [VerificationProblem]
  ) -> String? {
    let signatureURL = bundle.url.appendingPathComponent(BundleSignature.rawFileName)
    let recordURL = bundle.url.appendingPathComponent(BundleSignature.fileName)
    let hasSignature = FileManager.default.fileExists(atPath: signatureURL.path)
    guard hasSignature || FileManager.default.fileExists(atPath: recordURL.path) else {
      if key != nil {
        problems.append(VerificationProblem(.unsigned, bundle: bundle.name, "no \(BundleSignature.rawFileName); the bundle is not signed"))
      }
      return nil
    }
    do {
      let signature = try Data(contentsOf: signatureURL)
      let manifest = try Data(contentsOf: bundle.url.appendingPathComponent(Manifest.fileName))
      let verifier: Curve25519.Signing.PublicKey
      if let key {
        verifier = key
      } else {
        let record = try BundleJSON.decoder().decode(BundleSignature.self, from: Data(contentsOf: recordURL))
        verifier = try BundleKeys.publicKey(fromPEM: record.publicKey, source: "\(bundle.name)/\(BundleSignature.fileName)")
      }
      guard verifier.isValidSignature(signature, for: manifest) else {
        let whose = key == nil ? "the public key in \(BundleSignature.fileName)" : "the given key (\(BundleKeys.fingerprint(verifier)))"
        problems.append(
          VerificationProblem(
            .signature, bundle: bundle.name, path: BundleSignature.rawFileName,
            "the signature over \(Manifest.fileName) does not verify with \(whose)"))
        return nil
      }
      return BundleKeys.fingerprint(verifier)
    } catch {
      problems.append(VerificationProblem(.signature, bundle: bundle.name, path: BundleSignature.fileName, "\(error)"))
      return nil
    }
  }

  private func checkLink(
    _ link: Manifest.Link?, of bundle: String, after previous: (name: String, digest: String?)?, isFirst: Bool,
    pruned: [String: String], problems: inout [VerificationProblem]
  ) {
    switch (link, previous) {
    case (nil, nil):
      return
    case (let link?, nil):
      guard isFirst else { return }
      if let recorded = pruned[link.bundle] {
        // The predecessor was pruned: its recorded manifest digest stands in for the missing bundle.
        if recorded != link.manifestSHA256 {
          problems.append(
            VerificationProblem(
              .brokenLink, bundle: bundle,
              "links to pruned \(link.bundle) with manifest SHA-256 \(link.manifestSHA256), but the prune record says \(recorded)"
            ))
        }
        return
      }
      problems.append(
        VerificationProblem(
          .brokenLink, bundle: bundle,
          "links to \(link.bundle), which is not in this folder (deleted, moved or pruned)"))
    case (nil, let previous?):
      problems.append(
        VerificationProblem(
          .brokenLink, bundle: bundle, "starts a new chain although \(previous.name) comes before it (inserted bundle?)"))
    case (let link?, let previous?):
      if link.bundle != previous.name {
        problems.append(
          VerificationProblem(
            .brokenLink, bundle: bundle,
            "links to \(link.bundle) but the bundle before it is \(previous.name) (a bundle was deleted, inserted or re-ordered)"
          ))
      } else if let digest = previous.digest, digest != link.manifestSHA256 {
        problems.append(
          VerificationProblem(
            .brokenLink, bundle: bundle,
            "records manifest SHA-256 \(link.manifestSHA256) for \(link.bundle) but that manifest now hashes to \(digest)"))
      }
    }
  }

  private func manifestDigest(of bundle: URL) -> String? {
    try? Digest.sha256(fileAt: bundle.appendingPathComponent(Manifest.fileName)).digest
  }

  private func verifyBundle(
    _ bundle: BundleReference, problems: inout [VerificationProblem]
  ) -> (manifest: Manifest?, digest: String?, files: Int, bytes: Int) {
    let manifestURL = bundle.url.appendingPathComponent(Manifest.fileName)
    let manifestData: Data
    let manifest: Manifest
    do {
      manifestData = try Data(contentsOf: manifestURL)
      manifest = try BundleJSON.decoder().decode(Manifest.self, from: manifestData)
    } catch {
      problems.append(
        VerificationProblem(.unreadableManifest, bundle: bundle.name, path: Manifest.fileName, "\(error)"))
      return (nil, nil, 0, 0)
    }
    let digest = Digest.sha256(manifestData)
    checkDigestFile(bundle, digest: digest, problems: &problems)
    var files = 0
    var bytes = 0
    let listed = Dictionary(manifest.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
    let present: [String]
    do {
      present = try BundleFiles.list(bundle.url).filter { !Manifest.isManifestFile($0) }
    } catch {
      problems.append(VerificationProblem(.extra, bundle: bundle.name, "\(error)"))
      return (manifest, digest, 0, 0)
    }
    for path in present where listed[path] == nil {
      problems.append(VerificationProblem(.extra, bundle: bundle.name, path: path, "file is not listed in the manifest"))
    }
    let onDisk = Set(present)
    let root = bundle.url.path
    for entry in manifest.files {
      guard onDisk.contains(entry.path) else {
        problems.append(VerificationProblem(.missing, bundle: bundle.name, path: entry.path, "listed in the manifest but absent"))
        continue
      }
      do {
        let (actual, size) = try Digest.sha256(path: root + "/" + entry.path)
        files += 1
        bytes += size
        if actual != entry.sha256 || size != entry.size {
          problems.append(
            VerificationProblem(
              .changed, bundle: bundle.name, path: entry.path,
              "SHA-256 \(actual) (\(size) bytes), manifest says \(entry.sha256) (\(entry.size) bytes)"))
        }
      } catch {
        problems.append(VerificationProblem(.missing, bundle: bundle.name, path: entry.path, "unreadable: \(error)"))
      }
    }
    return (manifest, digest, files, bytes)
  }

  private func checkDigestFile(_ bundle: BundleReference, digest: String, problems: inout [VerificationProblem]) {
    let url = bundle.url.appendingPathComponent(Manifest.digestFileName)
    guard let text = try? String(contentsOf: url, encoding: .utf8) else {
      problems.append(VerificationProblem(.missing, bundle: bundle.name, path: Manifest.digestFileName, "absent"))
      return
    }
    let recorded = text.split(separator: " ").first.map(String.init) ?? ""
    if recorded != digest {
      problems.append(
        VerificationProblem(
          .manifestDigest, bundle: bundle.name, path: Manifest.fileName,
          "manifest hashes to \(digest) but \(Manifest.digestFileName) records \(recorded)"))
    }
  }
}
