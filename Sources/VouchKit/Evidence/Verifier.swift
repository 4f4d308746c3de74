import Foundation

/// One integrity problem found by `vouch verify`.
public struct VerificationProblem: Sendable, Hashable, CustomStringConvertible {
  public enum Kind: String, Sendable, Hashable {
    case changed, missing, extra, unreadableManifest = "unreadable-manifest", manifestDigest = "manifest-digest"
    case brokenLink = "broken-link"
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

  public var isIntact: Bool { problems.isEmpty }
}

/// Recomputes every digest of one bundle or a whole evidence folder and checks the chain.
public struct Verifier: Sendable {
  public init() {}

  /// Verifies a single bundle (a folder holding `manifest.json`) or every bundle of an evidence folder.
  ///
  /// A single bundle's link is checked against its predecessor when that sits next to it in the same folder.
  public func verify(_ url: URL) throws(EvidenceError) -> VerificationReport {
    let target = url.standardizedFileURL
    guard FileManager.default.fileExists(atPath: target.path) else {
      throw EvidenceError("\(target.path) does not exist")
    }
    if FileManager.default.fileExists(atPath: target.appendingPathComponent(Manifest.fileName).path) {
      let store = BundleStore(directory: target.deletingLastPathComponent())
      let chain = try store.bundles()
      let predecessor = chain.firstIndex { $0.name == target.lastPathComponent }.flatMap { $0 > 0 ? chain[$0 - 1] : nil }
      return verify(chain: [BundleReference(name: target.lastPathComponent, url: target)], predecessor: predecessor)
    }
    let bundles = try BundleStore(directory: target).bundles()
    guard !bundles.isEmpty else {
      throw EvidenceError("\(target.path) holds no bundles (folders with a \(Manifest.fileName))")
    }
    return verify(chain: bundles, predecessor: nil)
  }

  private func verify(chain: [BundleReference], predecessor: BundleReference?) -> VerificationReport {
    var problems: [VerificationProblem] = []
    var files = 0
    var bytes = 0
    var previous: (name: String, digest: String?)? = predecessor.map { ($0.name, manifestDigest(of: $0.url)) }
    for (index, bundle) in chain.enumerated() {
      let checked = verifyBundle(bundle, problems: &problems)
      files += checked.files
      bytes += checked.bytes
      if let manifest = checked.manifest {
        checkLink(manifest.previous, of: bundle.name, after: previous, isFirst: index == 0 && predecessor == nil,
          problems: &problems)
      }
      previous = (bundle.name, checked.digest)
    }
    return VerificationReport(bundles: chain.map(\.name), filesChecked: files, bytesChecked: bytes, problems: problems)
  }

  private func checkLink(
    _ link: Manifest.Link?, of bundle: String, after previous: (name: String, digest: String?)?, isFirst: Bool,
    problems: inout [VerificationProblem]
  ) {
    switch (link, previous) {
    case (nil, nil):
      return
    case (let link?, nil):
      guard isFirst else { return }
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
    for entry in manifest.files {
      let url = bundle.url.appendingPathComponent(entry.path)
      guard FileManager.default.fileExists(atPath: url.path) else {
        problems.append(VerificationProblem(.missing, bundle: bundle.name, path: entry.path, "listed in the manifest but absent"))
        continue
      }
      do {
        let (actual, size) = try Digest.sha256(fileAt: url)
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
