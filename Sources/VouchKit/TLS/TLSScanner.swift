import Foundation

/// How a scan runs.
public struct TLSScanOptions: Sendable {
  /// PEM file of trusted CAs; `nil` uses the system store.
  public var caBundle: String?
  /// Seconds to establish each probe's TCP connection and handshake.
  public var connectTimeout: Double = 5
  /// Seconds for the HTTPS request that reads HSTS.
  public var requestTimeout: Double = 15
  /// Probes in flight at once.
  public var concurrency: Int = 16
  /// The moment certificates are judged at (the run's clock).
  public var now: Date

  public init(now: Date) {
    self.now = now
  }
}

/// The `Strict-Transport-Security` outcome of the HTTPS request.
public struct HSTSResult: Sendable, Hashable {
  /// The header's value; `nil` when the response had none.
  public var header: String?
  public var status: Int?
  /// Every response header, for the evidence file.
  public var headers: [HTTPHeader]
  /// Why the request failed; `nil` when a response arrived.
  public var error: String?

  public var maxAge: Int? {
    directives.first { $0.hasPrefix("max-age=") }.flatMap {
      Int($0.dropFirst("max-age=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
    }
  }

  public var includeSubDomains: Bool { directives.contains("includesubdomains") }
  public var preload: Bool { directives.contains("preload") }

  private var directives: [String] {
    (header ?? "").lowercased().split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
  }
}

/// One probe as the scan record keeps it: what was offered and what came back.
public struct ProbeRecord: Sendable, Codable, Hashable {
  public let purpose: String
  public let offered: [String: String]
  /// `accepted`, `rejected` or `failed`.
  public let outcome: String
  public let negotiated: [String: String]?
  public let message: String?
}

/// Everything a scan found.
public struct TLSScanResult: Sendable {
  public let target: TLSTarget
  public let protocols: [TLSVersion]
  /// Accepted suites per version, IANA names, in the local catalogue's order.
  public let suites: [TLSVersion: [String]]
  /// Per version with two or more suites: whether the server chose by its own preference.
  public let serverOrder: [TLSVersion: Bool]
  /// Accepted groups, IANA names, tested at the highest version.
  public let groups: [String]
  /// The version the groups were tested with: TLS 1.3, else the highest the server accepts.
  public let groupsVersion: TLSVersion
  /// Smallest finite-field DH key seen; `nil` when no DHE was negotiated.
  public let dhBits: Int?
  /// The chain in the order sent, leaf first.
  public let certificates: [CertificateInfo]
  public let chainValid: Bool
  /// OpenSSL's reason when the chain does not verify; empty when it does.
  public let chainError: String
  public let hostnameMatch: Bool
  public let ocspStapled: Bool
  /// Signalled in every TLS ≤ 1.2 handshake; `nil` for a TLS 1.3-only server, where neither mechanism exists.
  public let secureRenegotiation: Bool?
  public let extendedMasterSecret: Bool?
  /// `nil` when the local library cannot offer compression, so it was not tested.
  public let compression: Bool?
  public let hsts: HSTSResult
  public let notTested: [String]
  public let probes: [ProbeRecord]
}

/// Scans one endpoint: a handshake that inspects the certificate, suites and order per version, groups and HSTS, all
/// at once.
///
/// Suites are found by elimination: offer every candidate, remove the one the server picks, repeat until it refuses,
/// so a chain of candidates costs accepted + 1 handshakes; candidates are split into chains that run in parallel.
public enum TLSScanner {
  /// Starts OpenSSL's one-time initialisation (configuration, providers, the local catalogue) on a thread of its own,
  /// so a caller that knows a scan is coming can overlap it with its own start-up; a scan that begins sooner waits
  /// for it. The same thread formats a timestamp once: Foundation's first ISO 8601 formatting loads the calendar and
  /// time zone (≈ 1 ms), which the scan record's timestamps would otherwise pay for at the end of the scan.
  public static func prepare() {
    Thread.detachNewThread {
      _ = CurlGlobal.status
      _ = TLSCatalogue.local
      _ = Date.now.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
  }

  public static func scan(_ target: TLSTarget, options: TLSScanOptions) async throws(TLSScanError) -> TLSScanResult {
    let catalogue = try TLSCatalogue.local.get()
    let plan = ProbePlan(
      target: target, catalogue: catalogue, connectTimeout: options.connectTimeout, askRetry: true)
    let prober = try TLSProber(
      concurrency: options.concurrency,
      defaultOffer: ProbeOffer(cipherList: plan.legacySuites, tls13Suites: plan.tls13Suites, groups: plan.groups))
    defer { prober.close() }
    let log = ProbeLog()

    // Everything starts at once; only the group scan of a server without TLS 1.3 waits, for the versions' first probes.
    let versions = AcceptedVersions()
    let inspect = Task {
      await log.probe(
        plan.request(nil, .inspect(caBundle: options.caBundle, verifyTime: options.now)), "inspect", prober)
    }
    async let hstsOutcome = log.probe(plan.request(nil, .request(timeout: options.requestTimeout)), "hsts", prober)
    async let groupOutcome = groups(plan: plan, prober: prober, log: log) { await versions.highest() }
    let perVersion = await withTaskGroup(of: (TLSVersion, Result<VersionFindings, TLSScanError>).self) { group in
      for version in TLSVersion.allCases {
        let candidates = catalogue.suites.filter { $0.usable(in: version) }
        group.addTask {
          (
            version,
            await versionFindings(version, candidates, plan: plan, prober: prober, log: log, versions: versions)
          )
        }
      }
      var results: [TLSVersion: Result<VersionFindings, TLSScanError>] = [:]
      for await (version, result) in group { results[version] = result }
      return results
    }
    let baseline: Negotiated
    switch await inspect.value {
    case .accepted(let negotiated): baseline = negotiated
    case .failed(let error): throw error
    case .rejected(let message): throw refusal(message, target)
    }
    guard let inspection = baseline.inspection, let highest = baseline.version else {
      throw TLSScanError(
        .local,
        "the first handshake with \(target.label) negotiated \(baseline.versionName), which Vouch cannot pin")
    }
    var suites: [TLSVersion: [String]] = [:]
    var order: [TLSVersion: Bool] = [:]
    for (version, result) in perVersion {
      let findings = try result.get()
      if !findings.suites.isEmpty { suites[version] = findings.suites }
      order[version] = findings.serverOrder
    }
    var (groupsVersion, acceptedGroups) = try await groupOutcome.get()
    if highest == .tls1_3,
      !(suites[.tls1_3] ?? []).contains(baseline.suite) || groupsVersion != .tls1_3
        || !acceptedGroups.contains(baseline.group)
    {
      // The inspecting handshake, with key shares, negotiated something the HelloRetryRequest probes did not find: a
      // server that mishandles a ClientHello without key shares. TLS 1.3 is probed again with them.
      let full = plan.sendingKeyShares()
      let candidates = catalogue.suites.filter { $0.usable(in: .tls1_3) }
      async let again = versionFindings(
        .tls1_3, candidates, plan: full, prober: prober, log: log, versions: AcceptedVersions())
      let groupsAgain = await groups(at: .tls1_3, plan: full, prober: prober, log: log)
      let findings = try await again.get()
      suites[.tls1_3] = findings.suites.isEmpty ? nil : findings.suites
      order[.tls1_3] = findings.serverOrder
      (groupsVersion, acceptedGroups) = (.tls1_3, try groupsAgain.get())
    }
    let hsts = hstsResult(await hstsOutcome)
    let dhBits = await log.smallestDH()
    let legacy = await log.legacyHandshakes()
    return TLSScanResult(
      target: target, protocols: suites.keys.sorted(), suites: suites, serverOrder: order, groups: acceptedGroups,
      groupsVersion: groupsVersion ?? highest, dhBits: dhBits, certificates: inspection.chain,
      chainValid: inspection.verifyCode == 0,
      chainError: inspection.verifyCode == 0 ? "" : inspection.verifyMessage, hostnameMatch: inspection.hostnameMatch,
      ocspStapled: inspection.ocspStapled,
      secureRenegotiation: legacy.isEmpty ? nil : legacy.allSatisfy(\.secureRenegotiation),
      extendedMasterSecret: legacy.isEmpty ? nil : legacy.allSatisfy(\.extendedMasterSecret),
      compression: catalogue.compressionAvailable ? inspection.compression : nil, hsts: hsts,
      notTested: catalogue.notTested, probes: await log.records)
  }

  /// Accepted suites among `candidates` at one version, by elimination; stops after `limit` accepted suites.
  private static func enumerateSuites(
    _ version: TLSVersion, _ candidates: [TLSCipherSuite], plan: ProbePlan, prober: TLSProber, log: ProbeLog,
    limit: Int = .max
  ) async -> Result<[String], TLSScanError> {
    var remaining = candidates
    var accepted: [String] = []
    while !remaining.isEmpty, accepted.count < limit {
      var probe = plan.request(version)
      let names = remaining.map(\.openSSL).joined(separator: ":")
      if version == .tls1_3 { probe.tls13Suites = names } else { probe.cipherList = names }
      switch await log.probe(probe, plan.purpose("suites", version), prober) {
      case .accepted(let negotiated):
        guard let index = remaining.firstIndex(where: { $0.iana == negotiated.suite }) else {
          return .failure(
            TLSScanError(.local, "\(version.name) negotiated \(negotiated.suite), which was not offered"))
        }
        accepted.append(remaining.remove(at: index).iana)
      case .rejected: return .success(accepted)
      case .failed(let error): return .failure(error)
      }
    }
    return .success(accepted)
  }

  /// What one version's probes found.
  private struct VersionFindings: Sendable {
    var suites: [String]
    /// `nil` with fewer than two suites.
    var serverOrder: Bool?
  }

  /// One probe offering every candidate decides whether the version is accepted at all; if it is, the rest of the
  /// candidates are eliminated in parallel chains. The first chain to find a second suite also starts the order
  /// probe, which then runs beside the remaining eliminations instead of after them.
  private static func versionFindings(
    _ version: TLSVersion, _ candidates: [TLSCipherSuite], plan: ProbePlan, prober: TLSProber, log: ProbeLog,
    versions: AcceptedVersions
  ) async -> Result<VersionFindings, TLSScanError> {
    let first: [String]
    let opening = await enumerateSuites(version, candidates, plan: plan, prober: prober, log: log, limit: 1)
    await versions.record(version, accepted: (try? opening.get())?.isEmpty == false)
    switch opening {
    case .failure(let error): return .failure(error)
    case .success(let found) where found.isEmpty: return .success(VersionFindings(suites: []))
    case .success(let found): first = found
    }
    let rest = candidates.filter { !first.contains($0.iana) }
    let claim = OrderClaim()
    typealias ChainResult = (suites: Result<[String], TLSScanError>, order: Result<Bool, TLSScanError>?)
    let results = await withTaskGroup(of: ChainResult.self) { group in
      for chunk in chunks(rest, version: version) {
        group.addTask {
          let head = await enumerateSuites(version, chunk, plan: plan, prober: prober, log: log, limit: 1)
          guard case .success(let found) = head, let second = found.first else { return (head, nil) }
          let remaining = chunk.filter { $0.iana != second }
          guard await claim.claim() else {
            let tail = await enumerateSuites(version, remaining, plan: plan, prober: prober, log: log)
            return (tail.map { found + $0 }, nil)
          }
          async let order = serverOrder(version, first[0], second, plan: plan, prober: prober, log: log)
          let tail = await enumerateSuites(version, remaining, plan: plan, prober: prober, log: log)
          return (tail.map { found + $0 }, await order)
        }
      }
      var results: [ChainResult] = []
      for await result in group { results.append(result) }
      return results
    }
    var findings = VersionFindings(suites: first)
    for result in results {
      switch result.suites {
      case .success(let found): findings.suites += found
      case .failure(let error): return .failure(error)
      }
      switch result.order {
      case .success(let serverOrder)?: findings.serverOrder = serverOrder
      case .failure(let error)?: return .failure(error)
      case nil: break
      }
    }
    // Chains finish in any order; the catalogue's order keeps facts and reports the same from run to run.
    findings.suites = candidates.map(\.iana).filter(findings.suites.contains)
    return .success(findings)
  }

  /// Splits candidates so elimination runs as parallel chains: TLS ≤ 1.2 by key exchange (ECDHE, DHE, the rest),
  /// TLS 1.3 in two halves. Each chain costs one extra refused handshake and saves waiting for the others' picks.
  private static func chunks(_ suites: [TLSCipherSuite], version: TLSVersion) -> [[TLSCipherSuite]] {
    if version == .tls1_3 {
      return [
        suites.enumerated().filter { $0.offset % 2 == 0 }.map(\.element),
        suites.enumerated().filter { $0.offset % 2 == 1 }.map(\.element),
      ].filter { !$0.isEmpty }
    }
    let ecdhe = suites.filter { $0.openSSL.hasPrefix("ECDHE-") }
    let dhe = suites.filter { $0.openSSL.hasPrefix("DHE-") }
    let rest = suites.filter { !$0.openSSL.hasPrefix("ECDHE-") && !$0.openSSL.hasPrefix("DHE-") }
    return [ecdhe, dhe, rest].filter { !$0.isEmpty }
  }

  /// Accepted groups, tested at TLS 1.3 and, when the server has no TLS 1.3, at the highest version it accepts.
  /// Returns that version (nil when nothing was tested) and the groups.
  private static func groups(
    plan: ProbePlan, prober: TLSProber, log: ProbeLog, highest: @escaping @Sendable () async -> TLSVersion?
  ) async -> Result<(TLSVersion?, [String]), TLSScanError> {
    switch await groups(at: .tls1_3, plan: plan, prober: prober, log: log) {
    case .failure(let error): return .failure(error)
    case .success(let accepted) where !accepted.isEmpty: return .success((.tls1_3, accepted))
    case .success:
      guard let version = await highest(), version < .tls1_3 else { return .success((nil, [])) }
      return await groups(at: version, plan: plan, prober: prober, log: log).map { (version, $0) }
    }
  }

  /// Accepted groups at `version`, by elimination in three interleaved chains; TLS 1.2 offers only ECDHE suites so
  /// the server cannot fall back to DHE, and leaves finite-field groups out: TLS 1.2 servers use their own DH
  /// parameters.
  private static func groups(
    at version: TLSVersion, plan: ProbePlan, prober: TLSProber, log: ProbeLog
  ) async -> Result<[String], TLSScanError> {
    let candidates = TLSGroup.all.filter { version == .tls1_3 || !$0.finiteField }
    let chains = (0..<3).map { start in candidates.enumerated().filter { $0.offset % 3 == start }.map(\.element) }
    let results = await withTaskGroup(of: Result<[String], TLSScanError>.self) { group in
      for chain in chains where !chain.isEmpty {
        group.addTask { await eliminateGroups(chain, at: version, plan: plan, prober: prober, log: log) }
      }
      var results: [Result<[String], TLSScanError>] = []
      for await result in group { results.append(result) }
      return results
    }
    var accepted: [String] = []
    for result in results {
      switch result {
      case .success(let found): accepted += found
      case .failure(let error): return .failure(error)
      }
    }
    return .success(candidates.map(\.iana).filter(accepted.contains))
  }

  private static func eliminateGroups(
    _ candidates: [TLSGroup], at version: TLSVersion, plan: ProbePlan, prober: TLSProber, log: ProbeLog
  ) async -> Result<[String], TLSScanError> {
    var remaining = candidates
    var accepted: [String] = []
    while !remaining.isEmpty {
      var probe = plan.request(version)
      probe.groups = remaining.map(\.openSSL).joined(separator: ":")
      if version != .tls1_3 { probe.cipherList = plan.ecdheSuites }
      switch await log.probe(probe, plan.purpose("groups", version), prober) {
      case .accepted(let negotiated):
        guard let index = remaining.firstIndex(where: { $0.iana == negotiated.group }) else {
          let group = negotiated.group.isEmpty ? "no group" : negotiated.group
          return .failure(TLSScanError(.local, "\(version.name) negotiated \(group), which was not offered"))
        }
        accepted.append(remaining.remove(at: index).iana)
      case .rejected: return .success(accepted)
      case .failed(let error): return .failure(error)
      }
    }
    return .success(accepted)
  }

  /// `first` is what the server picked from every candidate, so it leads the client's list or the server's
  /// preference. Offering `second` before `first` tells which: a server that follows the client picks `second`, one
  /// that imposes its own order picks `first` again.
  private static func serverOrder(
    _ version: TLSVersion, _ first: String, _ second: String, plan: ProbePlan, prober: TLSProber, log: ProbeLog
  ) async -> Result<Bool, TLSScanError> {
    guard let a = plan.openSSLNames[first], let b = plan.openSSLNames[second] else {
      return .failure(TLSScanError(.local, "\(first) or \(second) is missing from the local catalogue"))
    }
    var probe = plan.request(version)
    if version == .tls1_3 { probe.tls13Suites = "\(b):\(a)" } else { probe.cipherList = "\(b):\(a)" }
    switch await log.probe(probe, plan.purpose("order", version), prober) {
    case .accepted(let negotiated): return .success(negotiated.suite == first)
    case .rejected(let message):
      let text = "\(plan.target.label) refused in \(version.name) suites it had accepted: \(message)"
      return .failure(TLSScanError(.aborted, text))
    case .failed(let error): return .failure(error)
    }
  }

  private static func hstsResult(_ outcome: ProbeOutcome) -> HSTSResult {
    switch outcome {
    case .accepted(let negotiated):
      let header = negotiated.headers.last { $0.name.lowercased() == "strict-transport-security" }?.value
      return HSTSResult(header: header, status: negotiated.status, headers: negotiated.headers, error: nil)
    case .rejected(let message): return HSTSResult(header: nil, status: nil, headers: [], error: message)
    case .failed(let error): return HSTSResult(header: nil, status: nil, headers: [], error: error.message)
    }
  }

  /// Turns a refused first handshake into the reason a person can act on.
  static func refusal(_ message: String, _ target: TLSTarget) -> TLSScanError {
    let lower = message.lowercased()
    if lower.contains("wrong version number") || lower.contains("packet length too long")
      || lower.contains("record layer failure") || lower.contains("http request")
    {
      return TLSScanError(
        .notTLS, "\(target.label) answered, but not with TLS (a plain HTTP or other service?): \(message)")
    }
    if lower.contains("reset") || lower.contains("unexpected eof") || lower.contains("syscall")
      || lower.contains("connection was closed") || lower.contains("empty reply")
    {
      return TLSScanError(
        .aborted, "\(target.label) closed the connection during the TLS handshake: \(message)")
    }
    return TLSScanError(
      .noCommonConfiguration,
      "\(target.label) accepted none of the TLS versions, suites and groups the local library can offer: \(message)")
  }
}

/// The offers every probe starts from: every suite and group the local library has.
private struct ProbePlan: Sendable {
  let target: TLSTarget
  let connectTimeout: Double
  /// TLS 1.3 probes send no key shares (see `ProbeRequest.askRetry`).
  private(set) var askRetry: Bool
  let legacySuites: String
  let tls13Suites: String
  let groups: String
  /// TLS ≤ 1.2 ECDHE suites, so a TLS 1.2 group probe cannot fall back to DHE or RSA key exchange.
  let ecdheSuites: String
  /// IANA name → OpenSSL name.
  let openSSLNames: [String: String]

  init(target: TLSTarget, catalogue: TLSCatalogue, connectTimeout: Double, askRetry: Bool) {
    self.target = target
    self.connectTimeout = connectTimeout
    self.askRetry = askRetry
    legacySuites = catalogue.suites.filter { !$0.tls13 }.map(\.openSSL).joined(separator: ":")
    tls13Suites = catalogue.suites.filter(\.tls13).map(\.openSSL).joined(separator: ":")
    groups = TLSGroup.all.map(\.openSSL).joined(separator: ":")
    ecdheSuites = catalogue.suites.filter { !$0.tls13 && $0.openSSL.hasPrefix("ECDHE-") }.map(\.openSSL)
      .joined(separator: ":")
    openSSLNames = Dictionary(catalogue.suites.map { ($0.iana, $0.openSSL) }, uniquingKeysWith: { first, _ in first })
  }

  func request(_ version: TLSVersion?, _ purpose: ProbeRequest.Purpose = .handshake) -> ProbeRequest {
    var request = ProbeRequest(
      target: target, purpose: purpose, version: version, cipherList: legacySuites, tls13Suites: tls13Suites,
      groups: groups, connectTimeout: connectTimeout)
    switch purpose {
    case .handshake:
      if let version { request.stop = version == .tls1_3 ? .serverHello : .keyExchange }
      request.askRetry = askRetry && version == .tls1_3
    case .inspect: request.stop = .serverFlight
    case .request: break
    }
    return request
  }

  /// The same plan with key shares in every TLS 1.3 ClientHello.
  func sendingKeyShares() -> ProbePlan {
    var plan = self
    plan.askRetry = false
    return plan
  }

  /// How the scan record names a probe: what it tests and at which version, marked when a TLS 1.3 probe is a repeat
  /// with key shares.
  func purpose(_ what: String, _ version: TLSVersion) -> String {
    !askRetry && version == .tls1_3 ? "\(what) \(version.name), with key shares" : "\(what) \(version.name)"
  }
}

/// Which versions the server accepts, as each version's first probe finds out. The group scan of a server without
/// TLS 1.3 waits for these rather than for the inspecting handshake, which takes longer and would hold up the chains.
private actor AcceptedVersions {
  private var known: [TLSVersion: Bool] = [:]
  private var waiting: [(version: TLSVersion, continuation: CheckedContinuation<Bool, Never>)] = []

  func record(_ version: TLSVersion, accepted: Bool) {
    known[version] = accepted
    for waiter in waiting where waiter.version == version { waiter.continuation.resume(returning: accepted) }
    waiting.removeAll { $0.version == version }
  }

  /// The highest version the server accepts; `nil` when it accepts none.
  func highest() async -> TLSVersion? {
    for version in TLSVersion.allCases.reversed() where await accepts(version) { return version }
    return nil
  }

  private func accepts(_ version: TLSVersion) async -> Bool {
    if let accepted = known[version] { return accepted }
    return await withCheckedContinuation { waiting.append((version, $0)) }
  }
}

/// Lets exactly one elimination chain of a version start its order probe.
private actor OrderClaim {
  private var claimed = false

  func claim() -> Bool {
    defer { claimed = true }
    return !claimed
  }
}

/// Collects every probe of a scan, in completion order, for the scan record.
private actor ProbeLog {
  private(set) var records: [ProbeRecord] = []
  private var dhSizes: [Int] = []
  private var legacy: [Negotiated] = []

  /// Accepted handshakes below TLS 1.3, where renegotiation and extended master secret are negotiated.
  func legacyHandshakes() -> [Negotiated] { legacy }

  func smallestDH() -> Int? { dhSizes.min() }

  nonisolated func probe(_ request: ProbeRequest, _ purpose: String, _ prober: TLSProber) async -> ProbeOutcome {
    let outcome = await prober.probe(request)
    await record(request, purpose, outcome)
    return outcome
  }

  private func record(_ request: ProbeRequest, _ purpose: String, _ outcome: ProbeOutcome) {
    switch outcome {
    case .accepted(let negotiated):
      var details: [String: String] = [:]
      if !negotiated.versionName.isEmpty { details["version"] = negotiated.versionName }
      if !negotiated.suite.isEmpty { details["suite"] = negotiated.suite }
      if !negotiated.group.isEmpty { details["group"] = negotiated.group }
      if let bits = negotiated.dhBits {
        details["dh_bits"] = String(bits)
        dhSizes.append(bits)
      }
      if negotiated.status != 0 { details["status"] = String(negotiated.status) }
      if let stage = negotiated.stoppedAfter { details["handshake"] = "stopped after \(stage)" }
      if let version = negotiated.version, version < .tls1_3 {
        legacy.append(negotiated)
        details["secure_renegotiation"] = String(negotiated.secureRenegotiation)
        details["extended_master_secret"] = String(negotiated.extendedMasterSecret)
      }
      records.append(
        ProbeRecord(purpose: purpose, offered: request.offered, outcome: "accepted", negotiated: details, message: nil))
    case .rejected(let message):
      records.append(
        ProbeRecord(purpose: purpose, offered: request.offered, outcome: "rejected", negotiated: nil, message: message))
    case .failed(let error):
      records.append(
        ProbeRecord(
          purpose: purpose, offered: request.offered, outcome: "failed", negotiated: nil, message: error.message))
    }
  }
}
