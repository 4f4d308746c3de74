import Foundation
import Testing

@testable import VouchKit

@Suite struct ReportWriterTests {
  /// A scratch folder holding an evidence bundle with one real artifact file.
  struct Workspace {
    let root: URL
    let evidence: URL
    let reports: URL

    init(evidence: String = "evidence", reports: String = "reports") throws {
      root = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-reports-\(UUID().uuidString)")
      self.evidence = root.appendingPathComponent(evidence, isDirectory: true)
      self.reports = root.appendingPathComponent(reports, isDirectory: true)
    }

    func makeBundle(_ run: RunRecord) throws -> URL {
      let bundle = evidence.appendingPathComponent(run.bundleName, isDirectory: true)
      let artifact = bundle.appendingPathComponent(run.results[0].artifacts[0].path)
      try FileManager.default.createDirectory(
        at: artifact.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data("{}".utf8).write(to: artifact)
      return bundle
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
  }

  let clock = FixedClock(ReportFixtures.generatedAt)

  @Test func writesReportsAndLatestWhereExpected() throws {
    let workspace = try Workspace()
    defer { workspace.remove() }
    let run = ReportFixtures.run()
    let bundle = try workspace.makeBundle(run)

    let written = try ReportWriter(clock: clock).write(run, to: workspace.reports, bundle: bundle)

    let folder = workspace.reports.appendingPathComponent(run.bundleName)
    #expect(written.reports.map(\.path) == ["report.html", "report.xml", "report.junit.xml", "report.oscal.json"].map { folder.appendingPathComponent($0).path })
    let top = workspace.reports
    #expect(written.latest.map(\.path) == ["latest.html", "latest.xml", "latest.junit.xml", "latest.oscal.json"].map { top.appendingPathComponent($0).path })
    for url in written.reports + written.latest { #expect(FileManager.default.fileExists(atPath: url.path)) }
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }
    #expect(leftovers.isEmpty)

    let xml = try Data(contentsOf: written.reports[1])
    #expect(try Data(contentsOf: written.latest[1]) == xml)
    #expect(xml == (try XMLReport().render(run, context: ReportFixtures.context)))
    let latestHTML = try String(contentsOf: written.latest[0], encoding: .utf8)
    #expect(latestHTML.contains("<base href=\"\(run.bundleName)/\">"))
    #expect(!(try String(contentsOf: written.reports[0], encoding: .utf8)).contains("<base"))
  }

  @Test(arguments: [("evidence", "reports"), ("var/lib/vouch/evidence", "srv/reports"), ("out", "out/reports")])
  func evidenceLinksResolveToTheBundle(evidence: String, reports: String) throws {
    let workspace = try Workspace(evidence: evidence, reports: reports)
    defer { workspace.remove() }
    let run = ReportFixtures.run()
    let bundle = try workspace.makeBundle(run)
    let artifactPath = run.results[0].artifacts[0].path

    let written = try ReportWriter(clock: clock).write(run, to: workspace.reports, bundle: bundle)

    // As a browser would: resolve the link against the document's URL, or against its <base href> when it has one.
    let expected = bundle.appendingPathComponent(artifactPath).standardizedFileURL.path
    let reportHTML = try String(contentsOf: written.reports[0], encoding: .utf8)
    let reportLink = try #require(Self.href(endingWith: artifactPath, in: reportHTML))
    let fromReport = try #require(URL(string: reportLink, relativeTo: written.reports[0]))
    #expect(fromReport.standardizedFileURL.path == expected)
    #expect(FileManager.default.fileExists(atPath: fromReport.standardizedFileURL.path))

    let latestHTML = try String(contentsOf: written.latest[0], encoding: .utf8)
    let base = try #require(URL(string: "\(run.bundleName)/", relativeTo: written.latest[0]))
    let latestLink = try #require(Self.href(endingWith: artifactPath, in: latestHTML))
    let fromLatest = try #require(URL(string: latestLink, relativeTo: base))
    #expect(fromLatest.standardizedFileURL.path == expected)
  }

  @Test func olderBundleLeavesLatestOnTheNewest() throws {
    let workspace = try Workspace()
    defer { workspace.remove() }
    let newer = ReportFixtures.run()
    var older = ReportFixtures.run()
    older.bundleName = "20261128T060000Z-99aa88bb"
    older.host = "older-host"
    let writer = ReportWriter(clock: clock)
    try writer.write(newer, to: workspace.reports, bundle: try workspace.makeBundle(newer))

    let written = try writer.write(older, to: workspace.reports, bundle: try workspace.makeBundle(older))

    #expect(written.reports.count == ReportRegistry.builtIn.count)
    #expect(written.latest.isEmpty)
    let latest = try String(contentsOf: workspace.reports.appendingPathComponent("latest.xml"), encoding: .utf8)
    #expect(latest.contains("<bundleName>\(newer.bundleName)</bundleName>"))
  }

  @Test func foldersWithoutReportsDoNotPinLatest() throws {
    let workspace = try Workspace()
    defer { workspace.remove() }
    try FileManager.default.createDirectory(
      at: workspace.reports.appendingPathComponent("archive"), withIntermediateDirectories: true)
    let run = ReportFixtures.run()

    let written = try ReportWriter(clock: clock).write(run, to: workspace.reports, bundle: try workspace.makeBundle(run))

    #expect(written.latest.count == ReportRegistry.builtIn.count)
  }

  @Test(arguments: ["", ".", "..", "../escape", "a/b", ".hidden"])
  func rejectsBundleNamesThatAreNotOneFolder(name: String) throws {
    let workspace = try Workspace()
    defer { workspace.remove() }
    var run = ReportFixtures.run()
    run.bundleName = name
    #expect(throws: ReportError.self) {
      try ReportWriter(clock: clock).write(run, to: workspace.reports, bundle: workspace.evidence)
    }
  }

  @Test func reportsWhereTheReportsDirectoryCannotBeCreated() throws {
    let workspace = try Workspace()
    defer { workspace.remove() }
    try FileManager.default.createDirectory(at: workspace.root, withIntermediateDirectories: true)
    try Data().write(to: workspace.reports)  // a file where the folder should be
    let error = #expect(throws: ReportError.self) {
      try ReportWriter(clock: clock).write(ReportFixtures.run(), to: workspace.reports, bundle: workspace.evidence)
    }
    #expect(error?.description.contains(workspace.reports.path) == true)
  }

  @Test(arguments: [
    ("/a/reports/b", "/a/evidence/b", "../../evidence/b/"),
    ("/a/reports/b", "/a/reports/b", "./"),
    ("/a/reports/b", "/a/reports/b/inner", "inner/"),
    ("/x/reports/b", "/y/my evidence/b", "../../../y/my%20evidence/b/"),
    ("/a/./reports/../reports/b/", "/a/evidence/b/", "../../evidence/b/"),
  ])
  func relativeFolderReferences(from: String, to: String, expected: String) {
    let reference = URLReference.relativeFolder(
      from: URL(fileURLWithPath: from, isDirectory: true), to: URL(fileURLWithPath: to, isDirectory: true))
    #expect(reference == expected)
  }

  static func href(endingWith path: String, in html: String) -> String? {
    html.components(separatedBy: "href=\"").dropFirst()
      .compactMap { $0.split(separator: "\"", maxSplits: 1).first.map(String.init) }
      .first { $0.hasSuffix(path) }
  }
}
