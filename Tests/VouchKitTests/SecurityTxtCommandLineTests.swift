import Foundation
import Testing

@testable import VouchKit

/// `vouch security-txt` as engineers and the benchmark run it: many files per process, exit codes from the README.
@Suite(.serialized) struct SecurityTxtCommandLineTests {
  struct Finished {
    let status: Int32
    let output: String
  }

  func vouch(_ arguments: [String]) async throws -> Finished {
    try await offCooperativePool { try Self.run(arguments) }
  }

  static func run(_ arguments: [String]) throws -> Finished {
    let process = Process()
    process.executableURL = Repository.vouchExecutable
    process.arguments = ["security-txt"] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    TestScratch.register(child: process.processIdentifier)
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    TestScratch.forget(child: process.processIdentifier)
    return Finished(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
  }

  static let corpus = CorpusEntry.directory
  static let now = ["--now", "2026-11-29T05:21:33Z"]

  @Test func exitCodesFollowTheReadme() async throws {
    let valid = Self.corpus.appendingPathComponent("burbsec.txt").path
    let invalid = Self.corpus.appendingPathComponent("stxtorg_2021-05_iso_expired.txt").path
    let passed = try await vouch(Self.now + [valid])
    #expect(passed.status == 0, "\(passed.output)")
    #expect(passed.output.hasPrefix("\(valid): valid (0 errors, 2 recommendations, 0 notifications)\n"))
    let failed = try await vouch(Self.now + [valid, invalid])
    #expect(failed.status == 1)
    #expect(failed.output.contains("error expired@6:"))
    let unreadable = try await vouch(Self.now + [valid, "/nonexistent/security.txt", invalid])
    #expect(unreadable.status == 2)
    #expect(unreadable.output.contains("cannot read /nonexistent/security.txt"))
    #expect(unreadable.output.contains("error expired@6:"))
    let usage = try await vouch(["--now", "yesterday", valid])
    #expect(usage.status == 3)
    #expect(usage.output.contains("--now 'yesterday'"))
    #expect(try await vouch(Self.now).status == 3)
    #expect(try await vouch(Self.now + ["--files-from", "/nonexistent/list"]).status == 3)
  }

  @Test func jsonCoversEveryCorpusFileInOneProcess() async throws {
    let files = CorpusEntry.all.map { Self.corpus.appendingPathComponent($0.file).path }
    let list = try TestScratch.makeDirectory("cli-list").appendingPathComponent("files.txt")
    try Data(files.dropFirst().joined(separator: "\n").utf8).write(to: list)
    let result = try await vouch(Self.now + ["--json", "--files-from", list.path, files[0]])
    #expect(result.status == 1)
    let decoded = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]]
    #expect(decoded?.count == 53)
    let validCount = decoded?.filter { $0["valid"] as? Bool == true }.count
    #expect(validCount == CorpusEntry.all.filter(\.sectxtValid).count - 1)
  }

  @Test func aPinnedKeyVerifiesLocalFiles() async throws {
    let key = try await offCooperativePool { try TestOpenPGPKey.shared() }
    let folder = try TestScratch.makeDirectory("cli-signed")
    let signed = folder.appendingPathComponent("security.txt")
    let text = try await offCooperativePool {
      try key.clearsign("Contact: https://example.com/\nExpires: 2027-01-01T00:00:00Z\n")
    }
    try Data(text.utf8).write(to: signed)
    let good = try await vouch(Self.now + ["--key", key.publicKey.path, "--fingerprint", key.fingerprint, signed.path])
    #expect(good.status == 0, "\(good.output)")
    #expect(good.output.contains("signature: good signature by \(key.fingerprint)"))
    let other = try await vouch(
      Self.now + ["--key", key.publicKey.path, "--fingerprint", "0123456789ABCDEF", signed.path])
    #expect(other.status == 1)
    #expect(other.output.contains("error bad_signature@1"))
  }
}
