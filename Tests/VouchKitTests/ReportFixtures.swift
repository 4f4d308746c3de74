import Foundation

@testable import VouchKit

/// Run records for report tests, built in code with fixed times so output is reproducible.
enum ReportFixtures {
  static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  static let goldenDirectory = testsDirectory.appendingPathComponent("Fixtures/golden", isDirectory: true)
  static let schema = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("schemas/vouch-report-1.xsd")

  static let bundleName = "20261129T060000Z-1a2b3c4d"
  static let generatedAt = date("2026-11-29T06:05:00Z")
  static let context = ReportContext(bundleHref: "../../evidence/\(bundleName)/", generatedAt: generatedAt)

  static func date(_ text: String) -> Date {
    guard let date = Timestamp.parse(text) else { fatalError("bad fixture timestamp \(text)") }
    return date
  }

  static func digest(_ seed: String) -> String { Digest.sha256(seed) }

  /// Four controls, one per status, with facts of every `FactValue` case, findings, artifacts and evidence links.
  static func run() -> RunRecord {
    RunRecord(
      runID: "1a2b3c4d", bundleName: bundleName, toolVersion: "0.1.0", host: "ci-runner-01",
      startedAt: date("2026-11-29T06:00:00Z"), finishedAt: date("2026-11-29T06:00:07Z"),
      parameters: RunParameters(
        controlsDirectory: "controls", variablesFile: "variables/production.yaml", concurrency: 4, timeout: 30,
        only: [], criteria: ["CC6.1", "CC7.2"]),
      definitionFiles: [
        DefinitionFile(path: "controls/access.yaml", sha256: digest("access.yaml")),
        DefinitionFile(path: "controls/backup.yaml", sha256: digest("backup.yaml")),
        DefinitionFile(path: "variables/production.yaml", sha256: digest("production.yaml")),
      ],
      results: [passing(), failing(), erroring(), skipped()],
      manifestDigest: digest("manifest"), previousBundle: "20261128T060000Z-99aa88bb",
      signerFingerprint: digest("signing key"),
      comparison: RunComparison(
        previousBundle: "20261128T060000Z-99aa88bb",
        newlyFailing: [RunComparison.Change(id: "backup.recent", from: .pass, to: .fail)],
        fixed: [RunComparison.Change(id: "access.mfa-enforced", from: .error, to: .pass)],
        otherChanges: [RunComparison.Change(id: "hr.policy-ack", from: .pass, to: .skipped)],
        added: ["endpoint.tls"], removed: ["legacy.vpn"]),
      waivers: [
        WaiverOutcome(
          waiver: waiver("W-2026-007", control: "endpoint", target: "api", expires: "2027-01-31T00:00:00Z"),
          state: .active, appliedTo: [], failingBecauseExpired: []),
        WaiverOutcome(
          waiver: waiver("W-2026-003", control: "backup.recent", target: nil, expires: "2026-11-15T00:00:00Z"),
          state: .expired, appliedTo: [], failingBecauseExpired: ["backup.recent"]),
      ])
  }

  static func passing() -> ControlResult {
    ControlResult(
      id: "access.mfa-enforced", title: "MFA is enforced on the identity provider",
      description: "Every interactive login to production requires a second factor.",
      criteria: ["CC6.1", "CC6.6"], owner: "security@example.com", severity: .critical, frequency: "daily",
      target: "production", collector: "http", status: .pass, reason: nil,
      facts: [
        "status": .integer(200),
        "mfa_required": .boolean(true),
        "coverage": .number(0.985),
        "policy": .string("require-mfa-all-users"),
        "methods": .list([.string("totp"), .string("webauthn")]),
        "headers": .map(["content-type": .string("application/json"), "x-request-id": .string("abc-123")]),
        "deprecated_field": .null,
      ],
      expectations: ["status equals 200", "mfa_required equals true", "coverage at-least 0.95"],
      findings: [],
      artifacts: [
        ArtifactRecord(
          path: "controls/access.mfa-enforced/response.json", sha256: digest("response.json"), size: 2_048,
          mediaType: "application/json", summary: "GET https://idp.example.com/api/policy → 200"),
        ArtifactRecord(
          path: "controls/access.mfa-enforced/request.txt", sha256: digest("request.txt"), size: 312,
          mediaType: "text/plain", summary: "The request as sent, secrets redacted"),
      ],
      evidence: [
        "status": ["controls/access.mfa-enforced/request.txt", "controls/access.mfa-enforced/response.json"],
        "mfa_required": ["controls/access.mfa-enforced/response.json"],
        "headers": ["controls/access.mfa-enforced/response.json"],
      ],
      startedAt: date("2026-11-29T06:00:01Z"), finishedAt: date("2026-11-29T06:00:02Z"),
      source: SourceLocation(file: "controls/access.yaml", line: 3, column: 3), sourceDigest: digest("access.yaml"))
  }

  static func failing() -> ControlResult {
    let longLog = String(repeating: "backup-job completed with warnings; ", count: 10)
    return ControlResult(
      id: "backup.recent", title: "Database backups are recent and restorable",
      description: "A full backup finished in the last 24 hours and the last restore test passed.",
      criteria: ["A1.2"], owner: "platform@example.com", severity: .high, frequency: "daily", target: nil,
      collector: "command", status: .fail, reason: nil,
      facts: [
        "last_backup": .string("2026-11-27T23:10:00Z"),
        "restore_tested": .boolean(false),
        "log": .string(longLog),
        "databases": .list([
          .map(["name": .string("orders"), "size_gb": .number(12.5)]),
          .map(["name": .string("users"), "size_gb": .integer(3)]),
        ]),
      ],
      expectations: [
        "last_backup at-least 2026-11-28T06:00:00Z", "restore_tested equals true", "retention_days exists true",
      ],
      findings: [
        Finding(
          fact: "last_backup", op: .atLeast, expected: .string("2026-11-28T06:00:00Z"),
          actual: .string("2026-11-27T23:10:00Z"),
          message: "last_backup is 2026-11-27T23:10:00Z, expected at-least 2026-11-28T06:00:00Z"),
        Finding(
          fact: "restore_tested", op: .equals, expected: .boolean(true), actual: .boolean(false),
          message: "restore_tested is false, expected equals true"),
        Finding(
          fact: "retention_days", op: .exists, expected: .boolean(true), actual: nil,
          message: "fact 'retention_days' is absent"),
      ],
      artifacts: [
        ArtifactRecord(
          path: "controls/backup.recent/stdout.txt", sha256: digest("stdout.txt"), size: 1_048_576,
          mediaType: "text/plain", summary: "Output of backup-status --json", truncated: true)
      ],
      evidence: ["last_backup": ["controls/backup.recent/stdout.txt"], "log": ["controls/backup.recent/stdout.txt"]],
      startedAt: date("2026-11-29T06:00:01Z"), finishedAt: date("2026-11-29T06:00:05Z"),
      source: SourceLocation(file: "controls/backup.yaml", line: 12, column: 3), sourceDigest: digest("backup.yaml"))
  }

  static func erroring() -> ControlResult {
    ControlResult(
      id: "endpoint.tls", title: "Public endpoints only offer TLS 1.2 or later",
      description: "The API endpoint negotiates TLS 1.2+ with a valid certificate.", criteria: ["CC6.7"],
      owner: "security@example.com", severity: .medium, frequency: "weekly", target: "api", collector: "http",
      status: .error, reason: "connection refused by api.example.com:443 after 3 attempts", facts: [:],
      expectations: ["tls_version one-of [\"1.2\", \"1.3\"]"], findings: [], artifacts: [], evidence: [:],
      startedAt: date("2026-11-29T06:00:01Z"), finishedAt: date("2026-11-29T06:00:07Z"),
      source: SourceLocation(file: "controls/access.yaml", line: 30, column: 3), sourceDigest: digest("access.yaml"))
  }

  static func waiver(_ id: String, control: String, target: String?, expires: String) -> Waiver {
    Waiver(
      id: id, control: control, target: target, justification: "Vendor fix scheduled; compensating monitoring in place.",
      approver: "CISO", approvedAt: date("2026-10-01T00:00:00Z"), expires: date(expires), risk: .medium,
      source: SourceLocation(file: "waivers/\(id).yaml", line: 1, column: 5))
  }

  static func skipped() -> ControlResult {
    ControlResult(
      id: "hr.policy-ack", title: "Employees acknowledged the security policy",
      description: "Every employee acknowledged the current policy version.", criteria: ["CC1.4"],
      owner: "people@example.com", severity: .low, frequency: "quarterly", target: nil, collector: "file",
      status: .skipped, reason: "disabled in controls/hr.yaml", facts: [:], expectations: [], findings: [],
      artifacts: [], evidence: [:], startedAt: nil, finishedAt: nil,
      source: SourceLocation(file: "controls/hr.yaml", line: 1, column: 3), sourceDigest: digest("hr.yaml"))
  }

  /// Markup, quotes and ampersands for HTML; control characters, U+FFFE/U+FFFF and `]]>` for XML. NUL comes last so
  /// that, were it not replaced, the characters before it would still reach libxml2.
  static let hostileText =
    "<script>alert(1)</script> \" ' & </td></tr></table> ]]> \u{1}\u{8}\u{B}\u{C}\u{1F}\u{FFFE}\u{FFFF}\u{0} end"

  /// A run whose every server- or user-supplied string is `text`, so a benign `text` gives the same document shape.
  static func run(everyStringIs text: String) -> RunRecord {
    let artifact = ArtifactRecord(
      path: "controls/\(text)/body.json", sha256: digest("body"), size: 10, mediaType: text, summary: text,
      truncated: false)
    let result = ControlResult(
      id: "hostile", title: text, description: text, criteria: [text], owner: text, severity: .high,
      frequency: text, target: text, collector: text, status: .fail, reason: text,
      facts: [
        "a": .string(text), "b": .list([.string(text), .integer(1)]), "c": .map([text: .string(text)]),
        "d": .number(1.5), "e": .boolean(true), "f": .null,
      ],
      expectations: [text],
      findings: [Finding(fact: "a", op: .equals, expected: .string(text), actual: .string(text), message: text)],
      artifacts: [artifact], evidence: ["a": [artifact.path]],
      startedAt: date("2026-11-29T06:00:01Z"), finishedAt: date("2026-11-29T06:00:02Z"),
      source: SourceLocation(file: text, line: 1, column: 1), sourceDigest: digest("hostile"))
    return RunRecord(
      runID: text, bundleName: text, toolVersion: text, host: text,
      startedAt: date("2026-11-29T06:00:00Z"), finishedAt: date("2026-11-29T06:00:03Z"),
      parameters: RunParameters(
        controlsDirectory: text, variablesFile: text, concurrency: 1, timeout: 5, only: [text], criteria: [text]),
      definitionFiles: [DefinitionFile(path: text, sha256: digest("file"))], results: [result],
      manifestDigest: digest("manifest"), previousBundle: text)
  }
}
