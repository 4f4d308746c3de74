import Foundation
import Logging

@testable import VouchKit

/// A `CollectionContext` writing into a fresh staging folder, for running one collector in a test.
struct CollectorHarness {
  static let controlID = "control-under-test"
  /// One client for the whole test process, as a run shares one.
  static let sharedClient = HTTPClient(maxConnections: 16)

  let bundle: URL
  let artifacts: ArtifactSink
  let context: CollectionContext

  init(
    secrets: [String] = [], http: HTTPClient = CollectorHarness.sharedClient,
    clock: any WallClock = FixedClock(Date(timeIntervalSince1970: 0))
  ) throws {
    bundle = try TestScratch.makeDirectory("bundle")
    let bundlePath = "controls/\(Self.controlID)"
    artifacts = ArtifactSink(directory: bundle.appendingPathComponent(bundlePath), bundlePath: bundlePath)
    // A directory URL, as `vouch run` passes for the existing working directory: relative paths resolve inside it
    // rather than beside it.
    context = CollectionContext(
      controlID: Self.controlID, artifacts: artifacts, http: http, clock: clock,
      redactor: Redactor(secrets: secrets), logger: Logger(label: "vouch.tests"),
      baseDirectory: URL(fileURLWithPath: bundle.path, isDirectory: true))
  }

  /// The file behind an artifact name.
  func file(_ name: String) -> URL {
    artifacts.directory.appendingPathComponent(name)
  }

  func text(_ name: String) throws -> String {
    try String(contentsOf: file(name), encoding: .utf8)
  }

  /// Every artifact file's contents, for "this never appears anywhere" checks.
  func allArtifactText() throws -> String {
    let names = try FileManager.default.contentsOfDirectory(atPath: artifacts.directory.path)
    return try names.map { String(decoding: try Data(contentsOf: file($0)), as: UTF8.self) }.joined(separator: "\n")
  }
}
