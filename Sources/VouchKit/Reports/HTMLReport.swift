import Foundation
import Mustache

/// The run as one self-contained HTML page for people: no scripts, no external resources, readable offline and
/// printable, with evidence links into the bundle.
///
/// Every value reaches the page through an escaping `{{ }}` tag of the template below, and a Content Security Policy
/// forbids scripts as a second line of defence, since facts and messages come from servers Vouch does not control.
public struct HTMLReport: ReportFormat {
  /// Longer values are cut for display, with a note giving the full length; the full value is in the bundle.
  public static let displayLimit = 240

  public let name = "html"
  public let fileExtension = "html"

  public init() {}

  public func render(_ run: RunRecord, context: ReportContext) throws -> Data {
    let template: MustacheTemplate
    do {
      template = try MustacheTemplate(string: Self.template)
    } catch {
      throw ReportError("the built-in HTML report template does not parse: \(error)")
    }
    let page = HTMLPage(run: run, context: context, documentName: reportFileName)
    return Data(template.render(page).utf8)
  }

  /// Declares `<base href>` right after `<head>`, so every relative link of the published copy resolves from the
  /// report's own folder: one rendering serves both files, and both open the same evidence files.
  public func published(_ document: Data, baseHref: String) -> Data {
    let head = Data("<head>\n".utf8)
    guard let range = document.range(of: head) else { return document }
    guard let template = try? MustacheTemplate(string: "<base href=\"{{.}}\">\n") else { return document }
    var result = document
    result.insert(contentsOf: Data(template.render(baseHref).utf8), at: range.upperBound)
    return result
  }

  /// Cuts `text` to `displayLimit` characters with an ellipsis and says so, so nothing is hidden silently.
  static func display(_ text: String) -> DisplayText {
    let count = text.count
    guard count > displayLimit else { return DisplayText(text: text, note: nil) }
    return DisplayText(text: String(text.prefix(displayLimit)) + "…", note: "(truncated, \(count) chars)")
  }

  // Optional fields of the view model have names no enclosing object uses, on purpose: Mustache looks a nil name up
  // in the enclosing objects, which would otherwise show a parent's value.
  static let template = #"""
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="generator" content="vouch {{toolVersion}}">
    <title>Vouch evidence report · {{bundleName}}</title>
    <style>
    :root { --ink: #1f2933; --muted: #52606d; --line: #d9dee4; --soft: #f5f7fa; --link: #0b5cad; }
    * { box-sizing: border-box; }
    body { margin: 0 auto; max-width: 76rem; padding: 1.5rem; color: var(--ink); background: #fff;
      font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
    h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
    h2 { font-size: 1.25rem; margin: 2rem 0 .75rem; padding-bottom: .25rem; border-bottom: 2px solid var(--line); }
    h3 { font-size: 1.1rem; margin: 0 0 .5rem; }
    h4 { font-size: .95rem; margin: 1.25rem 0 .4rem; color: var(--muted); text-transform: uppercase;
      letter-spacing: .04em; }
    p { margin: .4rem 0; }
    a { color: var(--link); }
    code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace;
      font-size: .88em; }
    .subtitle { color: var(--muted); margin: 0; }
    table { width: 100%; border-collapse: collapse; margin: .5rem 0 1rem; }
    caption { text-align: left; font-weight: 600; padding: .25rem 0; color: var(--muted); }
    th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line);
      overflow-wrap: anywhere; }
    thead th { background: var(--soft); border-bottom: 2px solid var(--line); font-weight: 600;
      overflow-wrap: normal; }
    tbody th { font-weight: 600; width: 14rem; }
    .value { white-space: pre-wrap; }
    .hash { word-break: break-all; }
    .files code { display: block; }
    .nowrap { white-space: nowrap; }
    .name, .files { min-width: 9rem; }
    .file-summary { color: var(--muted); font-size: .88em; }
    .note { color: var(--muted); font-style: italic; white-space: nowrap; }
    .none { color: var(--muted); }
    .badge { display: inline-block; padding: .05rem .5rem; border-radius: .75rem; border: 1px solid;
      font-size: .8rem; font-weight: 700; letter-spacing: .03em; text-transform: uppercase; white-space: nowrap; }
    .status-pass { color: #1e6b34; background: #e6f4ea; border-color: #9fd4ad; }
    .status-fail { color: #a4161a; background: #fdecea; border-color: #f2a7a2; }
    .status-error { color: #8a4b00; background: #fff4e5; border-color: #f3c27a; }
    .status-stale { color: #6b4e00; background: #fff8d6; border-color: #e8d27a; }
    .status-waived { color: #4b2e83; background: #f1ebfb; border-color: #c7b3ea; }
    .waiver-expired td { color: #a4161a; }
    .status-skipped, .status-not-applicable { color: #4a5361; background: #eef0f3; border-color: #c3c9d1; }
    .severity-critical { color: #a4161a; font-weight: 700; }
    .severity-high { color: #8a4b00; font-weight: 700; }
    .summary { width: auto; }
    .summary td { font-size: 1.5rem; font-weight: 700; text-align: center; min-width: 6rem; }
    .summary th { text-align: center; }
    .control { margin: 2rem 0; padding: 1rem 1.25rem; border: 1px solid var(--line); border-radius: .5rem; }
    .control header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline; }
    .problem { padding: .5rem .75rem; border-left: 4px solid #f3c27a; background: #fff9f0; }
    footer { margin-top: 2rem; color: var(--muted); font-size: .85rem; }
    @media print {
      @page { margin: 14mm; }
      body { max-width: none; padding: 0; font-size: 9.5pt; }
      a { color: inherit; text-decoration: none; }
      .control { border: 0; padding: 0; margin: 0; break-before: page; }
      h2, h3, h4, caption { break-after: avoid; }
      tr { break-inside: avoid; }
      thead { display: table-header-group; }
      .badge, thead th { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
    }
    </style>
    </head>
    <body>
    <header>
    <h1>Compliance evidence report</h1>
    <p class="subtitle">Bundle <code>{{bundleName}}</code> · run <code>{{runID}}</code></p>
    </header>
    <main>
    <section aria-labelledby="run-heading">
    <h2 id="run-heading">Run</h2>
    <table>
    <caption>Run metadata</caption>
    <tbody>
    {{#runRows}}
    <tr><th scope="row">{{label}}</th><td{{#cellClass}} class="{{.}}"{{/cellClass}}>{{text}}</td></tr>
    {{/runRows}}
    </tbody>
    </table>
    <table>
    <caption>Hash chain</caption>
    <tbody>
    <tr>
    <th scope="row">Manifest SHA-256</th>
    {{#manifestDigest}}
    <td class="mono hash">{{.}}</td>
    {{/manifestDigest}}
    {{^manifestDigest}}
    <td class="none">not sealed</td>
    {{/manifestDigest}}
    </tr>
    <tr>
    <th scope="row">Previous bundle</th>
    {{#previousBundle}}
    <td class="mono">{{.}}</td>
    {{/previousBundle}}
    {{^previousBundle}}
    <td class="none">none: first bundle in the chain</td>
    {{/previousBundle}}
    </tr>
    <tr>
    <th scope="row">Signed by (Ed25519 key SHA-256)</th>
    {{#signerFingerprint}}
    <td class="mono hash">{{.}}</td>
    {{/signerFingerprint}}
    {{^signerFingerprint}}
    <td class="none">not signed</td>
    {{/signerFingerprint}}
    </tr>
    </tbody>
    </table>
    <table>
    <caption>Parameters</caption>
    <tbody>
    {{#parameterRows}}
    <tr><th scope="row">{{label}}</th><td{{#cellClass}} class="{{.}}"{{/cellClass}}>{{text}}</td></tr>
    {{/parameterRows}}
    </tbody>
    </table>
    </section>
    <section aria-labelledby="summary-heading">
    <h2 id="summary-heading">Summary</h2>
    <table class="summary">
    <caption>Controls by status</caption>
    <thead>
    <tr>
    {{#counts}}
    <th scope="col"><span class="badge status-{{status}}">{{statusLabel}}</span></th>
    {{/counts}}
    <th scope="col">Total</th>
    </tr>
    </thead>
    <tbody>
    <tr>
    {{#counts}}
    <td>{{count}}</td>
    {{/counts}}
    <td>{{total}}</td>
    </tr>
    </tbody>
    </table>
    {{#comparison}}
    <table>
    <caption>Changes since {{previousBundle}}</caption>
    {{#problem}}
    <tbody><tr><td class="none">Not compared: {{.}}</td></tr></tbody>
    {{/problem}}
    {{#hasChanges}}
    <thead>
    <tr><th scope="col">Change</th><th scope="col">Control</th><th scope="col">Before</th><th scope="col">Now</th></tr>
    </thead>
    <tbody>
    {{#changes}}
    <tr><td>{{change}}</td><td><code>{{controlID}}</code></td><td>{{before}}</td><td>{{now}}</td></tr>
    {{/changes}}
    </tbody>
    {{/hasChanges}}
    {{#unchanged}}
    <tbody><tr><td class="none">No control changed status; none was added or removed.</td></tr></tbody>
    {{/unchanged}}
    </table>
    {{/comparison}}
    </section>
    <section aria-labelledby="controls-heading">
    <h2 id="controls-heading">Controls</h2>
    {{#hasControls}}
    <table>
    <caption>{{total}} controls, sorted by id</caption>
    <thead>
    <tr>
    <th scope="col">ID</th>
    <th scope="col">Title</th>
    <th scope="col">Status</th>
    <th scope="col">Severity</th>
    <th scope="col">Criteria</th>
    <th scope="col">Owner</th>
    <th scope="col">Target</th>
    </tr>
    </thead>
    <tbody>
    {{#controls}}
    <tr>
    <td><a href="{{anchorHref}}"><code>{{id}}</code></a></td>
    <td>{{title}}</td>
    <td><span class="badge status-{{status}}">{{statusLabel}}</span></td>
    <td class="severity-{{severity}}">{{severity}}</td>
    <td>{{criteria}}</td>
    <td>{{owner}}</td>
    <td>{{target}}</td>
    </tr>
    {{/controls}}
    </tbody>
    </table>
    {{/hasControls}}
    {{^hasControls}}
    <p class="none">This run has no controls.</p>
    {{/hasControls}}
    </section>
    {{#controls}}
    <section class="control" id="{{anchor}}" aria-labelledby="{{anchor}}-heading">
    <header>
    <h3 id="{{anchor}}-heading"><code>{{id}}</code> {{title}}</h3>
    <span class="badge status-{{status}}">{{statusLabel}}</span>
    </header>
    <p>{{description}}</p>
    {{#problem}}
    <p class="problem"><strong>{{label}}:</strong> {{text}}</p>
    {{/problem}}
    <table>
    <caption>Control</caption>
    <tbody>
    {{#detailRows}}
    <tr><th scope="row">{{label}}</th><td{{#cellClass}} class="{{.}}"{{/cellClass}}>{{text}}</td></tr>
    {{/detailRows}}
    </tbody>
    </table>
    <h4>Expectations</h4>
    {{#hasExpectations}}
    <ul>
    {{#expectations}}
    <li><code>{{.}}</code></li>
    {{/expectations}}
    </ul>
    {{/hasExpectations}}
    {{^hasExpectations}}
    <p class="none">No expectations: evidence is collected for review only.</p>
    {{/hasExpectations}}
    <h4>Findings</h4>
    {{#hasFindings}}
    <table>
    <caption>Expectations that did not hold</caption>
    <thead>
    <tr>
    <th scope="col">Fact</th>
    <th scope="col">Operator</th>
    <th scope="col">Expected</th>
    <th scope="col">Actual</th>
    <th scope="col">Message</th>
    </tr>
    </thead>
    <tbody>
    {{#findings}}
    <tr>
    <td class="name"><code>{{fact}}</code></td>
    <td class="nowrap"><code>{{operator}}</code></td>
    <td class="value">{{expected.text}}{{#expected.note}} <span class="note">{{.}}</span>{{/expected.note}}</td>
    {{#actual}}
    <td class="value">{{text}}{{#note}} <span class="note">{{.}}</span>{{/note}}</td>
    {{/actual}}
    {{^actual}}
    <td class="none">(absent)</td>
    {{/actual}}
    <td>{{message}}</td>
    </tr>
    {{/findings}}
    </tbody>
    </table>
    {{/hasFindings}}
    {{^hasFindings}}
    <p class="none">No findings.</p>
    {{/hasFindings}}
    <h4>Facts</h4>
    {{#hasFacts}}
    <table>
    <caption>Facts the collector observed</caption>
    <thead>
    <tr><th scope="col">Fact</th><th scope="col">Type</th><th scope="col">Value</th><th scope="col">Backed by</th></tr>
    </thead>
    <tbody>
    {{#facts}}
    <tr>
    <td class="name"><code>{{name}}</code></td>
    <td class="nowrap">{{type}}</td>
    <td class="value">{{value.text}}{{#value.note}} <span class="note">{{.}}</span>{{/value.note}}</td>
    <td class="files">{{#backedBy}}<code>{{.}}</code>{{/backedBy}}</td>
    </tr>
    {{/facts}}
    </tbody>
    </table>
    {{/hasFacts}}
    {{^hasFacts}}
    <p class="none">No facts were recorded.</p>
    {{/hasFacts}}
    <h4>Evidence files</h4>
    {{#hasArtifacts}}
    <table>
    <caption>Files in the bundle</caption>
    <thead>
    <tr>
    <th scope="col">File</th>
    <th scope="col">Size (bytes)</th>
    <th scope="col">SHA-256</th>
    <th scope="col">Media type</th>
    <th scope="col">Truncated</th>
    <th scope="col">Backs facts</th>
    </tr>
    </thead>
    <tbody>
    {{#artifacts}}
    <tr>
    <td>
    {{#href}}
    <a href="{{.}}"><code>{{path}}</code></a>
    {{/href}}
    {{^href}}
    <code>{{path}}</code>
    {{/href}}
    <div class="file-summary">{{summary}}</div>
    </td>
    <td class="nowrap">{{size}}</td>
    <td class="mono hash">{{sha256}}</td>
    <td><code>{{mediaType}}</code></td>
    <td class="nowrap">{{truncatedLabel}}</td>
    <td class="files">{{#backs}}<code>{{.}}</code>{{/backs}}</td>
    </tr>
    {{/artifacts}}
    </tbody>
    </table>
    {{/hasArtifacts}}
    {{^hasArtifacts}}
    <p class="none">No evidence files.</p>
    {{/hasArtifacts}}
    </section>
    {{/controls}}
    <section aria-labelledby="waivers-heading">
    <h2 id="waivers-heading">Waivers</h2>
    {{#hasWaivers}}
    <table>
    <caption>Every waiver known to this run</caption>
    <thead>
    <tr><th scope="col">Waiver</th><th scope="col">Control</th><th scope="col">State</th><th scope="col">Risk</th><th scope="col">Approved</th><th scope="col">Expires</th><th scope="col">Waived controls</th><th scope="col">Justification</th></tr>
    </thead>
    <tbody>
    {{#waivers}}
    <tr class="waiver-{{state}}"><td><code>{{id}}</code></td><td><code>{{control}}</code></td><td><strong>{{stateLabel}}</strong></td><td>{{risk}}</td><td>{{approver}}, {{approvedAt}}</td><td>{{expires}}</td><td>{{appliedTo}}</td><td>{{justification}}</td></tr>
    {{/waivers}}
    </tbody>
    </table>
    {{/hasWaivers}}
    {{^hasWaivers}}
    <p class="none">No waivers.</p>
    {{/hasWaivers}}
    </section>
    <section aria-labelledby="definitions-heading">
    <h2 id="definitions-heading">Definition files</h2>
    {{#hasDefinitionFiles}}
    <table>
    <caption>Files the controls were loaded from</caption>
    <thead>
    <tr><th scope="col">Path</th><th scope="col">SHA-256</th></tr>
    </thead>
    <tbody>
    {{#definitionFiles}}
    <tr><td><code>{{path}}</code></td><td class="mono hash">{{sha256}}</td></tr>
    {{/definitionFiles}}
    </tbody>
    </table>
    {{/hasDefinitionFiles}}
    {{^hasDefinitionFiles}}
    <p class="none">No definition files were recorded.</p>
    {{/hasDefinitionFiles}}
    </section>
    </main>
    <footer>
    <p>Generated {{generatedAt}} by vouch {{toolVersion}}. Times are UTC. Evidence links open the files of bundle
    <code>{{bundleName}}</code>; their SHA-256 digests are listed in its manifest.</p>
    </footer>
    </body>
    </html>

    """#
}

// MARK: - View model: plain values, already formatted, for Mustache.

/// Text for a table cell, cut for display when long.
struct DisplayText: Sendable {
  let text: String
  /// `(truncated, N chars)` when `text` was cut.
  let note: String?
}

/// A labelled value in a two-column table.
struct HTMLRow: Sendable {
  let label: String
  let text: String
  let cellClass: String?

  init(_ label: String, _ text: String, style: String? = nil) {
    self.label = label
    self.text = text
    self.cellClass = style
  }

  /// Shows `absent` in the muted style when `text` is `nil`.
  init(_ label: String, _ text: String?, absent: String, style: String? = nil) {
    self.init(label, text ?? absent, style: text == nil ? "none" : style)
  }
}

struct HTMLCount: Sendable {
  let status: String
  let statusLabel: String
  let count: String
}

struct HTMLProblem: Sendable {
  let label: String
  let text: String
}

struct HTMLFinding: Sendable {
  let fact: String
  let `operator`: String
  let expected: DisplayText
  let actual: DisplayText?
  let message: String
}

struct HTMLFact: Sendable {
  let name: String
  let type: String
  let value: DisplayText
  let backedBy: [String]
}

struct HTMLArtifact: Sendable {
  let path: String
  /// `nil` when the path could leave the bundle; it is then shown without a link.
  let href: String?
  let summary: String
  let size: String
  let sha256: String
  let mediaType: String
  let truncatedLabel: String
  let backs: [String]
}

struct HTMLControl: Sendable {
  let id: String
  let title: String
  let anchor: String
  let anchorHref: String
  let status: String
  let statusLabel: String
  let severity: String
  let criteria: String
  let owner: String
  let target: String
  let description: String
  let problem: HTMLProblem?
  let detailRows: [HTMLRow]
  let expectations: [String]
  let hasExpectations: Bool
  let findings: [HTMLFinding]
  let hasFindings: Bool
  let facts: [HTMLFact]
  let hasFacts: Bool
  let artifacts: [HTMLArtifact]
  let hasArtifacts: Bool
}

/// One row of the waivers table.
struct HTMLWaiver: Sendable {
  let id: String
  let control: String
  let state: String
  let stateLabel: String
  let risk: String
  let approver: String
  let approvedAt: String
  let expires: String
  let appliedTo: String
  let justification: String

  init(_ outcome: WaiverOutcome) {
    let waiver = outcome.waiver
    id = waiver.id
    control = waiver.target.map { "\(waiver.control).\($0)" } ?? waiver.control
    state = outcome.state.rawValue
    switch outcome.state {
    case .applied: stateLabel = "Applied"
    case .active: stateLabel = "In force, unused"
    case .pending: stateLabel = "Not yet in force"
    case .expired:
      stateLabel =
        outcome.failingBecauseExpired.isEmpty
        ? "EXPIRED" : "EXPIRED: \(outcome.failingBecauseExpired.joined(separator: ", ")) fail again"
    }
    risk = waiver.risk.rawValue
    approver = waiver.approver
    approvedAt = Timestamp.format(waiver.approvedAt)
    expires = Timestamp.format(waiver.expires)
    appliedTo = outcome.appliedTo.isEmpty ? "—" : outcome.appliedTo.joined(separator: ", ")
    justification = waiver.justification
  }
}

/// The "changes since the previous run" table; `problem` says why it could not be made.
struct HTMLComparison: Sendable {
  let previousBundle: String
  let problem: String?
  let changes: [HTMLChange]
  let hasChanges: Bool
  let unchanged: Bool

  init(_ comparison: RunComparison) {
    previousBundle = comparison.previousBundle
    problem = comparison.problem
    func rows(_ label: String, _ list: [RunComparison.Change]) -> [HTMLChange] {
      list.map { HTMLChange(change: label, controlID: $0.id, before: $0.from.rawValue, now: $0.to.rawValue) }
    }
    changes =
      rows("Newly failing", comparison.newlyFailing) + rows("Fixed", comparison.fixed)
      + rows("Status changed", comparison.otherChanges)
      + comparison.added.map { HTMLChange(change: "New control", controlID: $0, before: "—", now: "—") }
      + comparison.removed.map { HTMLChange(change: "Removed control", controlID: $0, before: "—", now: "—") }
    hasChanges = !changes.isEmpty
    unchanged = changes.isEmpty && comparison.problem == nil
  }
}

struct HTMLChange: Sendable {
  let change: String
  let controlID: String
  let before: String
  let now: String
}

struct HTMLDefinitionFile: Sendable {
  let path: String
  let sha256: String
}

struct HTMLPage: Sendable {
  let toolVersion: String
  let bundleName: String
  let runID: String
  let generatedAt: String
  let runRows: [HTMLRow]
  let manifestDigest: String?
  let previousBundle: String?
  let signerFingerprint: String?
  let parameterRows: [HTMLRow]
  let counts: [HTMLCount]
  let comparison: HTMLComparison?
  let waivers: [HTMLWaiver]
  let hasWaivers: Bool
  let total: String
  let hasControls: Bool
  let controls: [HTMLControl]
  let definitionFiles: [HTMLDefinitionFile]
  let hasDefinitionFiles: Bool

  /// - Parameter documentName: the report's own file name. In-page links name the document (`report.html#…`), so they
  ///   work unchanged in the copy published with a `<base href>` (see `published`), where a bare `#…` would resolve
  ///   against the base folder; in report.html itself they stay same-document links.
  init(run: RunRecord, context: ReportContext, documentName: String) {
    toolVersion = run.toolVersion
    bundleName = run.bundleName
    runID = run.runID
    generatedAt = Timestamp.format(context.generatedAt)
    runRows = [
      HTMLRow("Bundle", run.bundleName, style: "mono"),
      HTMLRow("Run ID", run.runID, style: "mono"),
      HTMLRow("Tool version", run.toolVersion),
      HTMLRow("Host", run.host),
      HTMLRow("Started (UTC)", Timestamp.format(run.startedAt)),
      HTMLRow("Finished (UTC)", Timestamp.format(run.finishedAt)),
    ]
    manifestDigest = run.manifestDigest
    previousBundle = run.previousBundle
    signerFingerprint = run.signerFingerprint
    let parameters = run.parameters
    parameterRows = [
      HTMLRow("Controls directory", parameters.controlsDirectory, style: "mono"),
      HTMLRow("Variables file", parameters.variablesFile, absent: "none", style: "mono"),
      HTMLRow("Concurrency", String(parameters.concurrency)),
      HTMLRow("Timeout per collector (s)", FactValue.number(parameters.timeout).rendered),
      HTMLRow("Only", parameters.only.isEmpty ? nil : parameters.only.joined(separator: ", "), absent: "all controls"),
      HTMLRow(
        "Criteria filter", parameters.criteria.isEmpty ? nil : parameters.criteria.joined(separator: ", "),
        absent: "all criteria"),
    ]
    let statusCounts = run.counts
    counts = ControlStatus.allCases.map { status in
      HTMLCount(status: status.rawValue, statusLabel: Self.label(status), count: String(statusCounts[status]))
    }
    total = String(statusCounts.total)
    comparison = run.comparison.map(HTMLComparison.init)
    waivers = run.waivers.map(HTMLWaiver.init)
    hasWaivers = !waivers.isEmpty
    hasControls = !run.results.isEmpty
    controls = run.results.map { Self.control($0, bundleHref: context.bundleHref, fragmentBase: documentName) }
    definitionFiles = run.definitionFiles.map { HTMLDefinitionFile(path: $0.path, sha256: $0.sha256) }
    hasDefinitionFiles = !definitionFiles.isEmpty
  }

  static func label(_ status: ControlStatus) -> String {
    switch status {
    case .pass: return "Pass"
    case .fail: return "Fail"
    case .error: return "Error"
    case .stale: return "Stale"
    case .waived: return "Waived"
    case .skipped: return "Skipped"
    case .notApplicable: return "Not applicable"
    }
  }

  static func reasonLabel(_ status: ControlStatus) -> String {
    switch status {
    case .skipped: return "Skipped because"
    case .notApplicable: return "Not applicable because"
    case .stale: return "Stale because"
    case .waived: return "Waived"
    case .pass, .fail, .error: return "Error"
    }
  }

  private static func control(_ result: ControlResult, bundleHref: String, fragmentBase: String) -> HTMLControl {
    let anchor = "control-" + URLReference.encodeSegment(result.id)
    var details = [
      HTMLRow("Severity", result.severity.rawValue, style: "severity-\(result.severity.rawValue)"),
      HTMLRow("Criteria", result.criteria.isEmpty ? nil : result.criteria.joined(separator: ", "), absent: "none"),
      HTMLRow("Owner", result.owner),
      HTMLRow("Frequency", result.frequency),
      HTMLRow("Target", result.target, absent: "none"),
      HTMLRow("Collector", result.collector, style: "mono"),
      HTMLRow("Started (UTC)", result.startedAt.map(Timestamp.format), absent: "not run"),
      HTMLRow("Finished (UTC)", result.finishedAt.map(Timestamp.format), absent: "not run"),
    ]
    if let duration = result.durationMilliseconds { details.append(HTMLRow("Duration", "\(duration) ms")) }
    details.append(HTMLRow("Defined at", "\(result.source.file):\(result.source.line)", style: "mono"))
    details.append(HTMLRow("Definition SHA-256", result.sourceDigest, style: "mono hash"))

    let problem = result.reason.map { reason in
      HTMLProblem(label: Self.reasonLabel(result.status), text: reason)
    }
    let findings = result.findings.map { finding in
      HTMLFinding(
        fact: finding.fact, operator: finding.op.rawValue, expected: HTMLReport.display(finding.expected.rendered),
        actual: finding.actual.map { HTMLReport.display($0.rendered) }, message: finding.message)
    }
    let facts = result.facts.keys.sorted().compactMap { name -> HTMLFact? in
      guard let value = result.facts[name] else { return nil }
      return HTMLFact(
        name: name, type: value.typeName, value: HTMLReport.display(value.rendered),
        backedBy: result.evidence[name] ?? [])
    }
    let artifacts = result.artifacts.map { artifact in
      HTMLArtifact(
        path: artifact.path, href: URLReference.bundleRelative(artifact.path).map { bundleHref + $0 },
        summary: artifact.summary, size: String(artifact.size), sha256: artifact.sha256,
        mediaType: artifact.mediaType, truncatedLabel: artifact.truncated ? "yes" : "no",
        backs: result.evidence.keys.sorted().filter { result.evidence[$0]?.contains(artifact.path) ?? false })
    }
    return HTMLControl(
      id: result.id, title: result.title, anchor: anchor, anchorHref: fragmentBase + "#" + anchor,
      status: result.status.rawValue, statusLabel: label(result.status), severity: result.severity.rawValue,
      criteria: result.criteria.joined(separator: ", "), owner: result.owner, target: result.target ?? "—",
      description: result.description, problem: problem, detailRows: details,
      expectations: result.expectations, hasExpectations: !result.expectations.isEmpty,
      findings: findings, hasFindings: !findings.isEmpty, facts: facts, hasFacts: !facts.isEmpty,
      artifacts: artifacts, hasArtifacts: !artifacts.isEmpty)
  }
}

// Mustache finds values through these tables instead of reflecting over every field on each lookup, which
// dominated rendering time for large runs.

extension DisplayText: MustacheView {
  static let fields: [String: PartialKeyPath<DisplayText> & Sendable] = [
    "text": \DisplayText.text,
    "note": \DisplayText.note,
  ]
}

extension HTMLRow: MustacheView {
  static let fields: [String: PartialKeyPath<HTMLRow> & Sendable] = [
    "label": \HTMLRow.label,
    "text": \HTMLRow.text,
    "cellClass": \HTMLRow.cellClass,
  ]
}

extension HTMLCount: MustacheView {
  static let fields: [String: PartialKeyPath<HTMLCount> & Sendable] = [
    "status": \HTMLCount.status,
    "statusLabel": \HTMLCount.statusLabel,
    "count": \HTMLCount.count,
  ]
}

extension HTMLProblem: MustacheView {
  static let fields: [String: PartialKeyPath<HTMLProblem> & Sendable] = [
    "label": \HTMLProblem.label,
    "text": \HTMLProblem.text,
  ]
}

extension HTMLFinding: MustacheView {
  static let fields: [String: PartialKeyPath<HTMLFinding> & Sendable] = [
    "fact": \HTMLFinding.fact,
    "operator": \HTMLFinding.`operator`,
    "expected": \HTMLFinding.expected,
    "actual": \HTMLFinding.actual,
    "message": \HTMLFinding.message,
  ]
}

extension HTMLFact: MustacheView {
  static let fields: [String: PartialKeyPath<HTMLFact> & Sendable] = [
    "name": \HTMLFact.name,
    "type": \HTMLFact.type,
    "value": \HTMLFact.value,
    "backedBy": \HTMLFact.backedBy,
  ]
}

extension HTMLArtifact: MustacheView {
  static let fields: [String: PartialKeyPath<HTMLArtifact> & Sendable] = [
    "path": \HTMLArtifact.path,
    "href": \HTMLArtifact.href,
    "summary": \HTMLArtifact.summary,
    "size": \HTMLArtifact.size,
    "sha256": \HTMLArtifact.sha256,
    "mediaType": \HTMLArtifact.mediaType,
    "truncatedLabel": \HTMLArtifact.truncatedLabel,
    "backs": \HTMLArtifact.backs,
  ]
}

extension HTMLControl: MustacheView {
  static let fields: [String: PartialKeyPath<HTMLControl> & Sendable] = [
    "id": \HTMLControl.id,
    "title": \HTMLControl.title,
    "anchor": \HTMLControl.anchor,
    "anchorHref": \HTMLControl.anchorHref,
    "status": \HTMLControl.status,
    "statusLabel": \HTMLControl.statusLabel,
    "severity": \HTMLControl.severity,
    "criteria": \HTMLControl.criteria,
    "owner": \HTMLControl.owner,
    "target": \HTMLControl.target,
    "description": \HTMLControl.description,
    "problem": \HTMLControl.problem,
    "detailRows": \HTMLControl.detailRows,
    "expectations": \HTMLControl.expectations,
    "hasExpectations": \HTMLControl.hasExpectations,
    "findings": \HTMLControl.findings,
    "hasFindings": \HTMLControl.hasFindings,
    "facts": \HTMLControl.facts,
    "hasFacts": \HTMLControl.hasFacts,
    "artifacts": \HTMLControl.artifacts,
    "hasArtifacts": \HTMLControl.hasArtifacts,
  ]
}

extension HTMLDefinitionFile: MustacheView {
  static let fields: [String: PartialKeyPath<HTMLDefinitionFile> & Sendable] = [
    "path": \HTMLDefinitionFile.path,
    "sha256": \HTMLDefinitionFile.sha256,
  ]
}

extension HTMLPage: MustacheView {
  static let fields: [String: PartialKeyPath<HTMLPage> & Sendable] = [
    "toolVersion": \HTMLPage.toolVersion,
    "bundleName": \HTMLPage.bundleName,
    "runID": \HTMLPage.runID,
    "generatedAt": \HTMLPage.generatedAt,
    "runRows": \HTMLPage.runRows,
    "manifestDigest": \HTMLPage.manifestDigest,
    "previousBundle": \HTMLPage.previousBundle,
    "signerFingerprint": \HTMLPage.signerFingerprint,
    "parameterRows": \HTMLPage.parameterRows,
    "counts": \HTMLPage.counts,
    "comparison": \HTMLPage.comparison,
    "waivers": \HTMLPage.waivers,
    "hasWaivers": \HTMLPage.hasWaivers,
    "total": \HTMLPage.total,
    "hasControls": \HTMLPage.hasControls,
    "controls": \HTMLPage.controls,
    "definitionFiles": \HTMLPage.definitionFiles,
    "hasDefinitionFiles": \HTMLPage.hasDefinitionFiles,
  ]
}

extension HTMLComparison: MustacheView {
  static let fields: [String: PartialKeyPath<HTMLComparison> & Sendable] = [
    "previousBundle": \HTMLComparison.previousBundle,
    "problem": \HTMLComparison.problem,
    "changes": \HTMLComparison.changes,
    "hasChanges": \HTMLComparison.hasChanges,
    "unchanged": \HTMLComparison.unchanged,
  ]
}

extension HTMLChange: MustacheView {
  static let fields: [String: PartialKeyPath<HTMLChange> & Sendable] = [
    "change": \HTMLChange.change,
    "controlID": \HTMLChange.controlID,
    "before": \HTMLChange.before,
    "now": \HTMLChange.now,
  ]
}

extension HTMLWaiver: MustacheView {
  static let fields: [String: PartialKeyPath<HTMLWaiver> & Sendable] = [
    "id": \HTMLWaiver.id,
    "control": \HTMLWaiver.control,
    "state": \HTMLWaiver.state,
    "stateLabel": \HTMLWaiver.stateLabel,
    "risk": \HTMLWaiver.risk,
    "approver": \HTMLWaiver.approver,
    "approvedAt": \HTMLWaiver.approvedAt,
    "expires": \HTMLWaiver.expires,
    "appliedTo": \HTMLWaiver.appliedTo,
    "justification": \HTMLWaiver.justification,
  ]
}
