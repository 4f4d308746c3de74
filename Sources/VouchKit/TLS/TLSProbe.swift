import CCurl
import COpenSSL
import Foundation
import Synchronization

/// Why a scan could not produce a result, with a message that says what to check.
public struct TLSScanError: Error, Sendable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    /// Nothing accepts TCP connections there.
    case refused
    /// The host name does not resolve.
    case resolve
    /// No answer within the connect timeout.
    case timeout
    /// The port answered, but not with TLS (plain HTTP, SSH…).
    case notTLS = "not-tls"
    /// The server closed or reset the connection during the handshake.
    case aborted
    /// The server speaks TLS but accepted nothing the local library can offer.
    case noCommonConfiguration = "no-common-configuration"
    /// The local TLS library or libcurl failed.
    case local
  }

  public let kind: Kind
  public let message: String

  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { message }
}

/// Where probes connect: `host` is dialled, `serverName` goes into SNI and certificate name checks.
public struct TLSTarget: Sendable, Hashable {
  public let host: String
  public let port: Int
  /// Sent as SNI; `nil` sends the host when it is a name and nothing when it is an IP address.
  public let serverName: String?

  public init(host: String, port: Int, serverName: String? = nil) {
    self.host = host
    self.port = port
    self.serverName = serverName
  }

  /// The name certificates must match: the SNI name, else the host.
  public var checkedName: String { serverName ?? host }

  var isIPv6: Bool { host.contains(":") }

  /// Whether `name` is an IPv4 or IPv6 address, which SNI cannot carry and certificates match as IP SANs.
  public static func isIPAddress(_ name: String) -> Bool {
    var v4 = in_addr()
    var v6 = in6_addr()
    return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
  }
  var label: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

  /// The URL libcurl dials, and a `CURLOPT_RESOLVE` entry pinning the SNI name to `host`.
  var curlAddress: (url: String, resolve: String?) {
    if let serverName {
      return ("https://\(serverName):\(port)/", "\(serverName):\(port):\(isIPv6 ? "[\(host)]" : host)")
    }
    return ("https://\(label)/", nil)
  }
}

/// One handshake (or one HTTPS request) to make: what the client offers.
struct ProbeRequest: Sendable {
  enum Purpose: Sendable {
    /// A bare handshake (`CURLOPT_CONNECT_ONLY`).
    case handshake
    /// A handshake that also verifies and records the certificate chain, OCSP stapling and session properties.
    case inspect(caBundle: String?, verifyTime: Date)
    /// A GET of `/` whose response headers are kept (HSTS).
    case request(timeout: Double)
  }

  var target: TLSTarget
  var purpose: Purpose = .handshake
  /// `nil` offers TLS 1.0 up to the highest version the library knows.
  var version: TLSVersion?
  /// OpenSSL names for TLS ≤ 1.2 (`CURLOPT_SSL_CIPHER_LIST`); `nil` leaves libcurl's default.
  var cipherList: String?
  /// OpenSSL names for TLS 1.3 (`CURLOPT_TLS13_CIPHERS`).
  var tls13Suites: String?
  /// OpenSSL group names (`CURLOPT_SSL_EC_CURVES`).
  var groups: String?
  var connectTimeout: Double
  /// A TLS ≤ 1.2 handshake ends once the server's key exchange is read (at its certificate for suites without one):
  /// the server has then chosen and committed to the version, suite and group, and the client's own key generation
  /// (~7 ms for 2048-bit DHE) and the server's RSA decryption are skipped.
  var stopAtKeyExchange = false

  /// What the probe offered, for the scan record.
  var offered: [String: String] {
    var offered: [String: String] = ["version": version?.name ?? "any"]
    offered["cipher_list"] = cipherList
    offered["tls13_suites"] = tls13Suites
    offered["groups"] = groups
    return offered
  }
}

/// What a completed handshake negotiated; plain values copied out of the `SSL*` on the probe thread.
struct Negotiated: Sendable {
  var version: TLSVersion?
  var versionName: String
  var suite: String
  /// IANA group name, or OpenSSL's short name when the catalogue lacks it; empty without a key exchange group.
  var group: String
  /// Bits of the server's finite-field DH key; `nil` when the key exchange was not DHE.
  var dhBits: Int?
  /// RFC 5746 and RFC 7627 as the server signalled them in this handshake (TLS ≤ 1.2 only).
  var secureRenegotiation: Bool
  var extendedMasterSecret: Bool
  var inspection: Inspection?
  var headers: [HTTPHeader]
  var status: Int
  /// Where the client ended the handshake itself: after the server's key exchange, or at its certificate for a suite
  /// without one; `nil` for a completed handshake.
  var stoppedAfter: String?
}

/// Session properties and the chain, read from the one handshake that inspects.
struct Inspection: Sendable {
  var chain: [CertificateInfo]
  /// `X509_V_OK` (0) or OpenSSL's verification error.
  var verifyCode: Int
  var verifyMessage: String
  var hostnameMatch: Bool
  var ocspStapled: Bool
  var compression: Bool
}

/// The outcome of one probe.
enum ProbeOutcome: Sendable {
  case accepted(Negotiated)
  /// The server refused what was offered (alert, reset or close during the handshake); the text says how.
  case rejected(String)
  /// The probe could not be made (connection refused, timeout, local failure).
  case failed(TLSScanError)
}

/// Runs probes on its own threads; each thread creates, uses and frees its libcurl and OpenSSL handles itself.
///
/// Callers exchange only `ProbeRequest` and `ProbeOutcome` values with the threads, so no C handle crosses a task.
final class TLSProber: Sendable {
  private let queue = ProbeQueue()
  private let threadCount: Int

  init(concurrency: Int) {
    threadCount = max(1, concurrency)
    for index in 0..<threadCount {
      let thread = Thread { [queue] in
        while let job = queue.next() {
          job.continuation.resume(returning: ProbeSession.run(job.request))
        }
      }
      thread.name = "vouch-tls-\(index)"
      thread.start()
    }
  }

  deinit {
    close()
  }

  func probe(_ request: ProbeRequest) async -> ProbeOutcome {
    await withCheckedContinuation { continuation in
      if !queue.submit(ProbeQueue.Job(request: request, continuation: continuation)) {
        continuation.resume(returning: .failed(TLSScanError(.local, "the TLS prober was closed")))
      }
    }
  }

  /// Lets the threads finish their current probe and exit; probes submitted later fail.
  func close() {
    queue.close(threads: threadCount)
  }
}

/// The only state shared between callers and the probe threads: waiting probes and a count of them.
private final class ProbeQueue: Sendable {
  struct Job: Sendable {
    let request: ProbeRequest
    let continuation: CheckedContinuation<ProbeOutcome, Never>
  }

  private let state = Mutex<(pending: [Job], closed: Bool)>(([], false))
  private let available = DispatchSemaphore(value: 0)

  func submit(_ job: Job) -> Bool {
    let accepted = state.withLock { state in
      guard !state.closed else { return false }
      state.pending.append(job)
      return true
    }
    if accepted { available.signal() }
    return accepted
  }

  /// Blocks the calling probe thread until a job arrives; `nil` once the queue is closed and drained.
  func next() -> Job? {
    available.wait()
    return state.withLock { state in state.pending.isEmpty ? nil : state.pending.removeFirst() }
  }

  func close(threads: Int) {
    let first = state.withLock { state in
      defer { state.closed = true }
      return !state.closed
    }
    guard first else { return }
    for _ in 0..<threads { available.signal() }
  }
}

/// One probe's C state: lives on one probe thread from `curl_easy_init` to `curl_easy_cleanup`.
private final class ProbeSession {
  let request: ProbeRequest
  var store: OpaquePointer?
  var headers: [HTTPHeader] = []
  /// Filled by the info callback when the handshake completes, while the `SSL*` is still alive.
  var completed: Negotiated?
  /// The security and message callbacks' state when the probe stops after the server's key exchange.
  var stop: UnsafeMutablePointer<vouch_ske_stop>?

  /// The `SSL_CTX` slot that leads the info callback back to its probe.
  static let contextSlot = vouch_ssl_ctx_new_ex_index()

  private init(_ request: ProbeRequest) {
    self.request = request
  }

  deinit {
    if let store { X509_STORE_free(store) }
    stop?.deallocate()
  }

  static func run(_ request: ProbeRequest) -> ProbeOutcome {
    ProbeSession(request).perform()
  }

  private func perform() -> ProbeOutcome {
    if case .inspect(let caBundle, _) = request.purpose {
      switch Self.loadStore(caBundle) {
      case .success(let loaded): store = loaded
      case .failure(let error): return .failed(error)
      }
    }
    guard let easy = curl_easy_init() else {
      return .failed(TLSScanError(.local, "libcurl could not create a handle"))
    }
    defer { curl_easy_cleanup(easy) }
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    defer { errorBuffer.deallocate() }
    var resolveList: UnsafeMutablePointer<curl_slist>?
    defer { curl_slist_free_all(resolveList) }

    let address = request.target.curlAddress
    var failed = CURLE_OK
    func check(_ code: CURLcode) {
      if code != CURLE_OK, failed == CURLE_OK { failed = code }
    }
    let me = Unmanaged.passUnretained(self).toOpaque()
    check(vouch_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
    check(vouch_curl_setopt_string(easy, CURLOPT_URL, address.url))
    if let resolve = address.resolve {
      resolveList = curl_slist_append(nil, resolve)
      check(vouch_curl_setopt_slist(easy, CURLOPT_RESOLVE, resolveList))
    }
    check(vouch_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
    check(vouch_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout * 1000)))
    // Every probe is a full handshake of its own: no session resumption, no connection reuse.
    check(vouch_curl_setopt_long(easy, CURLOPT_SSL_SESSIONID_CACHE, 0))
    check(vouch_curl_setopt_long(easy, CURLOPT_FRESH_CONNECT, 1))
    check(vouch_curl_setopt_long(easy, CURLOPT_FORBID_REUSE, 1))
    // Verification happens in OpenSSL against the scan's own store, so a bad certificate never hides the rest.
    check(vouch_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0))
    check(vouch_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0))
    // Loading the system bundle costs ~50 ms per handshake; only the inspecting probe needs trust anchors.
    check(vouch_curl_setopt_pointer(easy, CURLOPT_CAINFO, nil))
    check(vouch_curl_setopt_pointer(easy, CURLOPT_CAPATH, nil))
    check(vouch_curl_setopt_long(easy, CURLOPT_SSLVERSION, request.version?.curlPinned ?? 4))
    if let list = request.cipherList { check(vouch_curl_setopt_string(easy, CURLOPT_SSL_CIPHER_LIST, list)) }
    if let list = request.tls13Suites { check(vouch_curl_setopt_string(easy, CURLOPT_TLS13_CIPHERS, list)) }
    if let list = request.groups { check(vouch_curl_setopt_string(easy, CURLOPT_SSL_EC_CURVES, list)) }
    check(vouch_curl_setopt_ssl_ctx_callback(easy, probeContextCallback))
    check(vouch_curl_setopt_pointer(easy, CURLOPT_SSL_CTX_DATA, me))
    switch request.purpose {
    case .request(let timeout):
      check(vouch_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(timeout * 1000)))
      check(vouch_curl_setopt_string(easy, CURLOPT_USERAGENT, "vouch/\(VouchVersion.current)"))
      check(vouch_curl_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION, probeHeader))
      check(vouch_curl_setopt_pointer(easy, CURLOPT_HEADERDATA, me))
      check(vouch_curl_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, probeDiscard))
    case .handshake, .inspect:
      check(vouch_curl_setopt_long(easy, CURLOPT_CONNECT_ONLY, 1))
    }
    guard failed == CURLE_OK else {
      return .failed(
        TLSScanError(.local, "libcurl refused a probe option: \(String(cString: curl_easy_strerror(failed)))"))
    }
    let code = curl_easy_perform(easy)
    let detail = String(cString: errorBuffer)
    let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    // A probe that stopped after the server's key exchange ends with an alert the client sent itself.
    if code != CURLE_OK, let negotiated = completed, negotiated.stoppedAfter != nil { return .accepted(negotiated) }
    if code != CURLE_OK { return Self.classify(code, message, request.target) }

    guard var negotiated = completed else {
      return .failed(TLSScanError(.local, "libcurl reported a connection but OpenSSL reported no finished handshake"))
    }
    if case .request = request.purpose {
      var status = 0
      vouch_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
      negotiated.status = status
      negotiated.headers = headers
    }
    return .accepted(negotiated)
  }

  /// Called by OpenSSL on this thread; the first completed handshake is the one the probe made.
  fileprivate func handshakeDone(_ ssl: OpaquePointer) {
    if completed == nil { completed = negotiated(ssl) }
  }

  /// Called by the security callback while the client reads the server's key exchange, just before it stops the
  /// handshake: the suite is the one ServerHello chose, the group or DH size the one the server sent.
  fileprivate func keyExchangeRead(_ ssl: OpaquePointer, nid: Int32, dhBits: Int32, atCertificate: Bool) {
    guard completed == nil, let stop else { return }
    let suite = vouch_ssl_pending_cipher(ssl).flatMap { SSL_CIPHER_standard_name($0) }.map { String(cString: $0) } ?? ""
    var group = ""
    if nid > 0, let short = OBJ_nid2sn(nid) {
      let name = String(cString: short)
      group = TLSGroup.named(openSSL: name)?.iana ?? name
    }
    completed = Negotiated(
      version: TLSVersion(openSSL: SSL_version(ssl)), versionName: String(cString: SSL_get_version(ssl)),
      suite: suite, group: group, dhBits: dhBits > 0 ? Int(dhBits) : nil,
      secureRenegotiation: stop.pointee.renegotiation_info != 0,
      extendedMasterSecret: stop.pointee.extended_master_secret != 0, inspection: nil, headers: [], status: 0,
      stoppedAfter: atCertificate ? "Certificate" : "ServerKeyExchange")
  }

  /// Reads the session on this thread while libcurl still holds the connection open.
  private func negotiated(_ ssl: OpaquePointer) -> Negotiated {
    let cipher = SSL_get_current_cipher(ssl)
    let suite = cipher.flatMap { SSL_CIPHER_standard_name($0) }.map { String(cString: $0) } ?? ""
    let nid = vouch_ssl_negotiated_group(ssl)
    var group = ""
    if nid > 0, let short = OBJ_nid2sn(nid) {
      let name = String(cString: short)
      group = TLSGroup.named(openSSL: name)?.iana ?? name
    }
    let dhBits = vouch_ssl_peer_tmp_key_is_dh(ssl) != 0 ? Int(vouch_ssl_peer_tmp_key_bits(ssl)) : nil
    var inspection: Inspection?
    if case .inspect = request.purpose {
      inspection = inspect(ssl)
    }
    return Negotiated(
      version: TLSVersion(openSSL: SSL_version(ssl)), versionName: String(cString: SSL_get_version(ssl)),
      suite: suite, group: group, dhBits: dhBits, secureRenegotiation: vouch_ssl_secure_renegotiation(ssl) != 0,
      extendedMasterSecret: vouch_ssl_extms(ssl) != 0, inspection: inspection, headers: [], status: 0)
  }

  private func inspect(_ ssl: OpaquePointer) -> Inspection {
    let chain = (0..<vouch_ssl_chain_count(ssl)).compactMap { index in
      vouch_ssl_chain_at(ssl, index).map(CertificateInfo.init(x509:))
    }
    let code = SSL_get_verify_result(ssl)
    var hostnameMatch = false
    if let leaf = vouch_ssl_chain_at(ssl, 0) {
      let name = request.target.checkedName
      if TLSTarget.isIPAddress(name) {
        hostnameMatch = X509_check_ip_asc(leaf, name, 0) == 1
      } else {
        hostnameMatch = X509_check_host(leaf, name, name.utf8.count, 0, nil) == 1
      }
    }
    return Inspection(
      chain: chain, verifyCode: code, verifyMessage: String(cString: X509_verify_cert_error_string(code)),
      hostnameMatch: hostnameMatch, ocspStapled: vouch_ssl_ocsp_response_length(ssl) > 0,
      compression: vouch_ssl_compressed(ssl) != 0)
  }

  /// Called by libcurl once the `SSL_CTX` is configured, just before the handshake.
  fileprivate func configure(_ context: OpaquePointer) {
    // Debian's level 2 silently refuses TLS 1.0/1.1, SHA-1 signatures and small DH keys: a scan must offer them.
    SSL_CTX_set_security_level(context, 0)
    if case .inspect(_, let verifyTime) = request.purpose, let store {
      SSL_CTX_set1_cert_store(context, store)
      // Validity is judged at the run's clock, not the machine's, like every other fact.
      X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(context), time_t(verifyTime.timeIntervalSince1970))
      vouch_ssl_ctx_status_type_ocsp(context)
    }
    SSL_CTX_set_ex_data(context, Self.contextSlot, Unmanaged.passUnretained(self).toOpaque())
    vouch_ssl_ctx_set_info_callback(context, probeInfoCallback)
    if request.stopAtKeyExchange, case .handshake = request.purpose, stop == nil {
      let state = UnsafeMutablePointer<vouch_ske_stop>.allocate(capacity: 1)
      state.initialize(
        to: vouch_ske_stop(
          fallback: nil, record: probeKeyExchangeCallback, probe: Unmanaged.passUnretained(self).toOpaque(),
          renegotiation_info: 0, extended_master_secret: 0))
      stop = state
      vouch_ssl_ctx_stop_at_key_exchange(context, state)
    }
  }

  fileprivate func receiveHeader(_ line: String) {
    let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.hasPrefix("HTTP/") {
      headers.removeAll()  // A new response (after 1xx) starts a new header block.
    } else if let colon = trimmed.firstIndex(of: ":") {
      headers.append(
        HTTPHeader(
          String(trimmed[..<colon]),
          String(trimmed[trimmed.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        ))
    }
  }

  private static func loadStore(_ caBundle: String?) -> Result<OpaquePointer, TLSScanError> {
    guard let store = X509_STORE_new() else {
      return .failure(TLSScanError(.local, "OpenSSL could not create a store"))
    }
    let loaded: Bool
    if let caBundle {
      loaded = X509_STORE_load_file(store, caBundle) == 1
    } else {
      loaded = X509_STORE_set_default_paths(store) == 1
    }
    guard loaded else {
      X509_STORE_free(store)
      let source = caBundle.map { "the CA bundle \($0)" } ?? "the system CA store"
      return .failure(TLSScanError(.local, "cannot load \(source): is it a readable PEM file of certificates?"))
    }
    return .success(store)
  }

  /// Separates "the server said no" from "the probe could not be made".
  private static func classify(_ code: CURLcode, _ message: String, _ target: TLSTarget) -> ProbeOutcome {
    switch code {
    case CURLE_COULDNT_CONNECT:
      return .failed(TLSScanError(.refused, "nothing accepts connections on \(target.label): \(message)"))
    case CURLE_COULDNT_RESOLVE_HOST:
      return .failed(TLSScanError(.resolve, "cannot resolve \(target.host): \(message)"))
    case CURLE_OPERATION_TIMEDOUT:
      return .failed(TLSScanError(.timeout, "\(target.label) did not answer in time: \(message)"))
    case CURLE_SSL_CONNECT_ERROR, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING:
      return .rejected(message)
    default:
      return .failed(TLSScanError(.local, "probe of \(target.label) failed: \(message)"))
    }
  }
}

private func probeContextCallback(
  _ curl: UnsafeMutableRawPointer?, _ context: UnsafeMutableRawPointer?, _ user: UnsafeMutableRawPointer?
) -> CURLcode {
  guard let context, let user else { return CURLE_OK }
  Unmanaged<ProbeSession>.fromOpaque(user).takeUnretainedValue().configure(OpaquePointer(context))
  return CURLE_OK
}

private func probeInfoCallback(_ ssl: OpaquePointer?, _ where: Int32, _ ret: Int32) {
  guard vouch_ssl_handshake_done(`where`) != 0, let ssl, let context = SSL_get_SSL_CTX(ssl),
    let probe = SSL_CTX_get_ex_data(context, ProbeSession.contextSlot)
  else { return }
  Unmanaged<ProbeSession>.fromOpaque(probe).takeUnretainedValue().handshakeDone(ssl)
}

private func probeKeyExchangeCallback(
  _ ssl: OpaquePointer?, _ probe: UnsafeMutableRawPointer?, _ nid: Int32, _ dhBits: Int32, _ atCertificate: Int32
) {
  guard let ssl, let probe else { return }
  Unmanaged<ProbeSession>.fromOpaque(probe).takeUnretainedValue().keyExchangeRead(
    ssl, nid: nid, dhBits: dhBits, atCertificate: atCertificate != 0)
}

private func probeHeader(
  _ pointer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
  guard let pointer, let context else { return 0 }
  let bytes = UnsafeRawBufferPointer(start: pointer, count: size * count)
  Unmanaged<ProbeSession>.fromOpaque(context).takeUnretainedValue().receiveHeader(
    String(decoding: bytes, as: UTF8.self))
  return size * count
}

/// The body of the HSTS request is not evidence; only its headers are.
private func probeDiscard(
  _ pointer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
  size * count
}
