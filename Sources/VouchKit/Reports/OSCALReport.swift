import Crypto
import Foundation

/// The run as a NIST OSCAL 1.0.6 assessment-results document, so GRC tools can import it.
///
/// Each control that ran becomes an observation (collected when its collector ran, expiring after its `frequency`,
/// with every evidence file as `relevant-evidence`) and a finding on the objective named by the control id;
/// skipped controls are listed in the result's remarks. Evidence references are relative to the evidence folder
/// (`<bundle>/controls/<id>/<file>`), so the document means the same wherever it is copied. UUIDs are name-based
/// (version 5) on the bundle and control, so the same run always yields the same document.
public struct OSCALReport: ReportFormat {
  public let name = "oscal"
  public let fileExtension = "oscal.json"

  public init() {}

  public func render(_ run: RunRecord, context: ReportContext) throws -> Data {
    let document = Document(assessmentResults: AssessmentResults(run: run, generatedAt: context.generatedAt))
    do {
      return try BundleJSON.encode(document)
    } catch {
      throw ReportError("cannot encode the OSCAL assessment results: \(error)")
    }
  }

  struct Document: Encodable {
    let assessmentResults: AssessmentResults
    enum CodingKeys: String, CodingKey { case assessmentResults = "assessment-results" }
  }

  struct AssessmentResults: Encodable {
    let uuid: String
    let metadata: Metadata
    let importAP: Reference
    let results: [Result]

    enum CodingKeys: String, CodingKey {
      case uuid, metadata, results
      case importAP = "import-ap"
    }

    init(run: RunRecord, generatedAt: Date) {
      uuid = OSCALReport.uuid(run.bundleName, "assessment-results")
      metadata = Metadata(
        title: "Vouch evidence run \(run.bundleName)", lastModified: generatedAt, version: run.bundleName,
        oscalVersion: "1.0.6")
      importAP = Reference(
        href: run.parameters.controlsDirectory,
        remarks: "The assessment plan is the control definitions in this folder; run.json holds their SHA-256 digests.")
      results = [Result(run: run)]
    }
  }

  struct Metadata: Encodable {
    let title: String
    let lastModified: Date
    let version: String
    let oscalVersion: String

    enum CodingKeys: String, CodingKey {
      case title, version
      case lastModified = "last-modified"
      case oscalVersion = "oscal-version"
    }
  }

  struct Reference: Encodable {
    let href: String
    let remarks: String
  }

  struct Result: Encodable {
    let uuid: String
    let title: String
    let description: String
    let start: Date
    let end: Date
    let props: [Property]
    let reviewedControls: ReviewedControls
    let observations: [Observation]?
    let findings: [Finding]?
    let remarks: String?

    enum CodingKeys: String, CodingKey {
      case uuid, title, description, start, end, props, observations, findings, remarks
      case reviewedControls = "reviewed-controls"
    }

    init(run: RunRecord) {
      uuid = OSCALReport.uuid(run.bundleName, "result")
      title = "Nightly evidence collection \(run.bundleName)"
      let counts = run.counts
      description =
        "\(counts.total) control(s): \(counts.pass) pass, \(counts.fail) fail, \(counts.error) error, "
        + "\(counts.skipped) skipped. Evidence in bundle \(run.bundleName) on host \(run.host)."
      start = run.startedAt
      end = run.finishedAt
      var props = [Property(name: "bundle", value: run.bundleName), Property(name: "run-id", value: run.runID)]
      if let digest = run.manifestDigest { props.append(Property(name: "manifest-sha256", value: digest)) }
      if let previous = run.previousBundle { props.append(Property(name: "previous-bundle", value: previous)) }
      if let signer = run.signerFingerprint { props.append(Property(name: "signer-fingerprint", value: signer)) }
      self.props = props
      let criteria = Array(Set(run.results.flatMap(\.criteria))).sorted()
      reviewedControls = ReviewedControls(controlSelections: [
        ControlSelection(
          description: "SOC 2 Trust Services Criteria the controls of this run serve",
          includeAll: criteria.isEmpty ? [:] : nil,
          includeControls: criteria.isEmpty ? nil : criteria.map { ControlID(controlID: $0) })
      ])
      let ran = run.results.filter { $0.status != .skipped && $0.status != .notApplicable }
      let observations = ran.map { Observation(result: $0, bundle: run.bundleName, runStart: run.startedAt) }
      self.observations = observations.isEmpty ? nil : observations
      let findings = ran.map { Finding(result: $0, bundle: run.bundleName) }
      self.findings = findings.isEmpty ? nil : findings
      let skipped = run.results.filter { $0.status == .skipped || $0.status == .notApplicable }
      remarks =
        skipped.isEmpty
        ? nil : "Skipped: " + skipped.map { "\($0.id) (\($0.reason ?? "skipped"))" }.joined(separator: "; ")
    }
  }

  struct Property: Encodable {
    let name: String
    let ns = "urn:vouch"
    let value: String
  }

  struct ReviewedControls: Encodable {
    let controlSelections: [ControlSelection]
    enum CodingKeys: String, CodingKey { case controlSelections = "control-selections" }
  }

  struct ControlSelection: Encodable {
    let description: String
    let includeAll: [String: String]?
    let includeControls: [ControlID]?
    enum CodingKeys: String, CodingKey {
      case description
      case includeAll = "include-all"
      case includeControls = "include-controls"
    }
  }

  struct ControlID: Encodable {
    let controlID: String
    enum CodingKeys: String, CodingKey { case controlID = "control-id" }
  }

  struct Observation: Encodable {
    let uuid: String
    let title: String
    let description: String
    let methods: [String]
    let relevantEvidence: [Evidence]?
    let collected: Date
    let expires: Date

    enum CodingKeys: String, CodingKey {
      case uuid, title, description, methods, collected, expires
      case relevantEvidence = "relevant-evidence"
    }

    init(result: ControlResult, bundle: String, runStart: Date) {
      uuid = OSCALReport.uuid(bundle, "observation", result.id)
      title = result.id
      description = "\(result.title). Collected by the \(result.collector) collector."
      // Reading a document people keep is an examination; everything else actively tests a live system.
      methods = [result.collector == FileCollector.kind ? "EXAMINE" : "TEST"]
      let evidence = result.artifacts.map {
        Evidence(
          href: "\(bundle)/\($0.path)", description: $0.summary,
          props: [Property(name: "sha256", value: $0.sha256), Property(name: "size", value: String($0.size))])
      }
      relevantEvidence = evidence.isEmpty ? nil : evidence
      collected = result.startedAt ?? runStart
      expires = collected.addingTimeInterval(Double(Frequency(result.frequency)?.seconds ?? 86_400))
    }
  }

  struct Evidence: Encodable {
    let href: String
    let description: String
    let props: [Property]
  }

  struct Finding: Encodable {
    let uuid: String
    let title: String
    let description: String
    let props: [Property]
    let target: Target
    let relatedObservations: [RelatedObservation]

    enum CodingKeys: String, CodingKey {
      case uuid, title, description, props, target
      case relatedObservations = "related-observations"
    }

    init(result: ControlResult, bundle: String) {
      uuid = OSCALReport.uuid(bundle, "finding", result.id)
      title = result.title
      switch result.status {
      case .pass:
        description = "All \(result.expectations.count) expectation(s) held."
      case .fail:
        description = result.findings.map(\.message).joined(separator: "\n")
      case .waived:
        description =
          "Waived by \(result.waiver ?? "a waiver"): " + result.findings.map(\.message).joined(separator: "\n")
      case .stale:
        description = "Evidence is stale: \(result.reason ?? "older than the control's frequency allows")"
      case .error, .skipped, .notApplicable:
        description = "Evidence could not be collected: \(result.reason ?? "unknown reason")"
      }
      props =
        result.criteria.map { Property(name: "criterion", value: $0) } + [
          Property(name: "severity", value: result.severity.rawValue), Property(name: "owner", value: result.owner),
          Property(name: "vouch-status", value: result.status.rawValue),
        ]
      target = Target(
        type: "objective-id", targetID: OSCALReport.token(result.id),
        status: Status(
          state: result.status == .pass ? "satisfied" : "not-satisfied",
          reason: OSCALReport.reason(result.status),
          remarks: result.status == .waived ? "risk accepted by waiver \(result.waiver ?? "")" : result.reason))
      relatedObservations = [RelatedObservation(observationUUID: OSCALReport.uuid(bundle, "observation", result.id))]
    }
  }

  struct Target: Encodable {
    let type: String
    let targetID: String
    let status: Status
    enum CodingKeys: String, CodingKey {
      case type, status
      case targetID = "target-id"
    }
  }

  struct Status: Encodable {
    let state: String
    let reason: String
    let remarks: String?
  }

  struct RelatedObservation: Encodable {
    let observationUUID: String
    enum CodingKeys: String, CodingKey { case observationUUID = "observation-uuid" }
  }

  /// OSCAL's objective-status reason: a waived failure is still a `fail` of the objective (the risk is accepted,
  /// not removed); stale evidence and collection errors are `other`.
  static func reason(_ status: ControlStatus) -> String {
    switch status {
    case .pass: return "pass"
    case .fail, .waived: return "fail"
    case .error, .stale, .skipped, .notApplicable: return "other"
    }
  }

  /// OSCAL tokens start with a letter or `_`; control ids may start with a digit.
  static func token(_ id: String) -> String {
    guard let first = id.unicodeScalars.first, CharacterSet.letters.contains(first) || first == "_" else {
      return "_" + id
    }
    return id
  }

  /// Name-based UUID (RFC 9562 version 5, URL namespace) of `urn:vouch:oscal:<part>/<part>…`.
  static func uuid(_ parts: String...) -> String {
    let name = Array("urn:vouch:oscal:\(parts.joined(separator: "/"))".utf8)
    var bytes = Array(Insecure.SHA1.hash(data: urlNamespace + name).prefix(16))
    bytes[6] = (bytes[6] & 0x0f) | 0x50
    bytes[8] = (bytes[8] & 0x3f) | 0x80
    let hex = Array(Digest.hex(bytes))
    let groups = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32]
    return groups.map { String(hex[$0]) }.joined(separator: "-")
  }

  /// The RFC 9562 URL namespace, 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
  private static let urlNamespace: [UInt8] = [
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
  ]
}
