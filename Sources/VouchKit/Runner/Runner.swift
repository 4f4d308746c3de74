import Foundation
import Logging
import Synchronization

/// Settings of one run.
public struct RunOptions: Sendable {
  public var evidenceDirectory: URL
  /// Controls run at the same time.
  public var concurrency: Int
  /// Seconds a collector may take before its control is `error`.
  public var timeout: Double
  /// Control ids (or `id.*` prefixes) to run; empty runs all.
  public var only: [String]
  /// Criteria (e.g. `CC7.1`, or `CC7` for the series) to run; empty runs all.
  public var criteria: [String]
  /// Recorded in `run.json`.
  public var controlsDirectory: String
  public var variablesFile: String?
  /// Where relative paths in definitions resolve from.
  public var baseDirectory: URL
  /// Signs each bundle's manifest when set.
  public var signingKey: BundleSigningKey?
  /// Approved waivers (`waivers/*.yaml`); one in force turns a failure of a control it covers into `waived`.
  public var waivers: [Waiver]

  public init(
    evidenceDirectory: URL, concurrency: Int = 16, timeout: Double = 120, only: [String] = [], criteria: [String] = [],
    controlsDirectory: String, variablesFile: String?, baseDirectory: URL,
    signingKey: BundleSigningKey? = nil, waivers: [Waiver] = []
  ) {
    self.evidenceDirectory = evidenceDirectory
    self.concurrency = concurrency
    self.timeout = timeout
    self.only = only
    self.criteria = criteria
    self.controlsDirectory = controlsDirectory
    self.variablesFile = variablesFile
    self.baseDirectory = baseDirectory
    self.signingKey = signingKey
    self.waivers = waivers
  }

  /// Why a control is left out by the filters, or `nil` when it runs.
  func exclusion(of control: ControlDefinition) -> String? {
    if !only.isEmpty, !only.contains(where: { Self.matches(control.id, pattern: $0) }) {
      return "not selected by --only \(only.joined(separator: ","))"
    }
    if !criteria.isEmpty, !control.criteria.contains(where: { Self.inCriteria($0, selected: criteria) }) {
      return "not selected by --criteria \(criteria.joined(separator: ","))"
    }
    return nil
  }

  /// `abc` matches the id `abc` and its expansions `abc.<target>`; `abc.*` matches ids starting with `abc.`.
  static func matches(_ id: String, pattern: String) -> Bool {
    if pattern.hasSuffix("*") { return id.hasPrefix(String(pattern.dropLast())) }
    return id == pattern || id.hasPrefix(pattern + ".")
  }

  /// `CC7.1` selects exactly that criterion; `CC7` selects the CC7 series.
  static func inCriteria(_ criterion: String, selected: [String]) -> Bool {
    selected.contains { criterion == $0 || criterion.hasPrefix($0 + ".") }
  }
}

/// Receives progress while a run goes on; a terminal shows a live line, a log gets one line per control.
public protocol RunProgress: Sendable {
  func started(total: Int)
  func finished(_ result: ControlResult, completed: Int, total: Int)
}

/// What a run produced.
public struct RunOutcome: Sendable {
  public let record: RunRecord
  public let bundle: URL
}

/// Failures that stop a run before or after the controls ran.
public enum RunError: Error, Sendable, CustomStringConvertible {
  case evidence(EvidenceError)

  public var description: String {
    switch self {
    case .evidence(let error): return error.description
    }
  }
}

/// Runs a validated catalogue: collectors concurrently under a bound and a timeout, results in id order, one sealed
/// bundle chained to the previous one.
public struct Runner: Sendable {
  public let environment: RunEnvironment
  public let logger: Logger
  public let progress: (any RunProgress)?

  public init(environment: RunEnvironment, logger: Logger, progress: (any RunProgress)? = nil) {
    self.environment = environment
    self.logger = logger
    self.progress = progress
  }

  /// Runs every control of `catalog` and seals the bundle.
  ///
  /// - Throws: `RunError` when the evidence folder cannot be locked or written; control failures never throw.
  public func run(_ catalog: ControlCatalog, options: RunOptions) async throws(RunError) -> RunOutcome {
    let store = BundleStore(directory: options.evidenceDirectory)
    do {
      try store.prepare()
      let startedAt = environment.clock.now()
      let runID = environment.makeRunID()
      let lock = try RunLock(
        evidenceDirectory: store.directory,
        holder: "pid \(ProcessInfo.processInfo.processIdentifier) on \(environment.hostname), run \(runID) started \(Timestamp.format(startedAt))"
      )
      defer { withExtendedLifetime(lock) {} }
      for abandoned in try store.removeAbandonedStaging() {
        logger.warning("removed staging folder of an interrupted run", metadata: ["bundle": "\(abandoned)"])
      }
      let bundleName = "\(Timestamp.compact(startedAt))-\(runID)"
      let staging = try store.createStaging(bundleName)
      let previous = try store.chainHead()
      let results = await execute(catalog, options: options, staging: staging)
      let comparison = previous.map { link in compare(results, with: link.bundle, in: store) }
      let waiverOutcomes = outcomes(of: options.waivers, for: results)
      var record = RunRecord(
        runID: runID, bundleName: bundleName, toolVersion: environment.toolVersion, host: environment.hostname,
        startedAt: startedAt, finishedAt: environment.clock.now(),
        parameters: RunParameters(
          controlsDirectory: options.controlsDirectory, variablesFile: options.variablesFile,
          concurrency: options.concurrency, timeout: options.timeout, only: options.only, criteria: options.criteria),
        definitionFiles: catalog.files, results: results, previousBundle: previous?.bundle,
        signerFingerprint: options.signingKey?.fingerprint, comparison: comparison, waivers: waiverOutcomes)
      let (bundle, digest) = try store.seal(
        staging: staging, record: record, previous: previous, signingKey: options.signingKey)
      record.manifestDigest = digest
      return RunOutcome(record: record, bundle: bundle)
    } catch {
      throw .evidence(error)
    }
  }

  /// What became of every waiver; expired ones that would have covered a failure are logged loudly, since a
  /// failure silently coming back is exactly what an owner must hear about.
  func outcomes(of waivers: [Waiver], for results: [ControlResult]) -> [WaiverOutcome] {
    let now = environment.clock.now()
    return waivers.map { waiver in
      let applied = results.filter { $0.waiver == waiver.id }.map(\.id)
      var state = waiver.state(at: now)
      if state == .active && !applied.isEmpty { state = .applied }
      let uncovered =
        state == .expired ? results.filter { $0.status == .fail && waiver.covers($0.id) }.map(\.id) : []
      if state == .expired {
        logger.warning(
          "waiver expired", metadata: [
            "waiver": "\(waiver.id)", "expired": "\(Timestamp.format(waiver.expires))",
            "failing": "\(uncovered.joined(separator: ","))",
          ])
      }
      return WaiverOutcome(waiver: waiver, state: state, appliedTo: applied, failingBecauseExpired: uncovered)
    }
  }

  /// Compares with the previous bundle; an unreadable one must not stop tonight's evidence, so the problem is
  /// logged and carried into the reports instead.
  func compare(_ results: [ControlResult], with previous: String, in store: BundleStore) -> RunComparison {
    do {
      return RunComparison(previous: try store.loadRecord(named: previous), current: results)
    } catch {
      logger.error("cannot compare with the previous run", metadata: ["bundle": "\(previous)", "reason": "\(error)"])
      return .unavailable(previousBundle: previous, problem: error.description)
    }
  }

  /// Runs the controls with at most `options.concurrency` at once; the result order is the catalogue's (by id).
  func execute(_ catalog: ControlCatalog, options: RunOptions, staging: URL) async -> [ControlResult] {
    let controls = catalog.controls
    let http = HTTPClient(maxConnections: max(options.concurrency, 1) * 2)
    defer { http.shutdown() }
    let redactor = Redactor(secrets: controls.flatMap(\.secrets))
    progress?.started(total: controls.count)
    var results = [ControlResult?](repeating: nil, count: controls.count)
    await withTaskGroup(of: (Int, ControlResult).self) { group in
      var next = 0
      func launch() {
        let index = next
        let control = controls[index]
        next += 1
        group.addTask {
          let sink = ArtifactSink(
            directory: staging.appendingPathComponent(BundleStore.controlsFolder).appendingPathComponent(control.id),
            bundlePath: "\(BundleStore.controlsFolder)/\(control.id)")
          let context = CollectionContext(
            controlID: control.id, artifacts: sink, http: http, clock: environment.clock, redactor: redactor,
            logger: logger, baseDirectory: options.baseDirectory, environment: environment.variables)
          return (index, await runControl(control, context: context, options: options))
        }
      }
      for _ in 0..<min(max(options.concurrency, 1), controls.count) { launch() }
      var completed = 0
      while let (index, result) = await group.next() {
        results[index] = result
        completed += 1
        progress?.finished(result, completed: completed, total: controls.count)
        if next < controls.count { launch() }
      }
    }
    return results.compactMap { $0 }
  }

  /// One control: skip, or collect under the timeout and evaluate its expectations.
  func runControl(_ control: ControlDefinition, context: CollectionContext, options: RunOptions) async -> ControlResult {
    var result = ControlResult(
      id: control.id, title: control.title, description: control.description, criteria: control.criteria,
      owner: control.owner, severity: control.severity, frequency: control.frequency.text, target: control.target,
      collector: control.collector.kind, status: .skipped, reason: nil, facts: [:],
      expectations: control.expectations.map(\.text), findings: [], artifacts: [], evidence: [:], startedAt: nil,
      finishedAt: nil, source: control.source, sourceDigest: control.sourceDigest)
    if let reason = control.notApplicable {
      result.status = .notApplicable
      result.reason = reason
      return result
    }
    if !control.enabled {
      result.reason = "disabled in its definition (enabled: false)"
      return result
    }
    if let exclusion = options.exclusion(of: control) {
      result.reason = exclusion
      return result
    }
    result.startedAt = environment.clock.now()
    let outcome = await Self.collect(control.collector.collector, context: context, timeout: options.timeout)
    result.finishedAt = environment.clock.now()
    context.artifacts.close()
    result.artifacts = context.artifacts.records
    switch outcome {
    case .success(let output):
      result.facts = output.facts
      result.evidence = output.evidence
      result.findings = control.expectations.compactMap { $0.evaluate(output.facts) }
      result.status = result.findings.isEmpty ? .pass : .fail
      let now = environment.clock.now()
      if result.status == .pass, let dated = output.evidenceDate,
        now.timeIntervalSince(dated) > Double(control.frequency.seconds)
      {
        result.status = .stale
        result.reason =
          "the evidence dates from \(Timestamp.format(dated)), older than its frequency (\(control.frequency)) allows"
      }
      if result.status == .fail,
        let waiver = options.waivers.first(where: { $0.covers(control.id) && $0.state(at: now) == .active })
      {
        result.status = .waived
        result.waiver = waiver.id
      }
    case .failure(let error):
      result.status = .error
      result.reason = context.redactor.redact(error.description)
    }
    return result
  }

  /// Why a collector produced no output.
  struct CollectionFailure: Error, CustomStringConvertible {
    let description: String
  }

  /// Runs a collector, giving up after `timeout` seconds even if it ignores cancellation.
  ///
  /// The collector runs in its own task, so one that hangs in a blocking call cannot hold up the run: its task is
  /// cancelled and abandoned, and the control is reported as timed out.
  static func collect(
    _ collector: any Collector, context: CollectionContext, timeout: Double
  ) async -> Result<CollectorOutput, CollectionFailure> {
    let race = FirstResult()
    return await withCheckedContinuation { continuation in
      race.arm(continuation)
      let work = Task {
        do {
          race.settle(.success(try await collector.collect(context)))
        } catch let error as CustomStringConvertible {
          race.settle(.failure(CollectionFailure(description: error.description)))
        } catch {
          race.settle(.failure(CollectionFailure(description: "\(error)")))
        }
      }
      let timer = Task {
        try await Task.sleep(for: .seconds(timeout))
        race.settle(.failure(CollectionFailure(description: "collector did not finish within \(Self.seconds(timeout))")))
        work.cancel()
      }
      race.onSettle { timer.cancel() }
    }
  }

  /// Resumes a continuation with whichever result arrives first.
  final class FirstResult: Sendable {
    private struct State {
      var continuation: CheckedContinuation<Result<CollectorOutput, CollectionFailure>, Never>?
      var settled = false
      var cleanup: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    func arm(_ continuation: CheckedContinuation<Result<CollectorOutput, CollectionFailure>, Never>) {
      state.withLock { $0.continuation = continuation }
    }

    /// Runs `cleanup` once the race is settled (at once if it already is).
    func onSettle(_ cleanup: @escaping @Sendable () -> Void) {
      let runNow = state.withLock { state -> Bool in
        if state.settled { return true }
        state.cleanup = cleanup
        return false
      }
      if runNow { cleanup() }
    }

    func settle(_ result: Result<CollectorOutput, CollectionFailure>) {
      let pending = state.withLock { state -> State? in
        guard !state.settled else { return nil }
        defer { state = State(settled: true) }
        return state
      }
      pending?.continuation?.resume(returning: result)
      pending?.cleanup?()
    }
  }

  static func seconds(_ value: Double) -> String {
    value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
  }
}
