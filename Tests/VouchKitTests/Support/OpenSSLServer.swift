import Foundation
import Synchronization

/// `openssl s_server` on 127.0.0.1, for handshakes nginx cannot produce (handshake messages split across small
/// records, PSK-only suites). It serves one connection at a time, which is all a probe needs.
final class OpenSSLServer: Sendable {
  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  let port: Int
  private let process: Mutex<Process?>

  /// Starts `s_server` with `arguments` (certificate, suites, …) and returns once it accepts connections.
  init(_ arguments: [String]) async throws {
    var lastOutput = ""
    for _ in 0..<5 {
      let port = try LocalPorts.reserve(1)[0]
      let log = try TestScratch.makeDirectory("s_server").appendingPathComponent("output.txt")
      try Data().write(to: log)
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
      process.arguments = ["s_server", "-quiet", "-www", "-accept", "127.0.0.1:\(port)"] + arguments
      process.standardInput = FileHandle.nullDevice
      let output = try FileHandle(forWritingTo: log)
      process.standardOutput = output
      process.standardError = output
      try process.run()
      TestScratch.register(child: process.processIdentifier)
      let deadline = ContinuousClock.now + .seconds(10)
      while process.isRunning, !LocalPorts.accepts(port), ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(20))
      }
      if process.isRunning, LocalPorts.accepts(port) {
        self.port = port
        self.process = Mutex(process)
        return
      }
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      TestScratch.forget(child: process.processIdentifier)
      lastOutput = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    }
    throw Failure(description: "openssl s_server did not start:\n\(lastOutput)")
  }

  deinit {
    stop()
  }

  /// Ends the server and waits for it; safe to call more than once.
  func stop() {
    guard
      let process = process.withLock({ current in
        defer { current = nil }
        return current
      })
    else { return }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    TestScratch.forget(child: process.processIdentifier)
  }
}
