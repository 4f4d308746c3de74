import Crypto
import Foundation

/// Measures the promises made to people who report vulnerabilities — first response within N business days, kept
/// informed, resolution targets, no disclosure before resolution, credit in the acknowledgments — from the export the
/// security team already keeps. Reporter identities only ever reach the bundle as keyed pseudonyms.
public struct ReportSLACollector: Collector {
  public static let kind = "report-sla"
  public static let summary =
    "Business-day response, update, resolution, disclosure and credit metrics from a vulnerability-report export."

  enum Format: String, CaseIterable {
    case csv, json, jsonl, hackerone
  }

  enum Window: Sendable {
    case last(Double)
    case range(from: Double, to: Double?)
  }

  static let inputArtifact = "input.json"
  static let reportsArtifact = "reports.csv"
  static let rejectedArtifact = "rejected.csv"
  static let summaryArtifact = "summary.json"
  static let acknowledgmentsArtifact = "acknowledgments.json"

  public static let parameters: [ParameterSpec] = [
    ParameterSpec("path", .string, "The export file (relative paths resolve from where vouch runs); or `url`."),
    ParameterSpec("url", .string, "An http(s) URL of the export; HackerOne pages are followed through links.next."),
    ParameterSpec("format", .string, default: "csv", "One of csv, json, jsonl, hackerone."),
    ParameterSpec(
      "columns", .stringMap,
      "Field → CSV column or JSON path: id and received_at required; first_response_at, updates, resolved_at, "
        + "disclosed_at, severity, state, reporter, credit_name, credit optional. hackerone has defaults."),
    ParameterSpec("records_path", .string, "format json: dotted path to the list of records (default: the document)."),
    ParameterSpec(
      "updates_file", .string,
      "CSV of update timestamps, one row per update, merged with any `updates` column (relative to where vouch runs)."),
    ParameterSpec(
      "updates_columns", .stringMap, "With updates_file: id → column of the report id, at → column of its timestamp."),
    ParameterSpec("time_zone", .string, required: true, "IANA time zone of the responding team, e.g. Europe/Berlin."),
    ParameterSpec("weekend", .stringList, default: "[saturday, sunday]", "Weekdays that are never business days."),
    ParameterSpec("holidays", .stringList, "Dates (2026-12-25) that are not business days."),
    ParameterSpec("holidays_file", .string, "A file of holiday dates, one per line; `#` starts a comment."),
    ParameterSpec("business_hours", .string, "Local opening hours such as 09:00-17:00; default the whole day."),
    ParameterSpec("response_business_days", .integer, default: "3", "Promised first response, in business days."),
    ParameterSpec("last", .duration, default: "90d", "Window: reports received in this period before now."),
    ParameterSpec("from", .date, "Window start (inclusive), instead of `last`."),
    ParameterSpec("to", .date, "Window end (exclusive) with `from`; default now."),
    ParameterSpec(
      "update_cadence_business_days", .number, default: "5",
      "Longest acceptable gap between updates while a report is open."),
    ParameterSpec("resolution_targets", .stringMap, "Severity → business days to resolution, e.g. {critical: 5}."),
    ParameterSpec("acknowledgments_url", .string, "Page that must name resolved reporters who asked for credit."),
    ParameterSpec("credited_states", .stringList, default: "[resolved]", "States whose reporters are owed credit."),
    ParameterSpec("auth_token_env", .string, "Environment variable holding the API token; never written."),
    ParameterSpec("auth_scheme", .string, default: "Bearer", "Bearer, Basic (token is user:secret) or Token."),
    ParameterSpec("pseudonym_key_env", .string, "Environment variable holding the pseudonym key (≥ 16 bytes)."),
    ParameterSpec("pseudonym_key_file", .string, "File holding the pseudonym key (≥ 16 bytes)."),
    ParameterSpec("store_raw_input", .boolean, default: "false", "Copy the raw export (with identities) into the bundle."),
    ParameterSpec("timeout", .duration, default: "60s", "Limit for each HTTP request."),
    ParameterSpec("ca_bundle", .string, "PEM file of CAs to trust for the export URL and acknowledgments page."),
    ParameterSpec("max_pages", .integer, default: "1000", "hackerone by URL: stop with an error after this many pages."),
    ParameterSpec("max_listed", .integer, default: "100", "Entries kept in list facts; counts are always complete."),
  ]

  public static let facts: [FactSpec] = [
    FactSpec("input_sha256", .string, "SHA-256 of the exact input bytes (pages in order).", evidence: [inputArtifact]),
    FactSpec("input_size", .integer, "Bytes of input.", evidence: [inputArtifact]),
    FactSpec("reports_received", .integer, "Valid reports received in the window.", evidence: [reportsArtifact]),
    FactSpec("reports_outside_window", .integer, "Valid reports received outside the window (not measured)."),
    FactSpec(
      "first_responses_within_sla", .integer, "First responses at or before the deadline.", evidence: [reportsArtifact]),
    FactSpec(
      "first_response_sla_ratio", .number,
      "within / (within + breaches + overdue); 1 when nothing was due.", evidence: [reportsArtifact]),
    FactSpec("sla_breaches", .integer, "Reports answered after the deadline, or closed unanswered after it.",
      evidence: [reportsArtifact]),
    FactSpec(
      "sla_breach_details", .list, "id, received_at, deadline, responded_at, business_days_late per breach.",
      evidence: [reportsArtifact]),
    FactSpec("overdue_unanswered", .integer, "Open reports without a response past their deadline.",
      evidence: [reportsArtifact]),
    FactSpec(
      "overdue_unanswered_details", .list, "id, received_at, deadline, business_days_overdue per overdue report.",
      evidence: [reportsArtifact]),
    FactSpec("reports_pending", .integer, "Open reports without a response, not yet due.", evidence: [reportsArtifact]),
    FactSpec("first_response_p50_business_days", .number, "Median business days to first response; null if none.",
      evidence: [reportsArtifact]),
    FactSpec("first_response_p90_business_days", .number, "90th percentile (linear interpolation).",
      evidence: [reportsArtifact]),
    FactSpec("first_response_max_business_days", .number, "Slowest first response.", evidence: [reportsArtifact]),
    FactSpec(
      "longest_update_gap_business_days", .number, "Longest silence while a report was open.",
      evidence: [reportsArtifact]),
    FactSpec("update_cadence_breaches", .integer, "Reports whose longest gap exceeds the cadence.",
      evidence: [reportsArtifact]),
    FactSpec("update_cadence_breach_ids", .stringList, "Their ids.", evidence: [reportsArtifact]),
    FactSpec(
      "resolution_by_severity", .map,
      "Per severity: resolved, p50_business_days, max_business_days, target_business_days, over_target.",
      evidence: [reportsArtifact]),
    FactSpec("resolution_target_breaches", .integer, "Resolved reports slower than their severity's target.",
      evidence: [reportsArtifact]),
    FactSpec("disclosed_before_resolved", .integer, "Reports disclosed before (or without) resolution.",
      evidence: [reportsArtifact]),
    FactSpec("disclosed_before_resolved_ids", .stringList, "Their ids.", evidence: [reportsArtifact]),
    FactSpec(
      "missing_acknowledgments", .integer,
      "Resolved reports owed credit whose name is not on the acknowledgments page (only with acknowledgments_url).",
      evidence: [acknowledgmentsArtifact]),
    FactSpec("missing_acknowledgment_ids", .stringList, "Their ids.", evidence: [acknowledgmentsArtifact]),
    FactSpec(
      "rejected_rows", .integer, "Records of the export or the updates file that could not be used.",
      evidence: [rejectedArtifact]),
    FactSpec("rejected_row_reasons", .stringList, "Location, id and every reason, per rejected record.",
      evidence: [rejectedArtifact]),
    FactSpec("timestamps_without_offset", .integer, "Measured reports with a timestamp read in the team's zone.",
      evidence: [reportsArtifact]),
  ]

  let path: String?
  let url: String?
  let format: Format
  let mapping: [ReportField: String]
  let recordsPath: [String]
  let updatesFile: String?
  let updatesColumns: UpdatesColumns?
  let calendar: BusinessCalendar
  let holidaysFile: String?
  let window: Window
  let targets: SLATargets
  let acknowledgmentsURL: String?
  let authTokenEnv: String?
  let authScheme: String
  let keyEnv: String?
  let keyFile: String?
  let storeRawInput: Bool
  let timeout: Double
  let caBundle: String?
  let maxPages: Int
  /// Bytes the CSV reader takes at a time, and so the size of the chunks measured in parallel; tests make it small so
  /// records cross chunk boundaries.
  var csvBlockSize = CSVChunkReader.defaultBlockSize

  public init(parameters: Parameters) throws(ParameterError) {
    path = parameters.string("path")
    url = parameters.string("url")
    guard (path == nil) != (url == nil) else { throw ParameterError("path", "give exactly one of `path` and `url`") }
    if let url { try Self.checkURL(url, "url") }
    let formatName = parameters.string("format") ?? "csv"
    guard let format = Format(rawValue: formatName.lowercased()) else {
      throw ParameterError("format", "'\(formatName)' is not one of \(Format.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    self.format = format
    var mapping: [ReportField: String] = [:]
    for (key, value) in parameters.stringMap("columns") ?? [:] {
      guard let field = ReportField(rawValue: key) else {
        throw ParameterError(
          "columns", "'\(key)' is not a field; fields: \(ReportField.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw ParameterError("columns", "\(key) maps to an empty column name")
      }
      mapping[field] = value
    }
    if format != .hackerone {
      let missing = ReportField.required.filter { mapping[$0] == nil }
      guard missing.isEmpty else {
        throw ParameterError(
          "columns", "map the required field(s) \(missing.map(\.rawValue).joined(separator: ", ")) to a column or path")
      }
    }
    self.mapping = mapping
    recordsPath = (parameters.string("records_path") ?? "").split(separator: ".").map(String.init)
    updatesFile = parameters.string("updates_file")
    updatesColumns = try Self.parseUpdatesColumns(parameters.stringMap("updates_columns"), file: updatesFile)

    let zoneName = try parameters.requiredString("time_zone")
    guard let zone = TimeZone(identifier: zoneName) else {
      throw ParameterError("time_zone", "'\(zoneName)' is not an IANA time zone (e.g. Europe/Berlin, America/New_York)")
    }
    var weekend: Set<Int> = []
    for name in parameters.stringList("weekend") ?? ["saturday", "sunday"] {
      guard let day = BusinessCalendar.weekday(named: name) else {
        throw ParameterError("weekend", "'\(name)' is not a weekday (monday … sunday)")
      }
      weekend.insert(day)
    }
    guard weekend.count < 7 else { throw ParameterError("weekend", "leaves no business day in the week") }
    var holidays: Set<CivilDate> = []
    for text in parameters.stringList("holidays") ?? [] {
      guard let date = CivilDate(text.trimmingCharacters(in: .whitespaces)) else {
        throw ParameterError("holidays", "'\(text)' is not a date such as 2026-12-25")
      }
      holidays.insert(date)
    }
    var hours: BusinessHours?
    if let text = parameters.string("business_hours") {
      guard let parsed = BusinessHours(text) else {
        throw ParameterError("business_hours", "'\(text)' is not opening-closing such as 09:00-17:00")
      }
      hours = parsed
    }
    calendar = BusinessCalendar(timeZone: zone, weekend: weekend, holidays: holidays, hours: hours)
    holidaysFile = parameters.string("holidays_file")

    let responseDays = parameters.integer("response_business_days") ?? 3
    guard responseDays >= 0 else { throw ParameterError("response_business_days", "must be 0 or more") }
    let from = parameters.date("from")
    if let last = parameters.duration("last") {
      guard from == nil else { throw ParameterError("last", "give either `last` or `from`/`to`, not both") }
      guard last > 0 else { throw ParameterError("last", "must be longer than 0s") }
      window = .last(last)
    } else if let from {
      let to = parameters.date("to")
      if let to, to <= from { throw ParameterError("to", "must be after `from`") }
      window = .range(from: from.timeIntervalSince1970, to: to?.timeIntervalSince1970)
    } else {
      guard parameters.date("to") == nil else { throw ParameterError("to", "needs `from`") }
      window = .last(90 * 86_400)
    }
    let cadence = parameters.number("update_cadence_business_days") ?? 5
    guard cadence > 0 else { throw ParameterError("update_cadence_business_days", "must be more than 0") }
    var resolution: [String: Double] = [:]
    for (severity, text) in parameters.stringMap("resolution_targets") ?? [:] {
      guard let days = Double(text), days > 0 else {
        throw ParameterError("resolution_targets", "\(severity): '\(text)' is not a number of business days above 0")
      }
      resolution[severity.lowercased()] = days
    }
    let maxListed = parameters.integer("max_listed") ?? 100
    guard maxListed >= 0 else { throw ParameterError("max_listed", "must be 0 or more") }
    targets = SLATargets(
      responseBusinessDays: responseDays, updateCadence: cadence, resolution: resolution,
      creditedStates: Set((parameters.stringList("credited_states") ?? ["resolved"]).map { $0.lowercased() }),
      maxListed: maxListed)

    acknowledgmentsURL = parameters.string("acknowledgments_url")
    if let acknowledgmentsURL { try Self.checkURL(acknowledgmentsURL, "acknowledgments_url") }
    authTokenEnv = parameters.string("auth_token_env")
    authScheme = parameters.string("auth_scheme") ?? "Bearer"
    guard ["bearer", "basic", "token"].contains(authScheme.lowercased()) else {
      throw ParameterError("auth_scheme", "'\(authScheme)' is not Bearer, Basic or Token")
    }
    if authTokenEnv != nil, url == nil {
      throw ParameterError("auth_token_env", "is only used with `url`")
    }
    keyEnv = parameters.string("pseudonym_key_env")
    keyFile = parameters.string("pseudonym_key_file")
    if keyEnv != nil, keyFile != nil {
      throw ParameterError("pseudonym_key_env", "give either pseudonym_key_env or pseudonym_key_file, not both")
    }
    storeRawInput = parameters.boolean("store_raw_input") ?? false
    timeout = parameters.duration("timeout") ?? 60
    caBundle = parameters.string("ca_bundle")
    guard timeout > 0 else { throw ParameterError("timeout", "must be longer than 0s") }
    maxPages = parameters.integer("max_pages") ?? 1000
    guard maxPages > 0 else { throw ParameterError("max_pages", "must be 1 or more") }
  }

  /// The two columns of the updates file, checked here so `vouch validate` catches an incomplete mapping.
  private static func parseUpdatesColumns(
    _ map: [String: String]?, file: String?
  ) throws(ParameterError) -> UpdatesColumns? {
    guard file != nil else {
      guard map == nil else { throw ParameterError("updates_columns", "is only used with `updates_file`") }
      return nil
    }
    let map = map ?? [:]
    if let unknown = map.keys.sorted().first(where: { $0 != "id" && $0 != "at" }) {
      throw ParameterError("updates_columns", "'\(unknown)' is not a key; keys: id, at")
    }
    let missing = ["id", "at"].filter { map[$0] == nil }
    guard missing.isEmpty else {
      throw ParameterError(
        "updates_columns", "map \(missing.joined(separator: " and ")) to a column of updates_file (keys: id, at)")
    }
    for (key, value) in map where value.trimmingCharacters(in: .whitespaces).isEmpty {
      throw ParameterError("updates_columns", "\(key) maps to an empty column name")
    }
    return UpdatesColumns(id: map["id"] ?? "", at: map["at"] ?? "")
  }

  /// Column names of the updates file.
  struct UpdatesColumns: Sendable {
    let id: String
    let at: String
  }

  private static func checkURL(_ text: String, _ parameter: String) throws(ParameterError) {
    guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
    else { throw ParameterError(parameter, "'\(text)' is not an http:// or https:// URL with a host") }
  }

  // MARK: Collection

  public func collect(_ context: CollectionContext) async throws -> CollectorOutput {
    let now = context.clock.now().timeIntervalSince1970
    let window: Range<Double>
    switch self.window {
    case .last(let seconds): window = (now - seconds)..<now
    case .range(let from, let to): window = from..<max(from, to ?? now)
    }
    var calendar = self.calendar
    if let holidaysFile {
      let file = URL(fileURLWithPath: holidaysFile, relativeTo: context.baseDirectory).standardizedFileURL
      calendar = BusinessCalendar(
        timeZone: calendar.timeZone, weekend: calendar.weekend,
        holidays: calendar.holidays.union(try Self.readHolidays(file)), hours: calendar.hours)
    }
    let pseudonymizer = try loadPseudonymizer(context)
    let acknowledgments = try await fetchAcknowledgments(context)
    let artifacts = context.artifacts
    var run = try ReportSLARun(
      window: window, calendar: calendar, targets: targets, now: now, pseudonymizer: pseudonymizer,
      acknowledgments: acknowledgments, reportsURL: try artifacts.url(for: Self.reportsArtifact),
      rejectedURL: try artifacts.url(for: Self.rejectedArtifact))

    var updatesPart: InputPart?
    if let updatesFile, let updatesColumns {
      let file = URL(fileURLWithPath: updatesFile, relativeTo: context.baseDirectory).standardizedFileURL
      updatesPart = try readUpdates(file, columns: updatesColumns, run: &run)
      if storeRawInput {
        try artifacts.copy(
          from: file, as: "raw-updates", mediaType: "application/octet-stream", summary: "raw updates file as read")
      }
    }

    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-report-sla-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    var parts: [InputPart] = []
    var files: [URL] = []
    if let path {
      let file = URL(fileURLWithPath: path, relativeTo: context.baseDirectory).standardizedFileURL
      let part = try await read(file, label: file.lastPathComponent, page: nil, run: &run)
      parts.append(part.input)
      files.append(file)
    } else if let url {
      var next: String? = url
      var visited: Set<String> = []
      while let current = next {
        guard visited.insert(current).inserted else {
          throw ReportSLAError("links.next leads back to \(context.redactor.redact(current)); the pages form a loop")
        }
        guard visited.count <= maxPages else {
          throw ReportSLAError("more than \(maxPages) pages; raise max_pages if the export is really this long")
        }
        let file = scratch.appendingPathComponent("part-\(visited.count)")
        try await download(current, to: file, context)
        let page = format == .hackerone ? visited.count : nil
        let part = try await read(file, label: context.redactor.redact(current), page: page, run: &run)
        parts.append(part.input)
        files.append(file)
        next = format == .hackerone ? part.next.map { Self.resolve($0, against: current) } : nil
        if storeRawInput {
          try artifacts.copy(
            from: file, as: "raw-input-\(visited.count)", mediaType: "application/octet-stream",
            summary: "raw export part \(visited.count) as received (holds reporter identities)")
        }
      }
    }
    if storeRawInput, let path {
      let file = URL(fileURLWithPath: path, relativeTo: context.baseDirectory).standardizedFileURL
      try artifacts.copy(
        from: file, as: "raw-input-1", mediaType: "application/octet-stream",
        summary: "raw export as read (holds reporter identities)")
    }
    try run.finishUpdates()
    var digest = (sha256: parts.first?.sha256 ?? "", size: parts.first?.size ?? 0)
    if parts.count > 1 {
      var chain = PagesDigest()
      for file in files { try chain.add(file) }
      digest = chain.result
    }
    return try writeArtifacts(
      run: &run, parts: parts, digest: digest, updates: updatesPart, window: window, calendar: calendar,
      acknowledgments: acknowledgments, context: context)
  }

  /// One input file's digest, for `input.json`.
  struct InputPart: Codable {
    let source: String
    let sha256: String
    let size: Int
  }

  /// Hashes several downloaded pages as one stream, for the digest of the whole input.
  struct PagesDigest {
    private var hasher = Crypto.SHA256()
    private var size = 0

    mutating func add(_ file: URL) throws(ReportSLAError) {
      guard let handle = FileHandle(forReadingAtPath: file.path) else {
        throw ReportSLAError("cannot reopen \(file.path) to hash it")
      }
      defer { try? handle.close() }
      do {
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
          hasher.update(data: chunk)
          size += chunk.count
        }
      } catch {
        throw ReportSLAError("cannot read \(file.path) to hash it: \(error.localizedDescription)")
      }
    }

    var result: (sha256: String, size: Int) { (Digest.hex(hasher.finalize()), size) }
  }
}

extension ReportSLACollector {
  /// Reads the updates file into the run before the export streams, rejecting bad rows with their reasons.
  private func readUpdates(
    _ file: URL, columns: UpdatesColumns, run: inout ReportSLARun
  ) throws -> InputPart {
    let label = file.lastPathComponent
    let bytes = try HashingFileReader(path: file.path)
    let reader = CSVChunkReader(bytes, blockSize: csvBlockSize)
    guard let (header, rest, headerRow) = try reader.header(file: label) else {
      throw ReportSLAError("\(label) (updates_file) is empty; expected a CSV header row")
    }
    let indexes = try [("id", columns.id), ("at", columns.at)].map { key, name in
      try Self.column(name, mappedTo: key, in: header, file: "\(label) (updates_file)")
    }
    var rowsBefore = headerRow
    var next: CSVChunk? = rest
    while let chunk = try next ?? reader.next() {
      next = nil
      // A few rows per report: read on this task, as strings.
      var rows: [(number: Int, fields: [String])] = []
      let read = chunk.forEachRecord { number, fields in rows.append((number, fields.map(FieldBytes.string))) }
      for (number, fields) in rows {
        let location = RecordLocation(unit: .row, number: rowsBefore + number, file: label)
        guard fields.count == header.count else {
          try run.reject(
            RejectedRecord(
              location: location, id: nil, reasons: [CSVChunk.fieldCountReason(fields.count, header: header.count)]))
          continue
        }
        try run.addUpdate(id: fields[indexes[0]], at: fields[indexes[1]], location: location)
      }
      if let failure = read.error {
        throw ReportSLAError(
          failure.message(at: RecordLocation(unit: .row, number: rowsBefore + failure.record, file: label)))
      }
      rowsBefore += read.records
    }
    try bytes.drain()
    return InputPart(source: label, sha256: bytes.digest, size: bytes.size)
  }

  /// The index of a mapped column in a CSV header, or an error listing the header so the mapping can be fixed.
  static func column(_ name: String, mappedTo key: String, in header: [String], file: String) throws -> Int {
    guard let index = header.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == name }) else {
      throw ReportSLAError(
        "\(file): the header has no column '\(name)' (mapped to \(key)); columns: " + header.joined(separator: ", "))
    }
    return index
  }

  /// Streams one input file through the run; returns its digest and, for HackerOne pages, `links.next`.
  private func read(
    _ file: URL, label: String, page: Int?, run: inout ReportSLARun
  ) async throws -> (input: InputPart, next: String?) {
    let bytes = try HashingFileReader(path: file.path)
    var next: String?
    switch format {
    case .csv:
      // Exports run at roughly 100-200 bytes per report. Only a sizing hint: an unreadable file is reported by the
      // reader itself.
      if let size = try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int {
        run.expect(records: size / 150)
      }
      let reader = CSVChunkReader(bytes, blockSize: csvBlockSize)
      guard let (header, rest, headerRow) = try reader.header() else {
        throw ReportSLAError("\(label) is empty; expected a CSV header row")
      }
      var columns: [Int?] = []
      for field in ReportField.allCases {
        guard let name = mapping[field] else {
          columns.append(nil)
          continue
        }
        columns.append(try Self.column(name, mappedTo: field.rawValue, in: header, file: label))
      }
      try await run.consumeCSV(reader, after: rest, rowsBefore: headerRow, columns: columns, headerCount: header.count)
    case .jsonl:
      let paths = JSONFieldPaths(mapping)
      var lines = JSONLinesReader(bytes)
      let line = { RecordLocation(unit: .line, number: $0) }
      var measurer = RowMeasurer(context: run.context, table: run.table, expectedBytes: 1 << 16)
      var pending = 0
      while let (number, data) = try lines.next() {
        // Merged every few thousand lines, so a long export is never held whole.
        if pending == 4096 {
          try run.merge(measurer.finish(), location: line)
          measurer = RowMeasurer(context: run.context, table: run.table, expectedBytes: 1 << 16)
          pending = 0
        }
        pending += 1
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
          measurer.reject(number: number, reasons: ["is not valid JSON"])
          continue
        }
        guard object is [String: Any] else {
          measurer.reject(number: number, reasons: ["is not a JSON object"])
          continue
        }
        measurer.process(json: paths.values(of: object), number: number)
      }
      try run.merge(measurer.finish(), location: line)
    case .json, .hackerone:
      let data = Data(try bytes.readToEnd())
      let document = try JSONDocument.parse(data, source: label)
      let isHackerOne = format == .hackerone
      let records = try JSONDocument.records(
        in: document, path: isHackerOne && recordsPath.isEmpty ? ["data"] : recordsPath, source: label)
      var paths = JSONFieldPaths(mapping)
      if isHackerOne {
        var merged = JSONFieldPaths.hackerOne.paths
        for (index, custom) in paths.paths.enumerated() where custom != nil { merged[index] = custom }
        paths = JSONFieldPaths(paths: merged)
        next = JSONDocument.nextLink(in: document)
      }
      var measurer = RowMeasurer(context: run.context, table: run.table, expectedBytes: data.count)
      for (index, record) in records.enumerated() {
        guard record is [String: Any] else {
          measurer.reject(number: index + 1, reasons: ["is not a JSON object"])
          continue
        }
        measurer.process(json: paths.values(of: record), number: index + 1)
      }
      try run.merge(measurer.finish()) { RecordLocation(unit: .record, number: $0, page: page) }
    }
    return (InputPart(source: label, sha256: bytes.digest, size: bytes.size), next)
  }

  /// Downloads one URL into `file`, sending the token from the environment; redirects are refused so the token is
  /// never forwarded to another host.
  private func download(_ url: String, to file: URL, _ context: CollectionContext) async throws {
    var request = HTTPRequest(url: url)
    request.timeout = timeout
    request.caBundle = caBundle
    request.bodyFile = file
    // Far above any export, but finite: the transfer layer adds chunk sizes to these limits.
    request.storeLimit = 1 << 40
    request.maxDownload = 1 << 40
    request.memoryLimit = 0
    request.headers = [HTTPHeader("Accept", format == .csv ? "text/csv" : "application/json")]
    if let authTokenEnv {
      guard let token = context.environment[authTokenEnv], !token.isEmpty else {
        throw ReportSLAError("the environment variable \(authTokenEnv) (auth_token_env) is not set or empty")
      }
      let value: String
      switch authScheme.lowercased() {
      case "basic": value = "Basic " + Data(token.utf8).base64EncodedString()
      case "token": value = "Token " + token
      default: value = "Bearer " + token
      }
      request.headers.append(HTTPHeader("Authorization", value))
    }
    let shown = context.redactor.redact(url)
    let response: HTTPResponse
    do throws(HTTPError) {
      response = try await context.http.send(request)
    } catch {
      throw ReportSLAError("cannot fetch \(shown): \(context.redactor.redact(error.message))")
    }
    guard (200..<300).contains(response.status) else {
      let location = response.header("Location").map { " to \(context.redactor.redact($0))" } ?? ""
      throw ReportSLAError(
        "\(shown) answered \(response.status)\(location); expected 200 (check the URL and \(authTokenEnv ?? "the token"))")
    }
    let contentType = response.header("Content-Type")?.lowercased() ?? ""
    if format != .csv, contentType.contains("html") {
      throw ReportSLAError(
        "\(shown) returned \(contentType) instead of JSON (a login or error page?); check the URL and the token")
    }
  }

  private func fetchAcknowledgments(_ context: CollectionContext) async throws -> AcknowledgmentsPage? {
    guard let acknowledgmentsURL else { return nil }
    var request = HTTPRequest(url: acknowledgmentsURL)
    request.timeout = timeout
    request.caBundle = caBundle
    request.memoryLimit = 8 << 20
    request.maxDownload = 8 << 20
    let shown = context.redactor.redact(acknowledgmentsURL)
    let result: FetchResult
    do throws(HTTPError) {
      result = try await context.http.fetch(request, maxRedirects: 5)
    } catch {
      throw ReportSLAError("cannot fetch the acknowledgments page \(shown): \(context.redactor.redact(error.message))")
    }
    let final = result.final
    guard (200..<300).contains(final.status), final.complete else {
      throw ReportSLAError(
        "the acknowledgments page \(shown) answered \(final.status)\(final.complete ? "" : " and exceeded 8 MiB"); "
          + "expected 200")
    }
    return AcknowledgmentsPage(url: shown, body: final.body, sha256: final.bodySHA256)
  }

  private func loadPseudonymizer(_ context: CollectionContext) throws -> Pseudonymizer? {
    if let keyEnv {
      guard let key = context.environment[keyEnv], !key.isEmpty else {
        throw ReportSLAError("the environment variable \(keyEnv) (pseudonym_key_env) is not set or empty")
      }
      return try Pseudonymizer(key: Data(key.utf8))
    }
    if let keyFile {
      let file = URL(fileURLWithPath: keyFile, relativeTo: context.baseDirectory).standardizedFileURL
      guard let data = FileManager.default.contents(atPath: file.path) else {
        throw ReportSLAError("cannot read the pseudonym key file \(file.path) (pseudonym_key_file)")
      }
      // A trailing newline from `echo` or an editor is not part of the key.
      var key = data
      while let last = key.last, last == 0x0A || last == 0x0D { key.removeLast() }
      return try Pseudonymizer(key: key)
    }
    return nil
  }

  static func readHolidays(_ file: URL) throws -> Set<CivilDate> {
    let text: String
    do {
      text = try String(contentsOf: file, encoding: .utf8)
    } catch {
      throw ReportSLAError("cannot read the holidays file \(file.path): \(error.localizedDescription)")
    }
    var dates: Set<CivilDate> = []
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
      let trimmed = content.trimmingCharacters(in: .whitespacesAndNewlines)
      guard !trimmed.isEmpty else { continue }
      let first = String(trimmed.prefix { !$0.isWhitespace })
      guard let date = CivilDate(first) else {
        throw ReportSLAError("\(file.path):\(index + 1): '\(first)' is not a date such as 2026-12-25")
      }
      dates.insert(date)
    }
    return dates
  }

  /// Resolves a `links.next` that may be relative to the page it came from.
  static func resolve(_ link: String, against base: String) -> String {
    guard let baseURL = URL(string: base), let resolved = URL(string: link, relativeTo: baseURL) else { return link }
    return resolved.absoluteString
  }

  /// What `summary.json` records beside the facts, so the auditor sees the rule's inputs.
  struct Summary: Encodable {
    let windowStart: String
    let windowEnd: String
    let timeZone: String
    let weekend: [String]
    let holidays: [String]
    let businessHours: String?
    let responseBusinessDays: Int
    let updateCadenceBusinessDays: Double
    let resolutionTargets: [String: Double]
    let facts: [String: FactValue]
  }

  struct InputRecord: Encodable {
    let format: String
    let sha256: String
    let size: Int
    let parts: [InputPart]
    /// The `updates_file`, hashed like the export so an auditor can match it too.
    let updatesFile: InputPart?
    let rawCopyStored: Bool
  }

  struct AcknowledgmentsRecord: Encodable {
    let url: String
    let sha256: String
    let size: Int
    let note: String
    let missingAcknowledgmentIDs: [FactValue]
  }

  private func writeArtifacts(
    run: inout ReportSLARun, parts: [InputPart], digest: (sha256: String, size: Int), updates: InputPart?,
    window: Range<Double>, calendar: BusinessCalendar, acknowledgments: AcknowledgmentsPage?, context: CollectionContext
  ) throws -> CollectorOutput {
    let artifacts = context.artifacts
    let tables = try run.finish()
    artifacts.adopt(
      Self.reportsArtifact, sha256: tables.reports.sha256, size: tables.reports.size, mediaType: "text/csv",
      summary: "one row per measured report: clock start, deadline, business days, verdict; reporters pseudonymised")
    artifacts.adopt(
      Self.rejectedArtifact, sha256: tables.rejected.sha256, size: tables.rejected.size, mediaType: "text/csv",
      summary: "records that could not be used, with every reason")
    var facts = run.facts()
    facts["input_sha256"] = .string(digest.sha256)
    facts["input_size"] = .integer(digest.size)
    try artifacts.write(
      Self.inputArtifact,
      data: try BundleJSON.encode(
        InputRecord(
          format: format.rawValue, sha256: digest.sha256, size: digest.size, parts: parts, updatesFile: updates,
          rawCopyStored: storeRawInput)),
      mediaType: "application/json", summary: "SHA-256 and size of the exact input, to match against the source system")
    if let acknowledgments {
      let ids: [FactValue]
      if case .list(let list)? = facts["missing_acknowledgment_ids"] { ids = list } else { ids = [] }
      try artifacts.write(
        Self.acknowledgmentsArtifact,
        data: try BundleJSON.encode(
          AcknowledgmentsRecord(
            url: acknowledgments.url, sha256: acknowledgments.sha256, size: acknowledgments.size,
            note: "names were compared in memory; the page is not copied because it lists people",
            missingAcknowledgmentIDs: ids)),
        mediaType: "application/json", summary: "the acknowledgments page checked and the reports missing from it")
    }
    let summary = Summary(
      windowStart: UTCFormat.string(window.lowerBound), windowEnd: UTCFormat.string(window.upperBound),
      timeZone: calendar.timeZone.identifier,
      weekend: calendar.weekend.sorted().map { BusinessCalendar.weekdayNames[$0 - 1] },
      holidays: calendar.holidays.sorted().map(\.description), businessHours: calendar.hours?.description,
      responseBusinessDays: targets.responseBusinessDays, updateCadenceBusinessDays: targets.updateCadence,
      resolutionTargets: targets.resolution, facts: facts)
    try artifacts.write(
      Self.summaryArtifact, data: try BundleJSON.encode(summary), mediaType: "application/json",
      summary: "the calendar, window and targets applied, and every fact")
    var evidence: [String: [String]] = [:]
    for spec in Self.facts where facts[spec.name] != nil {
      evidence[spec.name] = (spec.evidence + [Self.summaryArtifact]).map(artifacts.bundlePath(of:))
    }
    return CollectorOutput(facts: facts, evidence: evidence)
  }
}
