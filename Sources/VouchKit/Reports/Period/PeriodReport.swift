import Crypto
import Foundation
import Mustache
import Synchronization

/// `vouch report`: the period report an auditor reads for a SOC 2 Type 2 period, as HTML and XML.
public struct PeriodReport: Sendable {
  public let clock: any WallClock

  public init(clock: any WallClock) {
    self.clock = clock
  }

  /// Verifies the bundles of the period, summarises them and writes `period.html` and `period.xml` into
  /// `<reports>/period-<from>_<to>/`.
  ///
  /// - Returns: the summary and the files written.
  public func write(
    evidence: URL, reports: URL, from: Date, to: Date, criteria: [String], key: Curve25519.Signing.PublicKey?
  ) throws -> (PeriodSummary, [URL]) {
    let store = BundleStore(directory: evidence)
    let verification = try Verifier().verify(evidence, key: key, from: from, to: to)
    // Reading a year of results back is JSON decoding of hundreds of files: spread it over every core.
    let names = verification.bundles
    let loaded = Mutex([Int: Result<RunRecord, EvidenceError>]())
    DispatchQueue.concurrentPerform(iterations: names.count) { index in
      let result = Result { () throws(EvidenceError) -> RunRecord in try store.loadRecord(named: names[index]) }
      loaded.withLock { $0[index] = result }
    }
    let records = try loaded.withLock { results in
      try names.indices.map { index throws(EvidenceError) -> RunRecord in
        guard let result = results[index] else { throw EvidenceError("bundle \(names[index]) was not read") }
        return try result.get()
      }
    }
    let summary = PeriodSummary(
      records: records, from: Verifier.utcDay(from), to: Verifier.utcDay(to), criteria: criteria,
      verificationProblems: verification.problems.map(\.description), generatedAt: clock.now())
    let suffix = criteria.isEmpty ? "" : "-" + criteria.joined(separator: "-")
    let folder = reports.appendingPathComponent("period-\(summary.from)_\(summary.to)\(suffix)", isDirectory: true)
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
      throw ReportError("cannot create report folder \(folder.path): \(error.localizedDescription)")
    }
    let evidenceHref = URLReference.relativeFolder(from: folder, to: store.directory)
    let html = folder.appendingPathComponent("period.html")
    let xml = folder.appendingPathComponent("period.xml")
    try ReportWriter.writeAtomically(try Self.html(summary, evidenceHref: evidenceHref), to: html)
    try ReportWriter.writeAtomically(try Self.xml(summary), to: xml)
    return (summary, [html, xml])
  }

  static func html(_ summary: PeriodSummary, evidenceHref: String) throws -> Data {
    let template: MustacheTemplate
    do {
      template = try MustacheTemplate(string: Self.template)
    } catch {
      throw ReportError("the built-in period report template does not parse: \(error)")
    }
    return Data(template.render(PeriodPage(summary, evidenceHref: evidenceHref)).utf8)
  }

  static func xml(_ summary: PeriodSummary) throws -> Data {
    let xml = try XMLTextWriter()
    try xml.startDocument(root: "period", namespace: "urn:vouch:period:1")
    try xml.attribute("from", summary.from)
    try xml.attribute("to", summary.to)
    try xml.attribute("generatedAt", Timestamp.format(summary.generatedAt))
    try xml.element("bundles") {
      for bundle in summary.bundles { try xml.element("bundle", text: bundle) }
    }
    try xml.element("verification") {
      try xml.attribute("intact", summary.verificationProblems.isEmpty ? "true" : "false")
      for problem in summary.verificationProblems { try xml.element("problem", text: problem) }
    }
    try xml.element("daysWithoutRun") {
      for day in summary.daysWithoutRun { try xml.element("day", text: day) }
    }
    try xml.element("criteria") {
      for criterion in summary.criteria {
        try xml.element("criterion") {
          try xml.attribute("id", criterion.criterion)
          try xml.attribute("controls", String(criterion.controls.count))
          try xml.attribute("evaluatedDays", String(criterion.evaluatedDays))
          try xml.attribute("passDays", String(criterion.passDays))
          try xml.attribute("exceptions", String(criterion.exceptions))
        }
      }
    }
    try xml.element("controls") {
      for control in summary.controls {
        try xml.element("control") {
          try xml.attribute("id", control.id)
          try xml.attribute("evaluatedDays", String(control.evaluatedDays))
          try xml.attribute("passDays", String(control.passDays))
          try xml.element("title", text: control.title)
          try xml.element("owner", text: control.owner)
          for criterion in control.criteria { try xml.element("criterion", text: criterion) }
          for day in control.days {
            try xml.element("day") {
              try xml.attribute("date", day.date)
              try xml.attribute("status", day.status)
              if let bundle = day.bundle { try xml.attribute("bundle", bundle) }
            }
          }
          for exception in control.exceptions {
            try xml.element("exception") {
              try xml.attribute("date", exception.date)
              try xml.attribute("status", exception.status.rawValue)
              try xml.attribute("bundle", exception.bundle)
              try xml.text(exception.detail)
            }
          }
        }
      }
    }
    try xml.element("waivers") {
      for outcome in summary.waivers {
        try xml.element("waiver") {
          try xml.attribute("id", outcome.waiver.id)
          try xml.attribute("control", outcome.waiver.control)
          try xml.attribute("state", outcome.state.rawValue)
          try xml.attribute("expires", Timestamp.format(outcome.waiver.expires))
          try xml.text(outcome.waiver.justification)
        }
      }
    }
    return try xml.finish()
  }

  static let template = #"""
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
    <title>Vouch period report · {{from}} to {{to}}</title>
    <style>
    body { margin: 0 auto; max-width: 80rem; padding: 1.5rem; color: #1f2933;
      font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
    h2 { border-bottom: 2px solid #d9dee4; margin-top: 2rem; }
    table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
    th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #d9dee4; vertical-align: top; }
    caption { text-align: left; font-weight: 600; color: #52606d; }
    .calendar { display: flex; flex-wrap: wrap; gap: 2px; list-style: none; padding: 0; margin: .3rem 0; }
    .calendar li { width: 1.3rem; height: 1.3rem; font-size: .65rem; line-height: 1.3rem; text-align: center;
      border-radius: 3px; border: 1px solid #c3c9d1; }
    .day-pass { background: #e6f4ea; } .day-fail { background: #fdecea; color: #a4161a; }
    .day-error { background: #fff4e5; color: #8a4b00; } .day-stale { background: #fff8d6; }
    .day-waived { background: #f1ebfb; } .day-missing { background: #fff; color: #a4161a; }
    .day-skipped, .day-not-applicable { background: #eef0f3; }
    .alert { color: #a4161a; font-weight: 600; }
    .none { color: #52606d; }
    @media print { .control { break-inside: avoid; } a { color: inherit; } }
    </style>
    </head>
    <body>
    <h1>Period report {{from}} to {{to}}</h1>
    <p>{{bundleCount}} nightly bundle(s){{#criteriaFilter}}, criteria {{.}}{{/criteriaFilter}}; generated {{generatedAt}}.</p>
    {{#intact}}<p>Every bundle of the period verified: digests, chain links and signatures.</p>{{/intact}}
    {{^intact}}
    <p class="alert">Verification found problems; the evidence below cannot be relied on until they are explained:</p>
    <ul>{{#verificationProblems}}<li>{{.}}</li>{{/verificationProblems}}</ul>
    {{/intact}}
    {{#hasGaps}}<p class="alert">No run on: {{gaps}}</p>{{/hasGaps}}
    <h2>Criteria</h2>
    <table>
    <caption>Roll-up by Trust Services Criterion</caption>
    <thead><tr><th scope="col">Criterion</th><th scope="col">Controls</th><th scope="col">Days evaluated</th><th scope="col">Days passed</th><th scope="col">Exceptions</th><th scope="col">Pass rate</th></tr></thead>
    <tbody>
    {{#criteria}}
    <tr><td>{{criterion}}</td><td>{{controls}}</td><td>{{evaluatedDays}}</td><td>{{passDays}}</td><td>{{exceptions}}</td><td>{{passRate}}</td></tr>
    {{/criteria}}
    </tbody>
    </table>
    <h2>Controls</h2>
    {{#controls}}
    <section class="control" id="control-{{id}}">
    <h3><code>{{id}}</code> {{title}}</h3>
    <p>Criteria {{criteria}} · owner {{owner}} · pass rate <strong>{{passRate}}</strong> ({{passDays}} of {{evaluatedDays}} evaluated days)</p>
    <ol class="calendar" aria-label="Day by day">
    {{#days}}<li class="day-{{status}}" title="{{date}}: {{status}}">{{mark}}</li>{{/days}}
    </ol>
    {{#hasExceptions}}
    <table>
    <caption>Exceptions</caption>
    <thead><tr><th scope="col">Date</th><th scope="col">Status</th><th scope="col">Finding</th><th scope="col">Evidence</th></tr></thead>
    <tbody>
    {{#exceptions}}
    <tr><td>{{date}}</td><td>{{status}}</td><td>{{detail}}</td><td><a href="{{href}}">{{bundle}}</a></td></tr>
    {{/exceptions}}
    </tbody>
    </table>
    {{/hasExceptions}}
    {{^hasExceptions}}<p class="none">No exceptions in the period.</p>{{/hasExceptions}}
    </section>
    {{/controls}}
    <h2>Waivers</h2>
    {{#hasWaivers}}
    <table>
    <caption>Waivers as the latest run of the period saw them</caption>
    <thead><tr><th scope="col">Waiver</th><th scope="col">Control</th><th scope="col">State</th><th scope="col">Expires</th><th scope="col">Justification</th></tr></thead>
    <tbody>
    {{#waivers}}<tr><td>{{id}}</td><td>{{control}}</td><td>{{state}}</td><td>{{expires}}</td><td>{{justification}}</td></tr>{{/waivers}}
    </tbody>
    </table>
    {{/hasWaivers}}
    {{^hasWaivers}}<p class="none">No waivers.</p>{{/hasWaivers}}
    </body>
    </html>

    """#
}

/// The period report's view model: plain values, every one rendered through an escaping tag.
struct PeriodPage: Sendable {
  struct Day: Sendable {
    let date: String
    let status: String
    let mark: String
  }

  struct Exception: Sendable {
    let date: String
    let status: String
    let detail: String
    let bundle: String
    let href: String
  }

  struct Control: Sendable {
    let id: String
    let title: String
    let criteria: String
    let owner: String
    let passRate: String
    let passDays: Int
    let evaluatedDays: Int
    let days: [Day]
    let exceptions: [Exception]
    let hasExceptions: Bool
  }

  struct Criterion: Sendable {
    let criterion: String
    let controls: Int
    let evaluatedDays: Int
    let passDays: Int
    let exceptions: Int
    let passRate: String
  }

  struct Waiver: Sendable {
    let id: String
    let control: String
    let state: String
    let expires: String
    let justification: String
  }

  let from: String
  let to: String
  let generatedAt: String
  let bundleCount: Int
  let criteriaFilter: String?
  let intact: Bool
  let verificationProblems: [String]
  let hasGaps: Bool
  let gaps: String
  let criteria: [Criterion]
  let controls: [Control]
  let waivers: [Waiver]
  let hasWaivers: Bool

  init(_ summary: PeriodSummary, evidenceHref: String) {
    from = summary.from
    to = summary.to
    generatedAt = Timestamp.format(summary.generatedAt)
    bundleCount = summary.bundles.count
    criteriaFilter = summary.criteriaFilter.isEmpty ? nil : summary.criteriaFilter.joined(separator: ", ")
    intact = summary.verificationProblems.isEmpty
    verificationProblems = summary.verificationProblems
    hasGaps = !summary.daysWithoutRun.isEmpty
    gaps = summary.daysWithoutRun.joined(separator: ", ")
    criteria = summary.criteria.map {
      Criterion(
        criterion: $0.criterion, controls: $0.controls.count, evaluatedDays: $0.evaluatedDays, passDays: $0.passDays,
        exceptions: $0.exceptions, passRate: Self.percent($0.passRate))
    }
    controls = summary.controls.map { control in
      Control(
        id: control.id, title: control.title, criteria: control.criteria.joined(separator: ", "), owner: control.owner,
        passRate: Self.percent(control.passRate), passDays: control.passDays, evaluatedDays: control.evaluatedDays,
        days: control.days.map { Day(date: $0.date, status: $0.status, mark: Self.mark($0.status)) },
        exceptions: control.exceptions.map {
          Exception(
            date: $0.date, status: $0.status.rawValue, detail: $0.detail, bundle: $0.bundle,
            href: evidenceHref + URLReference.encodeSegment($0.bundle) + "/")
        },
        hasExceptions: !control.exceptions.isEmpty)
    }
    waivers = summary.waivers.map {
      Waiver(
        id: $0.waiver.id, control: $0.waiver.control, state: $0.state.rawValue,
        expires: Timestamp.format($0.waiver.expires), justification: $0.waiver.justification)
    }
    hasWaivers = !waivers.isEmpty
  }

  /// One letter per day so the calendar reads in print and without colour.
  static func mark(_ status: String) -> String {
    switch status {
    case "pass": return "P"
    case "fail": return "F"
    case "error": return "E"
    case "stale": return "S"
    case "waived": return "W"
    case "missing": return "–"
    default: return "·"
    }
  }

  static func percent(_ rate: Double?) -> String {
    guard let rate else { return "—" }
    return String(format: "%.1f %%", rate * 100)
  }
}

// Key-path tables: a year of days per control is tens of thousands of lookups, too many for reflection.
extension PeriodPage.Day: MustacheView {
  static let fields: [String: PartialKeyPath<PeriodPage.Day> & Sendable] = [
    "date": \PeriodPage.Day.date,
    "status": \PeriodPage.Day.status,
    "mark": \PeriodPage.Day.mark,
  ]
}

extension PeriodPage.Exception: MustacheView {
  static let fields: [String: PartialKeyPath<PeriodPage.Exception> & Sendable] = [
    "date": \PeriodPage.Exception.date,
    "status": \PeriodPage.Exception.status,
    "detail": \PeriodPage.Exception.detail,
    "bundle": \PeriodPage.Exception.bundle,
    "href": \PeriodPage.Exception.href,
  ]
}

extension PeriodPage.Control: MustacheView {
  static let fields: [String: PartialKeyPath<PeriodPage.Control> & Sendable] = [
    "id": \PeriodPage.Control.id,
    "title": \PeriodPage.Control.title,
    "criteria": \PeriodPage.Control.criteria,
    "owner": \PeriodPage.Control.owner,
    "passRate": \PeriodPage.Control.passRate,
    "passDays": \PeriodPage.Control.passDays,
    "evaluatedDays": \PeriodPage.Control.evaluatedDays,
    "days": \PeriodPage.Control.days,
    "exceptions": \PeriodPage.Control.exceptions,
    "hasExceptions": \PeriodPage.Control.hasExceptions,
  ]
}

extension PeriodPage.Criterion: MustacheView {
  static let fields: [String: PartialKeyPath<PeriodPage.Criterion> & Sendable] = [
    "criterion": \PeriodPage.Criterion.criterion,
    "controls": \PeriodPage.Criterion.controls,
    "evaluatedDays": \PeriodPage.Criterion.evaluatedDays,
    "passDays": \PeriodPage.Criterion.passDays,
    "exceptions": \PeriodPage.Criterion.exceptions,
    "passRate": \PeriodPage.Criterion.passRate,
  ]
}

extension PeriodPage.Waiver: MustacheView {
  static let fields: [String: PartialKeyPath<PeriodPage.Waiver> & Sendable] = [
    "id": \PeriodPage.Waiver.id,
    "control": \PeriodPage.Waiver.control,
    "state": \PeriodPage.Waiver.state,
    "expires": \PeriodPage.Waiver.expires,
    "justification": \PeriodPage.Waiver.justification,
  ]
}

extension PeriodPage: MustacheView {
  static let fields: [String: PartialKeyPath<PeriodPage> & Sendable] = [
    "from": \PeriodPage.from,
    "to": \PeriodPage.to,
    "generatedAt": \PeriodPage.generatedAt,
    "bundleCount": \PeriodPage.bundleCount,
    "criteriaFilter": \PeriodPage.criteriaFilter,
    "intact": \PeriodPage.intact,
    "verificationProblems": \PeriodPage.verificationProblems,
    "hasGaps": \PeriodPage.hasGaps,
    "gaps": \PeriodPage.gaps,
    "criteria": \PeriodPage.criteria,
    "controls": \PeriodPage.controls,
    "waivers": \PeriodPage.waivers,
    "hasWaivers": \PeriodPage.hasWaivers,
  ]
}
