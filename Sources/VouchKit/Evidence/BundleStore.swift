import CSystem
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A sealed bundle found in the evidence folder.
public struct BundleReference: Sendable, Hashable {
  public let name: String
  public let url: URL
}

/// The evidence folder: where bundles are staged, sealed and chained.
///
/// A bundle is written under `.staging/<name>/` and renamed to `<name>/` only once its manifest is written, so a run
/// killed at any moment leaves either nothing or a staging folder that the next run removes — never a bundle that
/// looks complete.
public struct BundleStore: Sendable {
  public static let stagingFolder = ".staging"
  public static let runFile = "run.json"
  public static let resultsFile = "results.json"
  public static let controlsFolder = "controls"

  public let directory: URL

  public init(directory: URL) {
    self.directory = directory.standardizedFileURL
  }

  var stagingDirectory: URL { directory.appendingPathComponent(Self.stagingFolder) }

  /// Creates the evidence folder when missing.
  public func prepare() throws(EvidenceError) {
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw EvidenceError("cannot create evidence folder \(directory.path): \(error.localizedDescription)")
    }
  }

  /// Removes what interrupted runs left in `.staging/`; call only while holding the run lock.
  ///
  /// - Returns: the names removed, so the caller can log them.
  public func removeAbandonedStaging() throws(EvidenceError) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: stagingDirectory.path)) ?? []
    for name in names {
      do {
        try FileManager.default.removeItem(at: stagingDirectory.appendingPathComponent(name))
      } catch {
        throw EvidenceError("cannot remove abandoned staging folder \(name): \(error.localizedDescription)")
      }
    }
    return names.sorted()
  }

  /// A fresh staging folder for bundle `name`.
  public func createStaging(_ name: String) throws(EvidenceError) -> URL {
    let url = stagingDirectory.appendingPathComponent(name)
    do {
      try FileManager.default.createDirectory(
        at: url.appendingPathComponent(Self.controlsFolder), withIntermediateDirectories: true)
    } catch {
      throw EvidenceError("cannot create staging folder \(url.path): \(error.localizedDescription)")
    }
    return url
  }

  /// Sealed bundles in chain order (oldest first).
  ///
  /// Names start with a UTC timestamp, so they sort chronologically; two bundles started within the same second are
  /// ordered by their chain links instead of their random run ids.
  public func bundles() throws(EvidenceError) -> [BundleReference] {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    } catch {
      throw EvidenceError("cannot read evidence folder \(directory.path): \(error.localizedDescription)")
    }
    let found = names.filter { !$0.hasPrefix(".") }.filter { name in
      var isDirectory: ObjCBool = false
      let url = directory.appendingPathComponent(name)
      return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
        && FileManager.default.fileExists(atPath: url.appendingPathComponent(Manifest.fileName).path)
    }
    let grouped = Dictionary(grouping: found) { $0.split(separator: "-", maxSplits: 1).first.map(String.init) ?? $0 }
    return grouped.keys.sorted().flatMap { stamp -> [String] in
      let names = grouped[stamp, default: []].sorted()
      guard names.count > 1 else { return names }
      // Links only decide the order of bundles sealed in the same second, so only their manifests are read here
      // (a year of bundles is otherwise read twice by `verify`); an unreadable manifest is reported by `Verifier`.
      let previousOf = Dictionary(
        uniqueKeysWithValues: names.map { name in
          (name, (try? loadManifest(directory.appendingPathComponent(name)))?.previous?.bundle)
        })
      return Self.chainOrder(names, previousOf: previousOf)
    }.map { BundleReference(name: $0, url: directory.appendingPathComponent($0)) }
  }

  /// Orders bundles that share a timestamp so each comes after the one it links to.
  static func chainOrder(_ names: [String], previousOf: [String: String?]) -> [String] {
    guard names.count > 1 else { return names }
    var remaining = names
    var ordered: [String] = []
    while !remaining.isEmpty {
      let index =
        remaining.firstIndex { name in
          guard let previous = previousOf[name] ?? nil else { return true }
          return !remaining.contains(previous)
        } ?? 0
      ordered.append(remaining.remove(at: index))
    }
    return ordered
  }

  /// The newest sealed bundle and its manifest digest, to link the next one to.
  public func chainHead() throws(EvidenceError) -> Manifest.Link? {
    guard let last = try bundles().last else { return nil }
    let manifestURL = last.url.appendingPathComponent(Manifest.fileName)
    do {
      let (digest, _) = try Digest.sha256(fileAt: manifestURL)
      return Manifest.Link(bundle: last.name, manifestSHA256: digest)
    } catch {
      throw EvidenceError("cannot read the newest bundle's manifest \(manifestURL.path): \(error.localizedDescription)")
    }
  }

  /// Writes `run.json`, `results.json` and the manifest (signed when a key is given), then renames the staging folder
  /// into place.
  ///
  /// - Returns: the sealed bundle's location and its manifest digest.
  public func seal(
    staging: URL, record: RunRecord, previous: Manifest.Link?, signingKey: BundleSigningKey? = nil
  ) throws(EvidenceError) -> (URL, String) {
    let final = directory.appendingPathComponent(record.bundleName)
    do {
      try BundleJSON.encode(RunMetadata(record)).write(to: staging.appendingPathComponent(Self.runFile))
      try BundleJSON.encode(ResultsFile(record)).write(to: staging.appendingPathComponent(Self.resultsFile))
      let manifest = Manifest(
        bundle: record.bundleName, createdAt: record.finishedAt, toolVersion: record.toolVersion, previous: previous,
        files: try Manifest.entries(under: staging))
      let manifestData = try BundleJSON.encode(manifest)
      try manifestData.write(to: staging.appendingPathComponent(Manifest.fileName))
      let digest = Digest.sha256(manifestData)
      try Data("\(digest)  \(Manifest.fileName)\n".utf8).write(to: staging.appendingPathComponent(Manifest.digestFileName))
      if let signingKey {
        let (signature, raw) = try BundleSignature.sign(manifest: manifestData, with: signingKey)
        try BundleJSON.encode(signature).write(to: staging.appendingPathComponent(BundleSignature.fileName))
        try raw.write(to: staging.appendingPathComponent(BundleSignature.rawFileName))
      }
      try Self.syncTree(staging)
      guard !FileManager.default.fileExists(atPath: final.path) else {
        throw EvidenceError("a bundle named \(record.bundleName) already exists in \(directory.path)")
      }
      try FileManager.default.moveItem(at: staging, to: final)
      do {
        try Self.syncDirectory(directory)
      } catch {
        // The bundle is complete and in place (the next run chains to it); only the rename may not survive a crash.
        throw EvidenceError(
          "bundle \(record.bundleName) is sealed at \(final.path), but the rename could not be flushed to disk "
            + "(\(error)); check the disk, then run `vouch verify`")
      }
      return (final, digest)
    } catch let error as EvidenceError {
      throw error
    } catch {
      throw EvidenceError("cannot seal bundle \(record.bundleName): \(error.localizedDescription)")
    }
  }

  /// Reads a bundle's manifest.
  public func loadManifest(_ bundle: URL) throws -> Manifest {
    try BundleJSON.decoder().decode(Manifest.self, from: Data(contentsOf: bundle.appendingPathComponent(Manifest.fileName)))
  }

  /// Reads back the run record of the sealed bundle `name` in this folder.
  public func loadRecord(named name: String) throws(EvidenceError) -> RunRecord {
    do {
      return try loadRecord(directory.appendingPathComponent(name))
    } catch {
      throw EvidenceError("cannot read the results of bundle \(name) in \(directory.path): \(error)")
    }
  }

  /// Reads back the run record of a sealed bundle (for reports over past runs).
  public func loadRecord(_ bundle: URL) throws -> RunRecord {
    let decoder = BundleJSON.decoder()
    let metadata = try decoder.decode(RunMetadata.self, from: Data(contentsOf: bundle.appendingPathComponent(Self.runFile)))
    let results = try decoder.decode(ResultsFile.self, from: Data(contentsOf: bundle.appendingPathComponent(Self.resultsFile)))
    let manifestData = try Data(contentsOf: bundle.appendingPathComponent(Manifest.fileName))
    let manifest = try decoder.decode(Manifest.self, from: manifestData)
    return RunRecord(
      runID: metadata.runID, bundleName: metadata.bundle, toolVersion: metadata.toolVersion, host: metadata.host,
      startedAt: metadata.startedAt, finishedAt: metadata.finishedAt, parameters: metadata.parameters,
      definitionFiles: metadata.definitionFiles, results: results.results, manifestDigest: Digest.sha256(manifestData),
      previousBundle: manifest.previous?.bundle, signerFingerprint: metadata.signerFingerprint,
      comparison: results.comparison, waivers: results.waivers ?? [])
  }

  /// Flushes every file so a power cut after the rename cannot leave a sealed bundle with empty files.
  ///
  /// On Linux one `syncfs` flushes the whole file system the bundle lives on: for thousands of small artifacts it is
  /// ten times faster than an `fsync` per file (one journal commit instead of thousands), and since Linux 5.8 it
  /// reports write-back errors like `fsync` does. It also flushes other programs' dirty data on that file system, so
  /// on a disk shared with a busy writer (a database) sealing waits for that too: keep `evidence/` on its own
  /// file system there.
  static func syncTree(_ root: URL) throws(EvidenceError) {
    #if os(Linux)
      try withDescriptor(root, flags: O_RDONLY | O_DIRECTORY) { fd in vouch_syncfs(fd) }
    #else
      let paths: [String]
      do {
        paths = try BundleFiles.list(root)
      } catch {
        throw EvidenceError("cannot list \(root.path) to flush it to disk: \(error)")
      }
      for path in paths {
        try withDescriptor(root.appendingPathComponent(path), flags: O_RDONLY) { fd in fsync(fd) }
      }
    #endif
  }

  /// Makes a rename inside `url` durable.
  static func syncDirectory(_ url: URL) throws(EvidenceError) {
    try withDescriptor(url, flags: O_RDONLY | O_DIRECTORY) { fd in fsync(fd) }
  }

  /// Opens `url`, runs a flush call on it and turns a failure of either into an error naming the file.
  private static func withDescriptor(_ url: URL, flags: Int32, _ flush: (Int32) -> Int32) throws(EvidenceError) {
    let fd = open(url.path, flags | O_CLOEXEC)
    guard fd >= 0 else {
      throw EvidenceError("cannot open \(url.path) to flush it to disk: \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    guard flush(fd) == 0 else {
      throw EvidenceError("cannot flush \(url.path) to disk: \(String(cString: strerror(errno)))")
    }
  }
}

/// `run.json`: how, where and from what the run was made.
struct RunMetadata: Codable {
  let format: String
  let runID: String
  let bundle: String
  let toolVersion: String
  let host: String
  let startedAt: Date
  let finishedAt: Date
  let parameters: RunParameters
  let definitionFiles: [DefinitionFile]
  /// The signing key's fingerprint when the bundle is signed.
  let signerFingerprint: String?
  /// Per control: the file it is defined in and that file's digest.
  let controls: [ControlSource]

  struct ControlSource: Codable {
    let id: String
    let source: SourceLocation
    let sha256: String
  }

  init(_ record: RunRecord) {
    format = "vouch-run/1"
    runID = record.runID
    bundle = record.bundleName
    toolVersion = record.toolVersion
    host = record.host
    startedAt = record.startedAt
    finishedAt = record.finishedAt
    parameters = record.parameters
    definitionFiles = record.definitionFiles
    signerFingerprint = record.signerFingerprint
    controls = record.results.map { ControlSource(id: $0.id, source: $0.source, sha256: $0.sourceDigest) }
  }
}

/// `results.json`: per-control outcome.
struct ResultsFile: Codable {
  let format: String
  let counts: StatusCounts
  let results: [ControlResult]
  let comparison: RunComparison?
  /// Absent in bundles sealed before waivers existed.
  let waivers: [WaiverOutcome]?

  init(_ record: RunRecord) {
    format = "vouch-results/1"
    counts = record.counts
    results = record.results
    comparison = record.comparison
    waivers = record.waivers
  }
}
