import Foundation
import Synchronization

/// Temporary folders and child processes that must not outlive the test process.
///
/// Everything lives under one folder per test process, removed at exit together with any child process still
/// registered, so a failing test never leaves a server or gigabytes of fixtures behind.
enum TestScratch {
  private static let state = Mutex<(root: URL?, children: [pid_t])>((nil, []))

  /// A new empty folder, unique within this test process.
  static func makeDirectory(_ label: String) throws -> URL {
    let root = try rootDirectory()
    let directory = root.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
  }

  /// Kills `pid` with SIGKILL at process exit unless `forget` was called first.
  static func register(child pid: pid_t) {
    _ = cleanupInstalled
    state.withLock { $0.children.append(pid) }
  }

  static func forget(child pid: pid_t) {
    state.withLock { $0.children.removeAll { $0 == pid } }
  }

  private static func rootDirectory() throws -> URL {
    _ = cleanupInstalled
    return try state.withLock { state in
      if let root = state.root { return root }
      removeLeftovers()
      let root = FileManager.default.temporaryDirectory.appendingPathComponent(
        "\(prefix)\(getpid())", isDirectory: true)
      try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
      state.root = root
      return root
    }
  }

  private static let prefix = "vouch-tests-"

  /// Folders of earlier test processes that were killed before their atexit hook could run.
  private static func removeLeftovers() {
    let temporary = FileManager.default.temporaryDirectory
    let names = (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []
    for name in names where name.hasPrefix(prefix) {
      guard let pid = pid_t(name.dropFirst(prefix.count)), kill(pid, 0) != 0, errno == ESRCH else { continue }
      try? FileManager.default.removeItem(at: temporary.appendingPathComponent(name))
    }
  }

  private static let cleanupInstalled: Bool = {
    atexit {
      let (root, children) = TestScratch.state.withLock { ($0.root, $0.children) }
      for pid in children { kill(pid, SIGKILL) }
      if let root { try? FileManager.default.removeItem(at: root) }
    }
    return true
  }()
}

/// Runs a command line tool to completion, failing with its output when it does not succeed.
enum Command {
  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  @discardableResult
  static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = directory
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0 else {
      throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) failed: \(text)")
    }
    return text
  }
}
