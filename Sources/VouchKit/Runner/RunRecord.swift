import Foundation

/// The outcome of one control in one run.
public enum ControlStatus: String, Sendable, Codable, CaseIterable {
  /// Evidence collected and every expectation held.
  case pass
  /// Evidence collected and at least one expectation failed.
  case fail
  /// Evidence could not be collected (collector threw, timed out or the bundle could not be written).
  case error
  /// Evidence collected and the expectations held, but the evidence is older than the control's `frequency` allows
  /// (an attested document past its review): never reported as a pass.
  case stale
  /// Failed, but an approved waiver in force accepts the risk.
  case waived
  /// Not run: disabled, or left out by `--only` / `--criteria`.
  case skipped
  /// Declared not applicable in the definition (`not_applicable: <reason>`).
  case notApplicable = "not-applicable"
}

/// Per-control result, as stored in `results.json` and shown in the reports.
public struct ControlResult: Sendable, Codable, Hashable {
  public var id: String
  public var title: String
  public var description: String
  public var criteria: [String]
  public var owner: String
  public var severity: Severity
  public var frequency: String
  public var target: String?
  public var collector: String
  public var status: ControlStatus
  /// Why the status is `error`, `stale`, `skipped` or `not-applicable`.
  public var reason: String?
  /// The waiver that turned a failure into `waived`.
  public var waiver: String?
  public var facts: [String: FactValue]
  /// Expectations as written, in order, e.g. `status equals 200`.
  public var expectations: [String]
  public var findings: [Finding]
  public var artifacts: [ArtifactRecord]
  /// Fact name → artifact paths (relative to the bundle) that back it.
  public var evidence: [String: [String]]
  public var startedAt: Date?
  public var finishedAt: Date?
  /// Where the control is defined and the digest of that file.
  public var source: SourceLocation
  public var sourceDigest: String

  public init(
    id: String, title: String, description: String, criteria: [String], owner: String, severity: Severity,
    frequency: String, target: String?, collector: String, status: ControlStatus, reason: String?,
    facts: [String: FactValue], expectations: [String], findings: [Finding], artifacts: [ArtifactRecord],
    evidence: [String: [String]], startedAt: Date?, finishedAt: Date?, source: SourceLocation, sourceDigest: String,
    waiver: String? = nil
  ) {
    self.id = id
    self.title = title
    self.description = description
    self.criteria = criteria
    self.owner = owner
    self.severity = severity
    self.frequency = frequency
    self.target = target
    self.collector = collector
    self.status = status
    self.reason = reason
    self.facts = facts
    self.expectations = expectations
    self.findings = findings
    self.artifacts = artifacts
    self.evidence = evidence
    self.startedAt = startedAt
    self.finishedAt = finishedAt
    self.source = source
    self.sourceDigest = sourceDigest
    self.waiver = waiver
  }

  /// Milliseconds the collector took, when it ran.
  public var durationMilliseconds: Int? {
    guard let startedAt, let finishedAt else { return nil }
    return Int((finishedAt.timeIntervalSince(startedAt) * 1000).rounded())
  }
}

/// Counts per status, for summaries and exit codes.
public struct StatusCounts: Sendable, Codable, Hashable {
  public var pass = 0
  public var fail = 0
  public var error = 0
  public var stale = 0
  public var waived = 0
  public var skipped = 0
  public var notApplicable = 0

  enum CodingKeys: String, CodingKey {
    case pass, fail, error, stale, waived, skipped, notApplicable
  }

  public init(_ results: [ControlResult]) {
    for result in results { self[result.status] += 1 }
  }

  /// Bundles sealed before a status existed lack its key; it counts as zero there.
  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    for status in ControlStatus.allCases {
      self[status] = try container.decodeIfPresent(Int.self, forKey: Self.key(status)) ?? 0
    }
  }

  public subscript(status: ControlStatus) -> Int {
    get {
      switch status {
      case .pass: return pass
      case .fail: return fail
      case .error: return error
      case .stale: return stale
      case .waived: return waived
      case .skipped: return skipped
      case .notApplicable: return notApplicable
      }
    }
    set {
      switch status {
      case .pass: pass = newValue
      case .fail: fail = newValue
      case .error: error = newValue
      case .stale: stale = newValue
      case .waived: waived = newValue
      case .skipped: skipped = newValue
      case .notApplicable: notApplicable = newValue
      }
    }
  }

  private static func key(_ status: ControlStatus) -> CodingKeys {
    switch status {
    case .pass: return .pass
    case .fail: return .fail
    case .error: return .error
    case .stale: return .stale
    case .waived: return .waived
    case .skipped: return .skipped
    case .notApplicable: return .notApplicable
    }
  }

  public var total: Int { ControlStatus.allCases.reduce(0) { $0 + self[$1] } }
}

/// The settings a run was started with, recorded in `run.json`.
public struct RunParameters: Sendable, Codable, Hashable {
  public var controlsDirectory: String
  public var variablesFile: String?
  public var concurrency: Int
  /// Seconds allowed per collector.
  public var timeout: Double
  public var only: [String]
  public var criteria: [String]

  public init(
    controlsDirectory: String, variablesFile: String?, concurrency: Int, timeout: Double, only: [String],
    criteria: [String]
  ) {
    self.controlsDirectory = controlsDirectory
    self.variablesFile = variablesFile
    self.concurrency = concurrency
    self.timeout = timeout
    self.only = only
    self.criteria = criteria
  }
}

/// Everything known about one run: `run.json` plus `results.json`, and the input of every report.
public struct RunRecord: Sendable, Codable, Hashable {
  public var runID: String
  /// `<UTC timestamp>-<run id>`, the bundle's folder name.
  public var bundleName: String
  public var toolVersion: String
  public var host: String
  public var startedAt: Date
  public var finishedAt: Date
  public var parameters: RunParameters
  public var definitionFiles: [DefinitionFile]
  /// Sorted by control id, whatever order collectors finished in.
  public var results: [ControlResult]
  /// SHA-256 of this bundle's `manifest.json`, filled once the bundle is sealed.
  public var manifestDigest: String?
  /// The previous bundle in the chain, if any.
  public var previousBundle: String?
  /// SHA-256 fingerprint of the Ed25519 key that signed the manifest, when signed.
  public var signerFingerprint: String?
  /// Changes since the previous bundle; `nil` for the first bundle of a chain.
  public var comparison: RunComparison?
  /// Every waiver known to the run, applied or not.
  public var waivers: [WaiverOutcome]

  public init(
    runID: String, bundleName: String, toolVersion: String, host: String, startedAt: Date, finishedAt: Date,
    parameters: RunParameters, definitionFiles: [DefinitionFile], results: [ControlResult],
    manifestDigest: String? = nil, previousBundle: String? = nil, signerFingerprint: String? = nil,
    comparison: RunComparison? = nil, waivers: [WaiverOutcome] = []
  ) {
    self.runID = runID
    self.bundleName = bundleName
    self.toolVersion = toolVersion
    self.host = host
    self.startedAt = startedAt
    self.finishedAt = finishedAt
    self.parameters = parameters
    self.definitionFiles = definitionFiles
    self.results = results
    self.manifestDigest = manifestDigest
    self.previousBundle = previousBundle
    self.signerFingerprint = signerFingerprint
    self.comparison = comparison
    self.waivers = waivers
  }

  public var counts: StatusCounts { StatusCounts(results) }
}
