import Foundation
import Synchronization

/// A real nginx on 127.0.0.1, configured from a Swift description, for tests that need genuine HTTP and TLS.
///
/// Each `start` runs its own single-process nginx (`master_process off`) in a private prefix, so tests run in parallel
/// with different configurations. Servers are named; a directive may say `{port:NAME}` or `{url:NAME}` to point at
/// another server of the same instance (e.g. an http listener redirecting to the https one).
///
///     let certificates = try TestCertificates.shared()
///     let nginx = try await NginxServer.start([
///       .http("plain", [.redirect("/", to: "{url:secure}/")]),
///       .https("secure", certificates.caSigned, [.text("/", body: "hello")]),
///     ])
///     defer { nginx.stop() }
///     let url = nginx.url("plain", "/")   // http://127.0.0.1:PORT/
///
/// Nothing outlives the test process: `stop()` (or deinit) ends nginx, an atexit hook kills any instance still
/// running, and a watchdog shell kills nginx if the test process dies without running atexit hooks.
final class NginxServer: Sendable {
  /// One `location` block.
  struct Location: Sendable {
    /// What follows `location`: `/prefix`, `= /exact`, `~ regex`.
    var match: String
    /// nginx directives without the trailing `;`; `{port:NAME}` and `{url:NAME}` are expanded.
    var directives: [String]

    init(_ match: String, _ directives: [String]) {
      self.match = match
      self.directives = directives
    }

    /// A fixed body (no `$`; nginx would read it as a variable) with a status, content type and extra headers.
    static func text(
      _ match: String, status: Int = 200, body: String, contentType: String = "text/plain",
      headers: [(String, String)] = []
    ) -> Location {
      precondition(!body.contains("$"), "nginx cannot return a literal $ from `return`")
      let escaped = body.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
      return Location(
        match, ["default_type \"\(contentType)\""] + addHeaders(headers) + ["return \(status) \"\(escaped)\""])
    }

    /// A redirect; `target` may be relative (`/next`, `next`) or absolute (`{url:other}/path`).
    static func redirect(_ match: String, status: Int = 301, to target: String) -> Location {
      Location(match, ["return \(status) \"\(target)\""])
    }

    /// Serves the files of `directory` below `match` (which must end with `/`).
    static func files(
      _ match: String, directory: URL, contentType: String = "application/octet-stream",
      headers: [(String, String)] = []
    ) -> Location {
      Location(
        match, ["alias \(directory.path)/", "types { }", "default_type \"\(contentType)\""] + addHeaders(headers))
    }

    private static func addHeaders(_ headers: [(String, String)]) -> [String] {
      headers.map { "add_header \($0.0) \"\($0.1.replacingOccurrences(of: "\"", with: "\\\""))\" always" }
    }
  }

  /// One `server` block with its own listener.
  struct Server: Sendable {
    var name: String
    var tls: TestCertificates.Identity?
    var locations: [Location]
    /// Server-level directives without the trailing `;`, e.g. `ssl_protocols TLSv1.3`, `ssl_ciphers …`,
    /// `ssl_dhparam /path`, `ssl_ecdh_curve X25519:prime256v1`, `ssl_prefer_server_ciphers on`.
    var directives: [String] = []

    static func http(_ name: String, _ locations: [Location]) -> Server {
      Server(name: name, tls: nil, locations: locations)
    }

    static func https(
      _ name: String, _ identity: TestCertificates.Identity, _ locations: [Location], directives: [String] = []
    ) -> Server {
      Server(name: name, tls: identity, locations: locations, directives: directives)
    }
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// Server name → listening port.
  let ports: [String: Int]
  /// nginx's prefix folder: config, error log, pid and temp files.
  let prefix: URL
  private let servers: [Server]
  private let process: ProcessBox

  private init(ports: [String: Int], prefix: URL, servers: [Server], process: ProcessBox) {
    self.ports = ports
    self.prefix = prefix
    self.servers = servers
    self.process = process
  }

  deinit {
    stop()
  }

  /// `http(s)://127.0.0.1:PORT` + `path` for the named server.
  func url(_ server: String, _ path: String = "/") -> String {
    Self.baseURL(of: server, servers: servers, ports: ports) + path
  }

  /// Starts nginx and returns once every listener accepts connections; retries with new ports if one was taken.
  static func start(_ servers: [Server]) async throws -> NginxServer {
    precondition(Set(servers.map(\.name)).count == servers.count, "server names must be unique")
    let prefix = try TestScratch.makeDirectory("nginx")
    var lastLog = ""
    for _ in 0..<5 {
      let chosen = try LocalPorts.reserve(servers.count)
      let ports = Dictionary(uniqueKeysWithValues: zip(servers.map(\.name), chosen))
      let configuration = prefix.appendingPathComponent("nginx.conf")
      try Data(render(servers, ports: ports, prefix: prefix).utf8).write(to: configuration)
      let errorLog = prefix.appendingPathComponent("error.log")
      try? FileManager.default.removeItem(at: errorLog)
      let process = try launch(prefix: prefix, configuration: configuration, errorLog: errorLog)
      if try await waitUntilReady(process, ports: Array(ports.values)) {
        return NginxServer(ports: ports, prefix: prefix, servers: servers, process: ProcessBox(process))
      }
      process.waitUntilExit()
      TestScratch.forget(child: process.processIdentifier)
      lastLog = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
      guard lastLog.contains("Address already in use") else { break }
    }
    throw Failure(description: "nginx did not start:\n\(lastLog)")
  }

  /// Ends nginx and waits for it; safe to call more than once.
  func stop() {
    process.terminate()
  }

  // MARK: Internals

  private static func baseURL(of server: String, servers: [Server], ports: [String: Int]) -> String {
    guard let port = ports[server], let description = servers.first(where: { $0.name == server }) else {
      preconditionFailure("no server named \(server)")
    }
    return "\(description.tls == nil ? "http" : "https")://127.0.0.1:\(port)"
  }

  static func render(_ servers: [Server], ports: [String: Int], prefix: URL) -> String {
    func expand(_ text: String) -> String {
      var text = text
      for server in servers {
        text = text.replacingOccurrences(of: "{port:\(server.name)}", with: String(ports[server.name] ?? 0))
        text = text.replacingOccurrences(
          of: "{url:\(server.name)}", with: baseURL(of: server.name, servers: servers, ports: ports))
      }
      return text
    }
    let temp = prefix.appendingPathComponent("temp").path
    var lines = [
      "error_log \(prefix.path)/error.log warn;",
      "pid \(prefix.path)/nginx.pid;",
      "worker_rlimit_nofile 8192;",
      "events { worker_connections 4096; }",
      "http {",
      "  access_log off;",
      "  client_body_temp_path \(temp)/body;",
      "  proxy_temp_path \(temp)/proxy;",
      "  fastcgi_temp_path \(temp)/fastcgi;",
      "  uwsgi_temp_path \(temp)/uwsgi;",
      "  scgi_temp_path \(temp)/scgi;",
      "  default_type application/octet-stream;",
      "  keepalive_requests 100000;",
      "  server_tokens off;",
      "  absolute_redirect off;",
    ]
    for server in servers {
      let port = ports[server.name] ?? 0
      lines.append("  server {")
      if let tls = server.tls {
        lines.append("    listen 127.0.0.1:\(port) ssl;")
        lines.append("    ssl_certificate \(tls.certificate.path);")
        lines.append("    ssl_certificate_key \(tls.key.path);")
      } else {
        lines.append("    listen 127.0.0.1:\(port);")
      }
      lines += server.directives.map { "    \($0);" }
      for location in server.locations {
        lines.append("    location \(location.match) {")
        // Block directives (`types { }`) take no terminating semicolon.
        lines += location.directives.map { "      \(expand($0))\($0.hasSuffix("}") ? "" : ";")" }
        lines.append("    }")
      }
      lines.append("  }")
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }

  private static func launch(prefix: URL, configuration: URL, errorLog: URL) throws -> Process {
    try FileManager.default.createDirectory(
      at: prefix.appendingPathComponent("temp"), withIntermediateDirectories: true)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
    process.arguments = [
      "-p", prefix.path, "-c", configuration.path, "-e", errorLog.path, "-g", "daemon off; master_process off;",
    ]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let pid = process.processIdentifier
    TestScratch.register(child: pid)
    // Kills nginx if this test process dies without running its atexit hooks (crash, SIGKILL).
    let watchdog = Process()
    watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
    let parent = getpid()
    watchdog.arguments = [
      "-c",
      "while kill -0 \(parent) && kill -0 \(pid); do sleep 0.5; done 2>/dev/null; kill -9 \(pid) 2>/dev/null",
    ]
    watchdog.standardOutput = FileHandle.nullDevice
    watchdog.standardError = FileHandle.nullDevice
    try watchdog.run()
    return process
  }

  /// True once every port accepts; false if nginx exited first. Throws after 10 s.
  private static func waitUntilReady(_ process: Process, ports: [Int]) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
      guard process.isRunning else { return false }
      if ports.allSatisfy(LocalPorts.accepts) { return true }
      try await Task.sleep(for: .milliseconds(20))
    }
    kill(process.processIdentifier, SIGKILL)
    throw Failure(description: "nginx did not accept connections within 10 s")
  }
}

/// Owns the nginx `Process`; Foundation's `Process` is not Sendable, so every use goes through the lock.
private final class ProcessBox: Sendable {
  private let process: Mutex<Process?>

  init(_ process: Process) {
    self.process = Mutex(process)
  }

  func terminate() {
    guard
      let process = self.process.withLock({ current in
        defer { current = nil }
        return current
      })
    else { return }
    let pid = process.processIdentifier
    // nginx inherits the test process's blocked-signal mask (SIGTERM included), so only SIGKILL reliably stops it.
    kill(pid, SIGKILL)
    process.waitUntilExit()
    TestScratch.forget(child: pid)
  }
}
