import CLibXML2
import Foundation

/// The run as XML for auditors' tools, valid against `schemas/vouch-report-1.xsd`.
///
/// Paths are relative to the bundle root only, never to the report's location, so the same bytes stay correct when
/// copied to `latest.xml`. Output is deterministic: maps are ordered by key and lists keep the record's order.
/// Characters XML 1.0 cannot carry are written as U+FFFD.
public struct XMLReport: ReportFormat {
  /// The namespace of every element; the trailing number is the schema's major version.
  public static let namespace = "urn:vouch:report:1"

  public let name = "xml"
  public let fileExtension = "xml"

  public init() {}

  public func render(_ run: RunRecord, context: ReportContext) throws -> Data {
    let xml = try XMLTextWriter()
    try xml.startDocument(root: "report", namespace: Self.namespace)
    try xml.attribute("formatVersion", "1")
    try xml.attribute("generatedAt", Timestamp.format(context.generatedAt))
    try writeRun(run, to: xml)
    let counts = run.counts
    try xml.element("summary") {
      try xml.attribute("total", String(counts.total))
      try xml.attribute("pass", String(counts.pass))
      try xml.attribute("fail", String(counts.fail))
      try xml.attribute("error", String(counts.error))
      try xml.attribute("stale", String(counts.stale))
      try xml.attribute("waived", String(counts.waived))
      try xml.attribute("skipped", String(counts.skipped))
      try xml.attribute("notApplicable", String(counts.notApplicable))
    }
    if let comparison = run.comparison {
      try writeComparison(comparison, to: xml)
    }
    try xml.element("waivers") {
      for outcome in run.waivers {
        let waiver = outcome.waiver
        try xml.element("waiver") {
          try xml.attribute("id", waiver.id)
          try xml.attribute("control", waiver.control)
          if let target = waiver.target { try xml.attribute("target", target) }
          try xml.attribute("state", outcome.state.rawValue)
          try xml.attribute("risk", waiver.risk.rawValue)
          try xml.attribute("approver", waiver.approver)
          try xml.attribute("approvedAt", Timestamp.format(waiver.approvedAt))
          try xml.attribute("expires", Timestamp.format(waiver.expires))
          try xml.element("justification", text: waiver.justification)
          for id in outcome.appliedTo { try xml.element("appliedTo") { try xml.attribute("id", id) } }
          for id in outcome.failingBecauseExpired {
            try xml.element("failingBecauseExpired") { try xml.attribute("id", id) }
          }
        }
      }
    }
    try xml.element("definitionFiles") {
      for file in run.definitionFiles {
        try xml.element("file") {
          try xml.attribute("path", file.path)
          try xml.attribute("sha256", file.sha256)
        }
      }
    }
    try xml.element("controls") {
      for result in run.results { try writeControl(result, to: xml) }
    }
    return try xml.finish()
  }

  private func writeRun(_ run: RunRecord, to xml: XMLTextWriter) throws {
    try xml.element("run") {
      try xml.element("bundleName", text: run.bundleName)
      try xml.element("runId", text: run.runID)
      try xml.element("toolVersion", text: run.toolVersion)
      try xml.element("host", text: run.host)
      try xml.element("startedAt", text: Timestamp.format(run.startedAt))
      try xml.element("finishedAt", text: Timestamp.format(run.finishedAt))
      let parameters = run.parameters
      try xml.element("parameters") {
        try xml.element("controlsDirectory", text: parameters.controlsDirectory)
        if let variablesFile = parameters.variablesFile { try xml.element("variablesFile", text: variablesFile) }
        try xml.element("concurrency", text: String(parameters.concurrency))
        try xml.element("timeoutSeconds", text: Self.xsDouble(parameters.timeout))
        try xml.element("only") {
          for id in parameters.only { try xml.element("controlId", text: id) }
        }
        try xml.element("criteria") {
          for criterion in parameters.criteria { try xml.element("criterion", text: criterion) }
        }
      }
      try xml.element("chain") {
        if let digest = run.manifestDigest { try xml.element("manifestDigest", text: digest) }
        if let previous = run.previousBundle { try xml.element("previousBundle", text: previous) }
        if let signer = run.signerFingerprint { try xml.element("signerFingerprint", text: signer) }
      }
    }
  }

  private func writeControl(_ result: ControlResult, to xml: XMLTextWriter) throws {
    try xml.element("control") {
      try xml.attribute("id", result.id)
      try xml.attribute("status", result.status.rawValue)
      try xml.attribute("severity", result.severity.rawValue)
      try xml.element("title", text: result.title)
      try xml.element("description", text: result.description)
      try xml.element("criteria") {
        for criterion in result.criteria { try xml.element("criterion", text: criterion) }
      }
      try xml.element("owner", text: result.owner)
      try xml.element("frequency", text: result.frequency)
      if let target = result.target { try xml.element("target", text: target) }
      try xml.element("collector", text: result.collector)
      if let startedAt = result.startedAt { try xml.element("startedAt", text: Timestamp.format(startedAt)) }
      if let finishedAt = result.finishedAt { try xml.element("finishedAt", text: Timestamp.format(finishedAt)) }
      if let duration = result.durationMilliseconds {
        try xml.element("durationMilliseconds", text: String(duration))
      }
      if let reason = result.reason { try xml.element("reason", text: reason) }
      if let waiver = result.waiver { try xml.element("waiver", text: waiver) }
      try xml.element("source") {
        try xml.attribute("file", result.source.file)
        try xml.attribute("line", String(result.source.line))
        try xml.attribute("column", String(result.source.column))
        try xml.attribute("sha256", result.sourceDigest)
      }
      try xml.element("expectations") {
        for expectation in result.expectations { try xml.element("expectation", text: expectation) }
      }
      try xml.element("facts") {
        for name in result.facts.keys.sorted() {
          guard let value = result.facts[name] else { continue }
          try writeValue(value, element: "fact", attributes: [("name", name)], to: xml)
        }
      }
      try xml.element("findings") {
        for finding in result.findings { try writeFinding(finding, to: xml) }
      }
      try xml.element("artifacts") {
        for artifact in result.artifacts {
          try xml.element("artifact") {
            try xml.attribute("path", artifact.path)
            try xml.attribute("sha256", artifact.sha256)
            try xml.attribute("size", String(artifact.size))
            try xml.attribute("mediaType", artifact.mediaType)
            try xml.attribute("truncated", artifact.truncated ? "true" : "false")
            try xml.element("summary", text: artifact.summary)
          }
        }
      }
      try xml.element("evidence") {
        for fact in result.evidence.keys.sorted() {
          for path in result.evidence[fact] ?? [] {
            try xml.element("link") {
              try xml.attribute("fact", fact)
              try xml.attribute("artifact", path)
            }
          }
        }
      }
    }
  }

  private func writeFinding(_ finding: Finding, to xml: XMLTextWriter) throws {
    try xml.element("finding") {
      try xml.attribute("fact", finding.fact)
      try xml.attribute("operator", finding.op.rawValue)
      try writeValue(finding.expected, element: "expected", attributes: [], to: xml)
      if let actual = finding.actual { try writeValue(actual, element: "actual", attributes: [], to: xml) }
      try xml.element("message", text: finding.message)
    }
  }

  /// A typed value: scalars as text, lists as `<item>` children, maps as `<entry key="…">` children sorted by key.
  private func writeValue(
    _ value: FactValue, element: String, attributes: [(String, String)], to xml: XMLTextWriter
  ) throws {
    try xml.element(element) {
      for (name, text) in attributes { try xml.attribute(name, text) }
      try xml.attribute("type", value.typeName)
      switch value {
      case .string(let text): try xml.text(text)
      case .integer(let number): try xml.text(String(number))
      case .number(let number): try xml.text(Self.xsDouble(number))
      case .boolean(let flag): try xml.text(flag ? "true" : "false")
      case .null: break
      case .list(let items):
        for item in items { try writeValue(item, element: "item", attributes: [], to: xml) }
      case .map(let entries):
        for key in entries.keys.sorted() {
          guard let entry = entries[key] else { continue }
          try writeValue(entry, element: "entry", attributes: [("key", key)], to: xml)
        }
      }
    }
  }

  /// Shortest round-tripping decimal form, spelled as `xs:double` spells infinities and NaN.
  static func xsDouble(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value < 0 ? "-INF" : "INF" }
    return "\(value)"
  }

  /// `<changes>`: what moved since the previous bundle, or why that could not be said.
  private func writeComparison(_ comparison: RunComparison, to xml: XMLTextWriter) throws {
    try xml.element("changes") {
      try xml.attribute("previousBundle", comparison.previousBundle)
      if let problem = comparison.problem { try xml.element("problem", text: problem) }
      for (name, list) in [
        ("newlyFailing", comparison.newlyFailing), ("fixed", comparison.fixed), ("changed", comparison.otherChanges),
      ] {
        for change in list {
          try xml.element(name) {
            try xml.attribute("id", change.id)
            try xml.attribute("from", change.from.rawValue)
            try xml.attribute("to", change.to.rawValue)
          }
        }
      }
      for id in comparison.added { try xml.element("added") { try xml.attribute("id", id) } }
      for id in comparison.removed { try xml.element("removed") { try xml.attribute("id", id) } }
    }
  }
}
