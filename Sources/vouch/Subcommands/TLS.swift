import ArgumentParser
import Foundation
import VouchKit

struct TLS: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tls",
    abstract: "Scan one TLS endpoint and print the scan record (the tls collector's JSON evidence) to standard output.",
    discussion: "Exits 0 when the endpoint complies with the profile, 1 when it deviates, 2 when the scan failed."
  )

  @Argument(help: "HOST:PORT, or [IPv6]:PORT; the port defaults to 443.")
  var endpoint: String

  @Option(help: "Server name to send (SNI) and check the certificate against.")
  var sni: String?

  @Option(help: "PEM file of CAs to trust instead of the system store.")
  var caBundle: String?

  @Option(help: "Mozilla profile: modern, intermediate or old.")
  var profile: String = "intermediate"

  @Option(help: "Fewest days the certificate may have left.")
  var minDaysLeft: Int = 30

  @Option(help: "Handshakes in flight at once.")
  var concurrency: Int = 16

  @Option(help: "Seconds allowed for each probe's connection and handshake.")
  var connectTimeout: Double = 5

  func validate() throws {
    guard MozillaProfile.named(profile) != nil else {
      throw ValidationError("unknown profile '\(profile)'; use modern, intermediate or old")
    }
    guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 64") }
    guard connectTimeout > 0 else { throw ValidationError("--connect-timeout must be more than 0") }
    _ = try target()
  }

  func run() async throws {
    guard let mozilla = MozillaProfile.named(profile) else { return }
    let now = Date()
    var options = TLSScanOptions(now: now)
    options.caBundle = caBundle
    options.concurrency = concurrency
    options.connectTimeout = connectTimeout
    let scan: TLSScanResult
    do {
      scan = try await TLSScanner.scan(try target(), options: options)
    } catch {
      printError("vouch tls: \(error)")
      throw ExitCode(VouchExitCode.errors.rawValue)
    }
    let verdict = TLSVerdict(scan: scan, profile: mozilla, minDaysLeft: minDaysLeft, now: now)
    let record = TLSScanRecord(scan: scan, verdict: verdict, scannedAt: now)
    FileHandle.standardOutput.write(try BundleJSON.encode(record))
    if !verdict.all.isEmpty { throw ExitCode(VouchExitCode.failures.rawValue) }
  }

  /// Splits `HOST:PORT`; a bare IPv6 address needs brackets so its colons are not read as a port.
  private func target() throws -> TLSTarget {
    var host = endpoint
    var port = 443
    if endpoint.hasPrefix("[") {
      guard let close = endpoint.firstIndex(of: "]") else { throw ValidationError("'\(endpoint)' lacks a closing ]") }
      host = String(endpoint[endpoint.index(after: endpoint.startIndex)..<close])
      let rest = endpoint[endpoint.index(after: close)...]
      if !rest.isEmpty {
        guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()) else {
          throw ValidationError("'\(endpoint)' is not [IPv6]:PORT")
        }
        port = value
      }
    } else if let colon = endpoint.lastIndex(of: ":"), endpoint.firstIndex(of: ":") == colon {
      host = String(endpoint[..<colon])
      guard let value = Int(endpoint[endpoint.index(after: colon)...]) else {
        throw ValidationError("'\(endpoint)' is not HOST:PORT")
      }
      port = value
    }
    guard !host.isEmpty, (1...65_535).contains(port) else { throw ValidationError("'\(endpoint)' is not HOST:PORT") }
    return TLSTarget(host: host, port: port, serverName: sni)
  }
}
