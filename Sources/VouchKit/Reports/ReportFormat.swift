import Foundation

/// One way of presenting a `RunRecord` to people or tools; each format is one type in its own file, listed once in
/// `ReportRegistry.builtIn`.
public protocol ReportFormat: Sendable {
  /// Short lowercase identifier shown to users, such as `html`.
  var name: String { get }
  /// File extension without the dot; reports are written as `report.<ext>` and `latest.<ext>`.
  var fileExtension: String { get }
  /// Renders the whole report. Must be deterministic: the same record and context give the same bytes.
  ///
  /// - Throws: `ReportError` saying what could not be rendered.
  func render(_ run: RunRecord, context: ReportContext) throws -> Data

  /// The rendered document as published from the reports folder above its own (`latest.<ext>`), where relative
  /// links would otherwise resolve from the wrong folder. `baseHref` is that document's own folder, relative and
  /// ending in `/`. Formats without relative links publish the same bytes.
  func published(_ document: Data, baseHref: String) -> Data
}

extension ReportFormat {
  /// The name of this format's report inside a bundle's report folder.
  public var reportFileName: String { "report.\(fileExtension)" }
  /// The name of the copy of the newest report at the top of the reports directory.
  public var latestFileName: String { "latest.\(fileExtension)" }

  public func published(_ document: Data, baseHref: String) -> Data { document }
}

/// What a report needs that the run record does not carry: where the report will live and when it was made.
public struct ReportContext: Sendable, Hashable {
  /// URL-style relative reference from the report's folder to the bundle folder, ending in `/`
  /// (`../../evidence/<bundle>/`), so evidence links open the sealed files rather than copies.
  public var bundleHref: String
  /// When the report was generated; injected so output is reproducible.
  public var generatedAt: Date

  public init(bundleHref: String, generatedAt: Date) {
    self.bundleHref = bundleHref
    self.generatedAt = generatedAt
  }
}

/// A report could not be rendered or written.
public struct ReportError: Error, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
