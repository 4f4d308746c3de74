import Foundation
import Synchronization

/// The files one `ReportWriter.write` call produced.
public struct WrittenReports: Sendable, Hashable {
  /// `<reports>/<bundle>/report.<ext>`, one per format, in format order.
  public let reports: [URL]
  /// `<reports>/latest.<ext>`, in format order; empty when a newer bundle already has reports, so regenerating an
  /// old bundle's reports never moves `latest` backwards.
  public let latest: [URL]

  public init(reports: [URL], latest: [URL]) {
    self.reports = reports
    self.latest = latest
  }
}

/// Writes every report format for a run next to the other runs' reports and keeps `latest.*` on the newest run.
public struct ReportWriter: Sendable {
  /// Written in this order, which is also the order of the returned URLs.
  public let formats: [any ReportFormat]
  /// Stamps reports with their generation time; injected so tests and re-runs are reproducible.
  public let clock: any WallClock

  public init(formats: [any ReportFormat] = ReportRegistry.builtIn, clock: any WallClock) {
    self.formats = formats
    self.clock = clock
  }

  /// Writes `<reportsDirectory>/<bundleName>/report.<ext>` for every format, then `<reportsDirectory>/latest.<ext>`
  /// when this bundle is the newest one with reports. Each file is replaced atomically, so a reader never sees a
  /// half-written report.
  ///
  /// - Parameters:
  ///   - bundle: the run's bundle folder; evidence links are relative references to it, wherever it lives.
  /// - Throws: `ReportError` naming the file that could not be rendered or written.
  @discardableResult
  public func write(_ run: RunRecord, to reportsDirectory: URL, bundle: URL) throws -> WrittenReports {
    try Self.checkBundleName(run.bundleName)
    let folder = reportsDirectory.appendingPathComponent(run.bundleName, isDirectory: true)
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
      throw ReportError("cannot create report folder \(folder.path): \(error.localizedDescription)")
    }
    let context = ReportContext(
      bundleHref: URLReference.relativeFolder(from: folder, to: bundle), generatedAt: clock.now())
    let newest = try isNewest(run.bundleName, in: reportsDirectory)

    // Rendering a large run takes a while per document; the documents are independent, so use every core.
    let outcomes = Mutex([Int: Result<Data, any Error>]())
    DispatchQueue.concurrentPerform(iterations: formats.count) { index in
      let result = Result { try formats[index].render(run, context: context) }
      outcomes.withLock { $0[index] = result }
    }
    let rendered = try outcomes.withLock { results in
      try formats.indices.map { index -> Data in
        guard let result = results[index] else { throw ReportError("the \(formats[index].name) report was not rendered") }
        return try result.get()
      }
    }
    var reports: [URL] = []
    for (format, data) in zip(formats, rendered) {
      let url = folder.appendingPathComponent(format.reportFileName)
      try Self.writeAtomically(data, to: url)
      reports.append(url)
    }
    guard newest else { return WrittenReports(reports: reports, latest: []) }

    // latest.* lives one folder above report.*; each format publishes its document for that folder (the HTML adds
    // `<base href="<bundle>/">`, so its relative links resolve exactly as in report.html).
    let baseHref = URLReference.encodeSegment(run.bundleName) + "/"
    var latest: [URL] = []
    for (format, data) in zip(formats, rendered) {
      let url = reportsDirectory.appendingPathComponent(format.latestFileName)
      try Self.writeAtomically(format.published(data, baseHref: baseHref), to: url)
      latest.append(url)
    }
    return WrittenReports(reports: reports, latest: latest)
  }

  /// The bundle name becomes a folder name; refuse anything that could leave the reports directory.
  static func checkBundleName(_ name: String) throws {
    guard !name.isEmpty, name != ".", name != "..", !name.hasPrefix("."), !name.contains("/"), !name.contains("\0")
    else {
      throw ReportError("bundle name '\(name)' cannot name a report folder: it must be one path component")
    }
  }

  /// Bundle names start with a compact UTC timestamp, so the newest bundle's folder sorts last. Only folders holding
  /// a report count, so unrelated folders a user keeps in the reports directory cannot pin `latest`.
  func isNewest(_ bundleName: String, in reportsDirectory: URL) throws -> Bool {
    let entries: [URL]
    do {
      entries = try FileManager.default.contentsOfDirectory(
        at: reportsDirectory, includingPropertiesForKeys: [.isDirectoryKey], options: [.skipsHiddenFiles])
    } catch {
      throw ReportError("cannot list reports directory \(reportsDirectory.path): \(error.localizedDescription)")
    }
    return !entries.contains { entry in
      guard entry.lastPathComponent > bundleName,
        (try? entry.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true
      else { return false }
      return formats.contains {
        FileManager.default.fileExists(atPath: entry.appendingPathComponent($0.reportFileName).path)
      }
    }
  }

  /// Writes to a temporary file in the destination's folder, then renames it over the destination; `rename(2)`
  /// replaces atomically within one file system.
  static func writeAtomically(_ data: Data, to url: URL) throws {
    let temporary = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    do {
      try data.write(to: temporary, options: .withoutOverwriting)
    } catch {
      throw ReportError("cannot write \(temporary.path): \(error.localizedDescription)")
    }
    guard rename(temporary.path, url.path) == 0 else {
      let reason = String(cString: strerror(errno))
      try? FileManager.default.removeItem(at: temporary)
      throw ReportError("cannot move \(temporary.path) into place as \(url.path): \(reason)")
    }
  }
}
