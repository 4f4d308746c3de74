import Foundation

/// The run as JUnit XML, one test case per control, so CI dashboards (Jenkins, GitLab, GitHub test reporters) show
/// failing controls like failing tests. Described by `schemas/junit.xsd`.
///
/// A failed control carries one `<failure>` whose text lists every finding (a stale one a `<failure type="stale">`);
/// a control that could not collect its evidence carries an `<error>`; skipped, not-applicable and waived controls
/// carry `<skipped>`. Paths are relative to the bundle, so `latest.junit.xml`
/// is a plain copy.
public struct JUnitReport: ReportFormat {
  public let name = "junit"
  public let fileExtension = "junit.xml"

  public init() {}

  public func render(_ run: RunRecord, context: ReportContext) throws -> Data {
    let counts = run.counts
    let seconds = Self.seconds(run.finishedAt.timeIntervalSince(run.startedAt))
    let xml = try XMLTextWriter()
    try xml.startDocument(root: "testsuites", namespace: nil)
    try xml.attribute("name", "vouch")
    try attributes(counts: counts, time: seconds, to: xml)
    try xml.element("testsuite") {
      try xml.attribute("name", run.bundleName)
      try attributes(counts: counts, time: seconds, to: xml)
      try xml.attribute("timestamp", Timestamp.format(run.startedAt))
      try xml.attribute("hostname", run.host)
      try xml.element("properties") {
        for (name, value) in properties(run) {
          try xml.element("property") {
            try xml.attribute("name", name)
            try xml.attribute("value", value)
          }
        }
      }
      for result in run.results {
        try testCase(result, to: xml)
      }
    }
    return try xml.finish()
  }

  private func attributes(counts: StatusCounts, time: String, to xml: XMLTextWriter) throws {
    try xml.attribute("tests", String(counts.total))
    try xml.attribute("failures", String(counts.fail + counts.stale))
    try xml.attribute("errors", String(counts.error))
    try xml.attribute("skipped", String(counts.skipped + counts.notApplicable + counts.waived))
    try xml.attribute("time", time)
  }

  private func properties(_ run: RunRecord) -> [(String, String)] {
    var properties = [("vouch.runID", run.runID), ("vouch.toolVersion", run.toolVersion)]
    if let digest = run.manifestDigest { properties.append(("vouch.manifestSHA256", digest)) }
    if let previous = run.previousBundle { properties.append(("vouch.previousBundle", previous)) }
    if let signer = run.signerFingerprint { properties.append(("vouch.signerFingerprint", signer)) }
    return properties
  }

  private func testCase(_ result: ControlResult, to xml: XMLTextWriter) throws {
    try xml.element("testcase") {
      try xml.attribute("name", result.id)
      // Dashboards group test cases by class name: group controls by the collector that evidenced them.
      try xml.attribute("classname", "vouch.\(result.collector)")
      try xml.attribute("time", Self.seconds(Double(result.durationMilliseconds ?? 0) / 1000))
      switch result.status {
      case .pass:
        break
      case .fail:
        try xml.element("failure") {
          try xml.attribute("message", "\(result.findings.count) expectation(s) failed: \(result.title)")
          try xml.attribute("type", "expectation")
          try xml.text(result.findings.map { "\($0.fact) \($0.op.rawValue): \($0.message)" }.joined(separator: "\n"))
        }
      case .error:
        try xml.element("error") {
          try xml.attribute("message", result.reason ?? "evidence could not be collected")
          try xml.attribute("type", "collector")
        }
      case .stale:
        try xml.element("failure") {
          try xml.attribute("message", result.reason ?? "evidence is older than the control's frequency allows")
          try xml.attribute("type", "stale")
        }
      case .waived:
        // A waived failure must not turn a CI dashboard red, nor look like a pass.
        try xml.element("skipped") {
          try xml.attribute("message", "waived by \(result.waiver ?? "a waiver"): \(result.findings.count) finding(s)")
        }
      case .skipped, .notApplicable:
        try xml.element("skipped") {
          try xml.attribute("message", result.reason ?? result.status.rawValue)
        }
      }
      let evidence = result.artifacts.map { "\($0.sha256)  \($0.path)" }
      if !evidence.isEmpty {
        try xml.element("system-out", text: "criteria: \(result.criteria.joined(separator: ", "))\n" + evidence.joined(separator: "\n"))
      }
    }
  }

  static func seconds(_ value: Double) -> String {
    String(format: "%.3f", max(0, value))
  }
}
