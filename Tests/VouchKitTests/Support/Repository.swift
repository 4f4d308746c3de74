import Foundation

/// Files of the repository itself (the shipped catalogue, the demo site), located from this source file.
enum Repository {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  static func file(_ path: String) -> URL { root.appendingPathComponent(path) }

  static func text(_ path: String) throws -> String { try String(contentsOf: file(path), encoding: .utf8) }

  /// The built `vouch` executable, next to the test bundle in the products folder.
  static var vouchExecutable: URL {
    let products = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL.deletingLastPathComponent()
      ?? Bundle.main.bundleURL
    return products.appendingPathComponent("vouch")
  }
}
