import Crypto
import Foundation
import Synchronization

/// One evidence file a collector wrote, as recorded in `results.json`.
public struct ArtifactRecord: Sendable, Hashable, Codable {
  /// Path relative to the bundle root, `/`-separated.
  public let path: String
  public let sha256: String
  public let size: Int
  public let mediaType: String
  public let summary: String
  /// True when the source was larger than what was stored.
  public let truncated: Bool

  public init(path: String, sha256: String, size: Int, mediaType: String, summary: String, truncated: Bool = false) {
    self.path = path
    self.sha256 = sha256
    self.size = size
    self.mediaType = mediaType
    self.summary = summary
    self.truncated = truncated
  }
}

/// Problems writing evidence.
public struct ArtifactError: Error, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Receives the artifacts of one control and writes them into its folder of the staging bundle.
public final class ArtifactSink: Sendable {
  /// The control's folder inside the staging bundle.
  public let directory: URL
  /// The same folder relative to the bundle root (`controls/<id>`).
  public let bundlePath: String
  private let state = Mutex(State())

  private struct State {
    var records: [ArtifactRecord] = []
    var closed = false
    /// The folder is created with the first artifact, once: controls without artifacts leave no empty folder.
    var directoryCreated = false
  }

  public init(directory: URL, bundlePath: String) {
    self.directory = directory
    self.bundlePath = bundlePath
  }

  /// Every artifact written so far, in the order written.
  public var records: [ArtifactRecord] { state.withLock { $0.records } }

  /// Refuses further artifacts: a collector abandoned after its timeout must not write into a sealed bundle.
  public func close() {
    state.withLock { $0.closed = true }
  }

  /// The absolute location for an artifact called `name`, creating the control's folder; for writers that stream.
  public func url(for name: String) throws -> URL {
    try prepare(name)
  }

  /// Writes a whole artifact.
  @discardableResult
  public func write(_ name: String, data: Data, mediaType: String, summary: String) throws -> ArtifactRecord {
    let url = try prepare(name)
    do {
      try data.write(to: url)
    } catch {
      throw ArtifactError("cannot write artifact \(url.path): \(error.localizedDescription)")
    }
    return record(name, sha256: Digest.sha256(data), size: data.count, mediaType: mediaType, summary: summary)
  }

  /// Copies a file into the bundle, hashing while copying.
  @discardableResult
  public func copy(from source: URL, as name: String, mediaType: String, summary: String) throws -> ArtifactRecord {
    let url = try prepare(name)
    guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
      throw ArtifactError("cannot create artifact \(url.path)")
    }
    do {
      let input = try FileHandle(forReadingFrom: source)
      defer { try? input.close() }
      let output = try FileHandle(forWritingTo: url)
      defer { try? output.close() }
      var hasher = SHA256()
      var size = 0
      while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
        hasher.update(data: chunk)
        try output.write(contentsOf: chunk)
        size += chunk.count
      }
      return record(name, sha256: Digest.hex(hasher.finalize()), size: size, mediaType: mediaType, summary: summary)
    } catch let error as ArtifactError {
      throw error
    } catch {
      throw ArtifactError("cannot copy \(source.path) into the bundle: \(error.localizedDescription)")
    }
  }

  /// Records a file already written at `url(for: name)` by someone else (e.g. a streamed HTTP body).
  @discardableResult
  public func adopt(
    _ name: String, sha256: String, size: Int, mediaType: String, summary: String, truncated: Bool = false
  ) -> ArtifactRecord {
    record(name, sha256: sha256, size: size, mediaType: mediaType, summary: summary, truncated: truncated)
  }

  /// The bundle-relative path of an artifact name.
  public func bundlePath(of name: String) -> String { "\(bundlePath)/\(name)" }

  private func prepare(_ name: String) throws -> URL {
    try Self.checkName(name)
    let (closed, created) = state.withLock { ($0.closed, $0.directoryCreated) }
    guard !closed else {
      throw ArtifactError("artifact \(name) arrived after the control's collection ended; it was not written")
    }
    if !created {
      do {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      } catch {
        throw ArtifactError("cannot create evidence folder \(directory.path): \(error.localizedDescription)")
      }
      state.withLock { $0.directoryCreated = true }
    }
    return directory.appendingPathComponent(name)
  }

  private func record(
    _ name: String, sha256: String, size: Int, mediaType: String, summary: String, truncated: Bool = false
  ) -> ArtifactRecord {
    let record = ArtifactRecord(
      path: bundlePath(of: name), sha256: sha256, size: size, mediaType: mediaType, summary: summary, truncated: truncated)
    state.withLock { $0.records.append(record) }
    return record
  }

  /// Artifact names are single path components made of safe characters, so nothing escapes the control's folder.
  static func checkName(_ name: String) throws {
    let allowed = name.unicodeScalars.allSatisfy {
      ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)
    }
    guard allowed, !name.isEmpty, !name.hasPrefix(".") else {
      throw ArtifactError("artifact name '\(name)' must be letters, digits, '.', '_' or '-' and not start with '.'")
    }
  }
}

/// Writes every byte of `bytes` to `descriptor`, through short writes and interruptions; false on failure, with
/// `errno` saying why.
func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
  var offset = 0
  while offset < bytes.count {
    guard let base = bytes.baseAddress else { return true }
    let written = write(descriptor, base + offset, bytes.count - offset)
    if written < 0 {
      if errno == EINTR { continue }
      return false
    }
    offset += written
  }
  return true
}
