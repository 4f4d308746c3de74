import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `manifest.json`: every file of a bundle with its digest, and the link to the previous bundle's manifest.
public struct Manifest: Sendable, Codable, Hashable {
  public static let fileName = "manifest.json"
  /// `sha256sum -c` compatible line holding the manifest's own digest.
  public static let digestFileName = "manifest.sha256"
  public static let currentFormat = "vouch-manifest/1"

  /// One file inside the bundle.
  public struct Entry: Sendable, Codable, Hashable {
    public let path: String
    public let sha256: String
    public let size: Int

    public init(path: String, sha256: String, size: Int) {
      self.path = path
      self.sha256 = sha256
      self.size = size
    }
  }

  /// The previous bundle in the chain.
  public struct Link: Sendable, Codable, Hashable {
    public let bundle: String
    /// SHA-256 of that bundle's `manifest.json` bytes.
    public let manifestSHA256: String

    public init(bundle: String, manifestSHA256: String) {
      self.bundle = bundle
      self.manifestSHA256 = manifestSHA256
    }
  }

  public let format: String
  public let bundle: String
  public let createdAt: Date
  public let toolVersion: String
  public let previous: Link?
  /// Sorted by path.
  public let files: [Entry]

  public init(bundle: String, createdAt: Date, toolVersion: String, previous: Link?, files: [Entry]) {
    self.format = Self.currentFormat
    self.bundle = bundle
    self.createdAt = createdAt
    self.toolVersion = toolVersion
    self.previous = previous
    self.files = files.sorted { $0.path < $1.path }
  }

  /// Hashes every regular file under `root` (except the manifest files themselves).
  public static func entries(under root: URL) throws -> [Entry] {
    try BundleFiles.list(root).filter { !isManifestFile($0) }.map { path in
      let (digest, size) = try Digest.sha256(path: root.path + "/" + path)
      return Entry(path: path, sha256: digest, size: size)
    }
  }

  /// Files that describe the bundle rather than belong to it.
  static func isManifestFile(_ path: String) -> Bool {
    path == fileName || path == digestFileName || path == BundleSignature.fileName || path == BundleSignature.rawFileName
  }
}

/// Walks a bundle folder.
enum BundleFiles {
  /// Every regular file under `root`, as sorted `/`-separated relative paths. Symbolic links are refused: a
  /// bundle must hold its evidence, not point elsewhere.
  static func list(_ root: URL) throws -> [String] {
    var paths: [String] = []
    try walk(root.path, prefix: "", into: &paths)
    return paths.sorted()
  }

  /// Walks with path strings and `lstat`: a year of bundles holds tens of thousands of files.
  private static func walk(_ directory: String, prefix: String, into paths: inout [String]) throws {
    for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
      let path = directory + "/" + name
      let relative = prefix.isEmpty ? name : prefix + "/" + name
      var info = stat()
      guard lstat(path, &info) == 0 else {
        throw ArtifactError("cannot inspect \(path): \(String(cString: strerror(errno)))")
      }
      switch info.st_mode & S_IFMT {
      case S_IFDIR: try walk(path, prefix: relative, into: &paths)
      case S_IFREG: paths.append(relative)
      default: throw ArtifactError("\(path) is neither a regular file nor a folder; bundles hold only plain files")
      }
    }
  }
}
