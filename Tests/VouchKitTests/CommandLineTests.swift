import Foundation
import Testing

@testable import VouchKit

/// The `vouch` executable as cron runs it: exit codes, the run lock between processes, and a run killed mid-way.
@Suite struct CommandLineTests {
  struct Finished {
    let status: Int32
    let output: String
  }

  func start(_ arguments: [String], in directory: URL) throws -> (Process, Pipe) {
    let process = Process()
    process.executableURL = Repository.vouchExecutable
    process.arguments = arguments
    process.currentDirectoryURL = directory
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    TestScratch.register(child: process.processIdentifier)
    return (process, output)
  }

  func run(_ arguments: [String], in directory: URL) throws -> Finished {
    let (process, output) = try start(arguments, in: directory)
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    TestScratch.forget(child: process.processIdentifier)
    return Finished(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
  }

  /// A controls folder with one `http` control against `url`.
  func controls(in directory: URL, url: String, timeout: String = "30s") throws {
    let folder = directory.appendingPathComponent("controls")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let yaml = """
      id: probe
      title: Probe
      description: Fetches one URL.
      criteria: [CC7.1]
      owner: tests
      severity: low
      frequency: daily
      collector:
        kind: http
        url: \(url)
        timeout: \(timeout)
      expect:
        - fact: status
          equals: 200
      """
    try Data(yaml.utf8).write(to: folder.appendingPathComponent("probe.yaml"))
  }

  @Test func executableIsBuilt() {
    #expect(
      FileManager.default.isExecutableFile(atPath: Repository.vouchExecutable.path),
      "build the vouch product before testing (scripts/test.sh does)")
  }

  @Test func invalidDefinitionsExitThreeWithTheirLocation() throws {
    let work = try TestScratch.makeDirectory("cli-invalid")
    try controls(in: work, url: "ftp://127.0.0.1/")
    let validate = try run(["validate", "controls"], in: work)
    #expect(validate.status == 3)
    #expect(validate.output.contains("controls/probe.yaml:10:8: error: collector.url: "))
    let run = try run(["run"], in: work)
    #expect(run.status == 3)
    #expect(run.output.contains("vouch run: nothing ran"))
    #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("evidence").path))
  }

  @Test func secondRunExitsAtOnceAndAKilledRunLeavesNoBundle() async throws {
    let silent = try SilentServer()
    let work = try TestScratch.makeDirectory("cli-lock")
    try controls(in: work, url: silent.url, timeout: "60s")

    // The first run hangs on a server that never answers, holding the lock.
    let (first, _) = try start(["run"], in: work)
    let lockFile = work.appendingPathComponent("evidence/.vouch.lock")
    let staging = work.appendingPathComponent("evidence/.staging")
    for _ in 0..<200 where (try? FileManager.default.contentsOfDirectory(atPath: staging.path))?.isEmpty ?? true {
      try await Task.sleep(for: .milliseconds(25))
    }
    #expect(FileManager.default.fileExists(atPath: lockFile.path))

    let started = Date()
    let second = try run(["run"], in: work)
    #expect(second.status == 4)
    #expect(second.output.contains("another vouch run (pid \(first.processIdentifier) on "))
    // The first run holds the lock for up to 60 s; a second run that waited for it would take that long.
    #expect(Date().timeIntervalSince(started) < 30, "a locked evidence folder must be refused at once")

    // Killed mid-run: nothing that looks like a bundle, and the next run works and cleans up.
    kill(first.processIdentifier, SIGKILL)
    first.waitUntilExit()
    TestScratch.forget(child: first.processIdentifier)
    let bundles = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("evidence").path)
      .filter { !$0.hasPrefix(".") }
    #expect(bundles.isEmpty)

    let nginx = try await NginxServer.start([.http("ok", [.text("/", body: "fine")])])
    defer { nginx.stop() }
    try controls(in: work, url: nginx.url("ok", "/"))
    let third = try run(["run", "--reports", "reports"], in: work)
    #expect(third.status == 0, "\(third.output)")
    #expect(third.output.contains("controls: 1 pass, 0 fail, 0 error, 0 skipped"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: staging.path).isEmpty)
    let verify = try run(["verify", "evidence"], in: work)
    #expect(verify.status == 0, "\(verify.output)")
    #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("reports/latest.html").path))
  }

  @Test func verifyExitsOneAndNamesATamperedFile() async throws {
    let nginx = try await NginxServer.start([.http("ok", [.text("/", body: "fine")])])
    defer { nginx.stop() }
    let work = try TestScratch.makeDirectory("cli-verify")
    try controls(in: work, url: nginx.url("ok", "/"))
    #expect(try run(["run"], in: work).status == 0)
    let evidence = work.appendingPathComponent("evidence")
    let bundle = try #require(try FileManager.default.contentsOfDirectory(atPath: evidence.path).first { !$0.hasPrefix(".") })
    let body = evidence.appendingPathComponent("\(bundle)/controls/probe/response-body")
    try Data("fine!".utf8).write(to: body)
    let verify = try run(["verify", "evidence"], in: work)
    #expect(verify.status == 1)
    #expect(verify.output.contains("\(bundle)/controls/probe/response-body: changed: SHA-256 "))
  }

  @Test func keygenSignedRunAndVerifyWithTheKey() async throws {
    let nginx = try await NginxServer.start([.http("ok", [.text("/", body: "fine")])])
    defer { nginx.stop() }
    let work = try TestScratch.makeDirectory("cli-sign")
    try controls(in: work, url: nginx.url("ok", "/"))
    let keygen = try run(["keygen", "--private-key", "k.pem", "--public-key", "k.pub.pem"], in: work)
    #expect(keygen.status == 0, "\(keygen.output)")
    let mode = try FileManager.default.attributesOfItem(atPath: work.appendingPathComponent("k.pem").path)[.posixPermissions]
    #expect(mode as? Int == 0o600)
    #expect(try run(["keygen", "--private-key", "k.pem", "--public-key", "k.pub.pem"], in: work).status == 3)

    let signed = try run(["run", "--sign-key", "k.pem"], in: work)
    #expect(signed.status == 0, "\(signed.output)")
    #expect(signed.output.contains("signed by: "))
    let verify = try run(["verify", "evidence", "--key", "k.pub.pem"], in: work)
    #expect(verify.status == 0, "\(verify.output)")
    #expect(verify.output.contains("1 of 1 bundle(s) signed by "))
  }
}
