import Crypto
import Foundation

/// What `vouch prune` removed: enough to keep the chain verifiable without the bundles themselves.
public struct PruneRecord: Sendable, Codable, Hashable {
  /// One removed bundle.
  public struct Pruned: Sendable, Codable, Hashable {
    public let bundle: String
    /// SHA-256 of its `manifest.json`, which the next bundle's link names.
    public let manifestSHA256: String
    public let files: Int
    public let bytes: Int
    public let previous: Manifest.Link?
  }

  public static let folder = "pruned"

  public let format: String
  public let prunedAt: Date
  public let keepDays: Int
  /// Removed bundles, oldest first.
  public let bundles: [Pruned]
  /// The oldest bundle kept, whose link points at the last pruned one.
  public let firstKept: String
  public let toolVersion: String
}

/// Removes bundles older than a retention period while keeping the chain verifiable: a record of every removed
/// bundle's manifest digest (signed when a key is given) lets `vouch verify` accept the first kept bundle's link.
public struct Pruner: Sendable {
  public let store: BundleStore
  public let clock: any WallClock

  public init(store: BundleStore, clock: any WallClock) {
    self.store = store
    self.clock = clock
  }

  /// Prunes bundles sealed before `keepDays` days ago; the newest bundle is always kept.
  ///
  /// Refuses when the bundles to prune, or the first kept one, do not verify: pruning must never launder tampering.
  ///
  /// - Returns: the record written, or `nil` when nothing was old enough.
  public func prune(keepDays: Int, signingKey: BundleSigningKey?, holder: String) throws(EvidenceError) -> PruneRecord? {
    guard keepDays >= 1 else { throw EvidenceError("--keep must be at least 1 day") }
    let lock = try RunLock(evidenceDirectory: store.directory, holder: holder)
    defer { withExtendedLifetime(lock) {} }
    let now = clock.now()
    let cutoff = Verifier.utcDay(now.addingTimeInterval(-Double(keepDays) * 86_400))
    let chain = try store.bundles()
    let old = Array(chain.dropLast().prefix { Verifier.day(of: $0.name) < cutoff })
    guard !old.isEmpty else { return nil }
    let firstKept = chain[old.count]

    let check = try Verifier().verify(store.directory, to: Timestamp.parse(Verifier.day(of: firstKept.name) + "T00:00:00Z"))
    let relevant = check.problems.filter { problem in old.contains { $0.name == problem.bundle } || problem.bundle == firstKept.name }
    guard relevant.isEmpty else {
      throw EvidenceError(
        "not pruning: the bundles to remove do not verify (\(relevant.map(\.description).joined(separator: "; ")))")
    }
    var pruned: [PruneRecord.Pruned] = []
    for bundle in old {
      do {
        let manifest = try store.loadManifest(bundle.url)
        let digest = try Digest.sha256(fileAt: bundle.url.appendingPathComponent(Manifest.fileName)).digest
        pruned.append(
          PruneRecord.Pruned(
            bundle: bundle.name, manifestSHA256: digest, files: manifest.files.count,
            bytes: manifest.files.reduce(0) { $0 + $1.size }, previous: manifest.previous))
      } catch {
        throw EvidenceError("cannot read bundle \(bundle.name) before pruning: \(error)")
      }
    }
    let record = PruneRecord(
      format: "vouch-prune/1", prunedAt: now, keepDays: keepDays, bundles: pruned, firstKept: firstKept.name,
      toolVersion: VouchVersion.current)
    try write(record, signingKey: signingKey)
    for bundle in old {
      do {
        try FileManager.default.removeItem(at: bundle.url)
      } catch {
        throw EvidenceError("recorded the prune, but could not remove \(bundle.name): \(error.localizedDescription)")
      }
    }
    return record
  }

  /// `pruned/<UTC stamp>.json`, plus `.sig` (Ed25519 over the JSON bytes) and `.pub.pem` when signed.
  private func write(_ record: PruneRecord, signingKey: BundleSigningKey?) throws(EvidenceError) {
    let folder = store.directory.appendingPathComponent(PruneRecord.folder)
    let base = folder.appendingPathComponent(Timestamp.compact(record.prunedAt))
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let data = try BundleJSON.encode(record)
      try data.write(to: base.appendingPathExtension("json"), options: .withoutOverwriting)
      if let signingKey {
        let key = try signingKey.privateKey
        try key.signature(for: data).write(to: base.appendingPathExtension("sig"))
        try Data(BundleKeys.publicPEM(key.publicKey).utf8).write(to: base.appendingPathExtension("pub.pem"))
      }
    } catch {
      throw EvidenceError("cannot write the prune record \(base.path).json: \(error.localizedDescription)")
    }
  }

  /// A prune record as found on disk, with what is wrong with it.
  struct Found {
    let file: String
    let record: PruneRecord?
    let problems: [String]
  }

  /// Every prune record in an evidence folder; signatures are checked against `key`, or without one against the
  /// public key stored beside each record (integrity, not authenticity).
  static func records(in directory: URL, key: Curve25519.Signing.PublicKey?) -> [Found] {
    let folder = directory.appendingPathComponent(PruneRecord.folder)
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
      .filter { $0.hasSuffix(".json") }.sorted()
    return names.map { name in
      let file = "\(PruneRecord.folder)/\(name)"
      let url = folder.appendingPathComponent(name)
      guard let data = try? Data(contentsOf: url),
        let record = try? BundleJSON.decoder().decode(PruneRecord.self, from: data)
      else { return Found(file: file, record: nil, problems: ["\(file) is not a readable prune record"]) }
      let stem = folder.appendingPathComponent(String(name.dropLast(".json".count)))
      guard let signature = try? Data(contentsOf: stem.appendingPathExtension("sig")) else {
        return Found(file: file, record: record, problems: key == nil ? [] : ["\(file) is not signed"])
      }
      let stored = (try? String(contentsOf: stem.appendingPathExtension("pub.pem"), encoding: .utf8))
        .flatMap { try? BundleKeys.publicKey(fromPEM: $0, source: file) }
      guard let verifier = key ?? stored else {
        return Found(file: file, record: record, problems: ["\(file) is signed, but no public key is given to check it"])
      }
      let valid = verifier.isValidSignature(signature, for: data)
      return Found(file: file, record: record, problems: valid ? [] : ["\(file): the signature does not verify"])
    }
  }
}
