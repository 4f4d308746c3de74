import ArgumentParser
import Foundation
import VouchKit

struct SecurityTxt: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "security-txt",
    abstract: "Lint security.txt files or sites against RFC 9116 and print every diagnostic.",
    discussion: """
      Each TARGET is a file or an https:// URL (a site: both RFC 9116 locations are fetched). Many files are linted \
      in one process; pass thousands through --files-from rather than as arguments. Exits 0 when every target is \
      valid, 1 when one is invalid, 2 when one could not be read or fetched (or gpgv could not run), 3 on usage \
      errors. Codes and rules: docs/security-txt.md.
      """
  )

  @Argument(help: "security.txt files or https:// URLs.")
  var targets: [String] = []

  @Option(help: "Also lint the files or URLs listed in this file, one per line ('-' reads standard input).")
  var filesFrom: String?

  @Option(help: "Evaluate Expires at this RFC 3339 instant instead of now (reproducible linting).")
  var now: String?

  @Option(name: .customLong("url"), help: "URL a local file is served from, for the Canonical match (repeatable).")
  var assumedURLs: [String] = []

  @Option(help: "Pinned OpenPGP public key (armoured or binary) or keyring; the signature must verify with it.")
  var key: String?

  @Option(help: "Fingerprint the signing key in --key must have.")
  var fingerprint: String?

  @Flag(help: "An unsigned file is an error.")
  var requireSignature = false

  @Option(help: "Contact that must be listed, e.g. mailto:security@example.com (repeatable).")
  var expectContact: [String] = []

  @Option(help: "Fewer whole days left before Expires is an error.")
  var minDays: Int?

  @Option(help: "PEM file of CAs to trust for https:// targets.")
  var caBundle: String?

  @Option(help: "Seconds allowed for each request.")
  var timeout: Double = 30

  @Flag(help: "Print one JSON array instead of text.")
  var json = false

  @Flag(help: "Print only each target's verdict line.")
  var quiet = false

  func validate() throws {
    if let now, Timestamp.parse(now) == nil {
      throw ValidationError("--now '\(now)' is not an RFC 3339 date-time such as 2026-11-29T05:21:33Z")
    }
    if fingerprint != nil, key == nil { throw ValidationError("--fingerprint needs --key, the key file to find it in") }
    if targets.isEmpty, filesFrom == nil { throw ValidationError("give at least one FILE or URL, or --files-from") }
  }

  func run() async throws {
    var targets = targets
    if let filesFrom {
      let data: Data
      do {
        data =
          filesFrom == "-"
          ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: filesFrom))
      } catch {
        printError("vouch security-txt: cannot read --files-from \(filesFrom): \(error.localizedDescription)")
        throw ExitCode(VouchExitCode.invalidInput.rawValue)
      }
      targets += data.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
    }
    let instant = now.flatMap(Timestamp.parse) ?? SystemClock().now()
    let policy = SecurityTxtPolicy(
      expectedContacts: expectContact, minDaysBeforeExpiry: minDays, requireSignature: requireSignature,
      pin: key.map { OpenPGPKeyPin(keyFile: URL(fileURLWithPath: $0), fingerprint: fingerprint) })
    let linter = SecurityTxtLinter(
      now: instant, assumedURLs: assumedURLs, policy: policy, caBundle: caBundle, timeout: timeout,
      environment: ProcessInfo.processInfo.environment)
    let http = targets.contains(where: SecurityTxtLinter.isURL) ? HTTPClient(maxConnections: 8) : nil
    defer { http?.shutdown() }
    var results: [SecurityTxtLinter.Result] = []
    var failed = false
    var invalid = false
    for target in targets {
      do {
        let result =
          if let http, SecurityTxtLinter.isURL(target) {
            try await linter.lint(url: target, http: http)
          } else {
            try await linter.lint(file: target)
          }
        invalid = invalid || !result.valid
        if json { results.append(result) } else { printText(result) }
      } catch {
        failed = true
        printError("vouch security-txt: \(target): \(error)")
      }
    }
    if json {
      let data = try BundleJSON.encoder().encode(results)
      print(String(decoding: data, as: UTF8.self))
    }
    if failed { throw ExitCode(VouchExitCode.errors.rawValue) }
    if invalid { throw ExitCode(VouchExitCode.failures.rawValue) }
  }

  private func printText(_ result: SecurityTxtLinter.Result) {
    let report = result.report
    var counts: [SecurityTxtSeverity: Int] = [:]
    for diagnostic in report.diagnostics { counts[diagnostic.severity, default: 0] += 1 }
    let summary = SecurityTxtSeverity.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)s" }.joined(separator: ", ")
    print("\(result.target): \(result.valid ? "valid" : "invalid") (\(summary))")
    if let verification = result.verification { print("  signature: \(verification.detail)") }
    guard !quiet else { return }
    for diagnostic in report.diagnostics { print("  \(diagnostic)") }
  }
}
