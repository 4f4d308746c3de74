import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A live one-line counter for people watching a terminal.
public final class TerminalProgress: RunProgress {
  private let lastWidth = Mutex(0)

  public init() {}

  public func started(total: Int) {
    draw("running \(total) control(s)…")
  }

  public func finished(_ result: ControlResult, completed: Int, total: Int) {
    if result.status == .fail || result.status == .error {
      // Problems stay on screen; the counter is redrawn below them.
      draw("")
      FileHandle.standardError.write(Data("\(result.status.rawValue.uppercased()) \(result.id)\n".utf8))
    }
    draw("[\(completed)/\(total)] \(result.status.rawValue) \(result.id)")
    if completed == total { FileHandle.standardError.write(Data("\n".utf8)) }
  }

  private func draw(_ text: String) {
    let padding = lastWidth.withLock { width -> Int in
      defer { width = text.count }
      return max(0, width - text.count)
    }
    FileHandle.standardError.write(Data(("\r" + text + String(repeating: " ", count: padding) + "\r" + text).utf8))
  }

  /// Whether standard error is a terminal, deciding between this and `LogProgress`.
  public static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}

/// One log line per control, for cron mail, journald and Kubernetes logs.
public struct LogProgress: RunProgress {
  let logger: Logger

  public init(logger: Logger) {
    self.logger = logger
  }

  public func started(total: Int) {
    logger.info("run started", metadata: ["controls": "\(total)"])
  }

  public func finished(_ result: ControlResult, completed: Int, total: Int) {
    var metadata: Logger.Metadata = [
      "control": "\(result.id)", "status": "\(result.status.rawValue)", "progress": "\(completed)/\(total)",
    ]
    if let reason = result.reason { metadata["reason"] = "\(reason)" }
    if !result.findings.isEmpty { metadata["findings"] = "\(result.findings.count)" }
    let level: Logger.Level = result.status == .error ? .error : (result.status == .fail ? .warning : .info)
    logger.log(level: level, "control finished", metadata: metadata)
  }
}

/// Log lines as `time=… level=… msg="…" key=value`, one per event, easy to grep and to ship to a log store.
public struct LogfmtLogHandler: LogHandler {
  public var metadata: Logger.Metadata = [:]
  public var logLevel: Logger.Level = .info
  let label: String

  public init(label: String) {
    self.label = label
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
    var line = "time=\(Timestamp.format(Date())) level=\(event.level.rawValue) msg=\(Self.quote(event.message.description))"
    for key in merged.keys.sorted() {
      line += " \(key)=\(Self.quote(merged[key]?.description ?? ""))"
    }
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }

  static func quote(_ value: String) -> String {
    let plain = !value.isEmpty && value.allSatisfy { !$0.isWhitespace && $0 != "\"" && $0 != "=" && $0 != "\\" }
    if plain { return value }
    return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
      .replacingOccurrences(of: "\n", with: "\\n") + "\""
  }
}
