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

  /// The URL libcurl dials (`https` for a request, `http` for a bare connection that OpenSSL then speaks TLS over),
  /// and a `CURLOPT_RESOLVE` entry pinning the SNI name to `host`.
  func curlAddress(scheme: String) -> (url: String, resolve: String?) {
    if let serverName {
      return ("\(scheme)://\(serverName):\(port)/", "\(serverName):\(port):\(isIPv6 ? "[\(host)]" : host)")
    }
    return ("\(scheme)://\(label)/", nil)
  }

  /// What goes into SNI: the name libcurl would send for the URL's host (none for an IP address, no trailing dot).
  var sniName: String? {
    let name = serverName ?? host
    guard !TLSTarget.isIPAddress(name) else { return nil }
    return name.hasSuffix(".") ? String(name.dropLast()) : name
  }
}

/// One handshake (or one HTTPS request) to make: what the client offers.
struct ProbeRequest: Sendable {
  enum Purpose: Sendable {
    /// A bare handshake.
    case handshake
    /// A complete handshake that also verifies and records the certificate chain, OCSP stapling and session
    /// properties.
    case inspect(caBundle: String?, verifyTime: Date)
    /// A GET of `/` whose response headers are kept (HSTS).
    case request(timeout: Double)
  }

  /// Where a bare handshake ends, once the server has committed to everything the probe asks about.
  enum Stop: Sendable {
    /// The handshake completes.
    case none
    /// TLS 1.3: version, suite and group are all in ServerHello; the client skips decrypting and checking the rest of
    /// the server's flight and its own Finished.
    case serverHello
    /// TLS ≤ 1.2: the suite is in ServerHello, the ECDHE group or DH prime in ServerKeyExchange, which the probe reads
    /// itself; OpenSSL never parses the certificate or validates the DH key (a modular exponentiation for a 2048-bit
    /// group), and neither side generates a key. Suites without one (RSA key transport) end at the Certificate.
    case keyExchange
    /// The inspecting handshake: everything it records is in the server's first flight, which OpenSSL reads and checks
    /// in full; the client's reply (key exchange, Finished) is not sent. For TLS ≤ 1.2 that is a round trip less.
    case serverFlight
  }

  var target: TLSTarget
  var purpose: Purpose = .handshake
  /// `nil` offers TLS 1.0 up to the highest version the library knows.
  var version: TLSVersion?
  /// OpenSSL names for TLS ≤ 1.2 (`SSL_set_cipher_list`); `nil` leaves the prober's default offer.
  var cipherList: String?
  /// OpenSSL names for TLS 1.3 (`SSL_set_ciphersuites`).
  var tls13Suites: String?
  /// OpenSSL group names (`SSL_set1_groups_list`).
  var groups: String?
  var connectTimeout: Double
  var stop = Stop.none
  /// With `stop` at `.serverHello`: the ClientHello goes out without key shares, so the server names its suite and
  /// group in a HelloRetryRequest, before it generates a key, derives secrets or signs (RFC 8446, 4.1.1 and 4.2.8).
  var askRetry = false

  /// What the probe offered, for the scan record.
  var offered: [String: String] {
    var offered: [String: String] = ["version": version?.name ?? "any"]
    offered["cipher_list"] = cipherList
    offered["tls13_suites"] = tls13Suites
    offered["groups"] = groups
    if askRetry, stop == .serverHello { offered["key_shares"] = "none, asking for a HelloRetryRequest" }
    return offered
  }
}

/// The lists most of a scan's probes offer unchanged (every suite and group the library has).
struct ProbeOffer: Sendable {
  var cipherList: String
  var tls13Suites: String
  var groups: String
}

/// What a handshake negotiated; plain values copied out of the `SSL*` on the probe thread.
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
  /// The last server message the client read before ending the handshake itself (`ServerHello`, `HelloRetryRequest`,
  /// `Certificate`, `ServerKeyExchange`); `nil` for a completed handshake.
  var stoppedAfter: String?

  /// Reads a completed handshake's session.
  init(completed ssl: OpaquePointer, inspection: Inspection?) {
    let cipher = SSL_get_current_cipher(ssl)
    version = TLSVersion(openSSL: SSL_version(ssl))
    versionName = String(cString: SSL_get_version(ssl))
    suite = cipher.flatMap { SSL_CIPHER_standard_name($0) }.map { String(cString: $0) } ?? ""
    group = Self.groupName(nid: vouch_ssl_negotiated_group(ssl))
    dhBits = vouch_ssl_peer_tmp_key_is_dh(ssl) != 0 ? Int(vouch_ssl_peer_tmp_key_bits(ssl)) : nil
    secureRenegotiation = vouch_ssl_secure_renegotiation(ssl) != 0
    extendedMasterSecret = vouch_ssl_extms(ssl) != 0
    self.inspection = inspection
    headers = []
    status = 0
  }

  /// Reads a handshake the probe ended itself: after ServerHello (and, for TLS ≤ 1.2, the server's key exchange, which
  /// `io` holds), or after the server's whole first flight.
  init(stopped ssl: OpaquePointer, io: vouch_probe_io, inspection: Inspection?) {
    version = TLSVersion(openSSL: SSL_version(ssl))
    versionName = String(cString: SSL_get_version(ssl))
    suite = SSL_get_pending_cipher(ssl).flatMap { SSL_CIPHER_standard_name($0) }.map { String(cString: $0) } ?? ""
    switch Int(io.stopped) {
    case Int(VOUCH_STOPPED_SERVER_HELLO.rawValue) where io.suite != 0, Int(VOUCH_STOPPED_HELLO_RETRY.rawValue):
      // The probe read the (TLS 1.3) ServerHello or HelloRetryRequest itself; OpenSSL never saw it.
      version = .tls1_3
      versionName = "TLSv1.3"
      let id: [UInt8] = [UInt8(io.suite >> 8), UInt8(io.suite & 0xff)]
      suite = SSL_CIPHER_find(ssl, id).flatMap { SSL_CIPHER_standard_name($0) }.map { String(cString: $0) } ?? ""
      let named = TLSGroup.withID(Int(io.group))
      group = named?.iana ?? ""
      dhBits = named?.finiteFieldBits
      stoppedAfter = Int(io.stopped) == Int(VOUCH_STOPPED_HELLO_RETRY.rawValue) ? "HelloRetryRequest" : "ServerHello"
    case Int(VOUCH_STOPPED_SERVER_FLIGHT.rawValue):
      // OpenSSL has processed every server message: the session holds what a completed handshake would.
      group = Self.groupName(nid: vouch_ssl_negotiated_group(ssl))
      dhBits = vouch_ssl_peer_tmp_key_is_dh(ssl) != 0 ? Int(vouch_ssl_peer_tmp_key_bits(ssl)) : nil
      stoppedAfter = SSL_version(ssl) >= TLS1_3_VERSION ? "Finished" : "ServerHelloDone"
    case Int(VOUCH_STOPPED_SERVER_HELLO.rawValue):
      // OpenSSL has processed ServerHello: its key share is the server's ephemeral key.
      group = Self.groupName(nid: vouch_ssl_negotiated_group(ssl))
      dhBits = vouch_ssl_peer_tmp_key_is_dh(ssl) != 0 ? Int(vouch_ssl_peer_tmp_key_bits(ssl)) : nil
      stoppedAfter = "ServerHello"
    case Int(VOUCH_STOPPED_CERTIFICATE.rawValue):
      group = ""
      dhBits = nil
      stoppedAfter = "Certificate"
    default:
      group = TLSGroup.withID(Int(io.group))?.iana ?? ""
      dhBits = io.dh_bits > 0 ? Int(io.dh_bits) : nil
      stoppedAfter = "ServerKeyExchange"
    }
    secureRenegotiation = io.renegotiation_info != 0
    extendedMasterSecret = io.extended_master_secret != 0
    self.inspection = inspection
    headers = []
    status = 0
  }

  private static func groupName(nid: Int32) -> String {
    guard nid > 0, let short = OBJ_nid2sn(nid) else { return "" }
    let name = String(cString: short)
    return TLSGroup.named(openSSL: name)?.iana ?? name
  }
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

  init(_ ssl: OpaquePointer, checkedName name: String) {
    chain = (0..<vouch_ssl_chain_count(ssl)).compactMap { index in
      vouch_ssl_chain_at(ssl, index).map(CertificateInfo.init(x509:))
    }
    let code = SSL_get_verify_result(ssl)
    hostnameMatch = false
    if let leaf = vouch_ssl_chain_at(ssl, 0) {
      if TLSTarget.isIPAddress(name) {
        hostnameMatch = X509_check_ip_asc(leaf, name, 0) == 1
      } else {
        hostnameMatch = X509_check_host(leaf, name, name.utf8.count, 0, nil) == 1
      }
    }
    verifyCode = code
    verifyMessage = String(cString: X509_verify_cert_error_string(code))
    ocspStapled = vouch_ssl_ocsp_response_length(ssl) > 0
    compression = vouch_ssl_compressed(ssl) != 0
  }
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
/// Callers exchange only `ProbeRequest` and `ProbeOutcome` values with the threads, so no C handle crosses a task. The
/// one object the threads share is the scan's `SSL_CTX` (see `ProbeClient`).
final class TLSProber: Sendable {
  private let queue = ProbeQueue()
  private let threadCount: Int

  /// `defaultOffer` is what a probe offers where its request leaves a list out, and costs nothing to repeat.
  init(concurrency: Int, defaultOffer: ProbeOffer? = nil) throws(TLSScanError) {
    _ = CurlGlobal.status
    let client = try ProbeClient(defaultOffer: defaultOffer)
    threadCount = max(1, concurrency)
    Self.startThread(0, of: threadCount, queue, client)
  }

  /// Each thread starts the next before it takes its first probe, so the first probes do not wait for all of them
  /// to be created (≈ 0.1 ms each).
  private static func startThread(_ index: Int, of count: Int, _ queue: ProbeQueue, _ client: ProbeClient) {
    let thread = Thread {
      if index + 1 < count { startThread(index + 1, of: count, queue, client) }
      while let job = queue.next() {
        let outcome: ProbeOutcome
        if case .request = job.request.purpose {
          outcome = RequestProbe.run(job.request)
        } else {
          outcome = HandshakeProbe.run(job.request, client)
        }
        job.continuation.resume(returning: outcome)
      }
    }
    thread.name = "vouch-tls-\(index)"
    thread.start()
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

/// The scan's one `SSL_CTX` and the BIO type that carries handshakes over libcurl's connections.
///
/// Sharing it across the probe threads is safe: it is fully configured here, before any thread sees it, and never
/// changed afterwards; threads only pass it to `SSL_new`, which OpenSSL allows concurrently on a configured context
/// (it takes a reference under OpenSSL's own locking). Everything a probe varies is set on its own `SSL`, and the
/// session cache is off, so no probe writes to the context. One context instead of one per handshake (what libcurl
/// does) saves its construction, ≈ 0.3 ms of CPU per probe. The last thread to finish drops the last Swift reference,
/// and each `SSL` holds its own reference on the context, so nothing is freed while a handshake still uses it.
///
/// The context starts with the scan's default offer, which `SSL_new` copies: most probes offer the full lists, and
/// parsing a 150-name cipher list for each of them (≈ 0.2 ms) would be repeated work with the same result.
private final class ProbeClient: @unchecked Sendable {
  let context: OpaquePointer
  let bioMethod: OpaquePointer
  let defaultOffer: ProbeOffer?

  init(defaultOffer: ProbeOffer?) throws(TLSScanError) {
    guard let context = SSL_CTX_new(TLS_client_method()) else {
      throw TLSScanError(.local, "OpenSSL could not create a client context")
    }
    var configured = vouch_ssl_ctx_configure_probe_client(context) == 1
    if let offer = defaultOffer {
      configured =
        configured && SSL_CTX_set_cipher_list(context, offer.cipherList) == 1
        && SSL_CTX_set_ciphersuites(context, offer.tls13Suites) == 1
        && vouch_ssl_ctx_set1_groups_list(context, offer.groups) == 1
    }
    guard configured, let method = vouch_probe_bio_method_new() else {
      SSL_CTX_free(context)
      throw TLSScanError(.local, "OpenSSL could not set up the probe client")
    }
    self.context = context
    bioMethod = method
    self.defaultOffer = defaultOffer
  }

  deinit {
    SSL_CTX_free(context)
    BIO_meth_free(bioMethod)
  }
}

/// A bare handshake: libcurl makes the TCP connection (`CURLOPT_CONNECT_ONLY` on an `http://` URL, with the same
/// resolve pinning, connect timeout and IPv6 handling as a transfer), then OpenSSL's client runs over it through a BIO
/// whose reads and writes are `curl_easy_recv` / `curl_easy_send`. Everything lives on the calling probe thread.
private enum HandshakeProbe {
  static func run(_ request: ProbeRequest, _ client: ProbeClient) -> ProbeOutcome {
    let deadline = vouch_monotonic_ms() + Int64(request.connectTimeout * 1000)
    guard let easy = curl_easy_init() else {
      return .failed(TLSScanError(.local, "libcurl could not create a handle"))
    }
    defer { curl_easy_cleanup(easy) }
    if let failure = connect(easy, request) { return failure }
    var socket: curl_socket_t = -1
    guard vouch_curl_getinfo_socket(easy, CURLINFO_ACTIVESOCKET, &socket) == CURLE_OK, socket >= 0 else {
      return .failed(TLSScanError(.local, "libcurl reported no socket for \(request.target.label)"))
    }

    var store: OpaquePointer?
    if case .inspect(let caBundle, _) = request.purpose {
      switch loadStore(caBundle) {
      case .success(let loaded): store = loaded
      case .failure(let error): return .failed(error)
      }
    }
    defer { X509_STORE_free(store) }

    let io = UnsafeMutablePointer<vouch_probe_io>.allocate(capacity: 1)
    io.initialize(to: vouch_probe_io())
    defer {
      free(io.pointee.buffer)
      io.deallocate()
    }
    guard let ssl = SSL_new(client.context) else {
      return .failed(TLSScanError(.local, "OpenSSL could not create a connection"))
    }
    // Freed before `io`, which its BIO points to.
    defer { SSL_free(ssl) }
    let offeredGroups = (request.groups ?? client.defaultOffer?.groups ?? "").split(separator: ":").compactMap {
      TLSGroup.named(openSSL: String($0)).map { UInt16($0.id) }
    }
    return offeredGroups.withUnsafeBufferPointer { groups in
      io.pointee.connection = easy
      io.pointee.receive = { vouch_curl_receive($0, $1, $2, $3) }
      io.pointee.send = { vouch_curl_send($0, $1, $2, $3) }
      io.pointee.socket = socket
      io.pointee.deadline = deadline
      io.pointee.groups = groups.baseAddress
      io.pointee.group_count = Int32(groups.count)
      switch request.stop {
      case .none: io.pointee.stop = Int32(VOUCH_STOP_NONE.rawValue)
      case .serverHello:
        io.pointee.stop = Int32(VOUCH_STOP_SERVER_HELLO.rawValue)
        io.pointee.ask_retry = request.askRetry ? 1 : 0
      case .keyExchange: io.pointee.stop = Int32(VOUCH_STOP_KEY_EXCHANGE.rawValue)
      case .serverFlight: io.pointee.stop = Int32(VOUCH_STOP_SERVER_FLIGHT.rawValue)
      }
      if let problem = configure(ssl, request, defaultOffer: client.defaultOffer, store: store) {
        return .failed(TLSScanError(.local, "OpenSSL refused a probe option: \(problem)"))
      }
      guard vouch_ssl_attach_probe(ssl, client.bioMethod, io) == 1 else {
        return .failed(TLSScanError(.local, "OpenSSL could not create a BIO"))
      }
      ERR_clear_error()
      defer { ERR_clear_error() }
      let completed = SSL_connect(ssl) == 1
      guard completed || io.pointee.stopped != 0 else {
        if io.pointee.timed_out != 0 {
          let limit = Int(request.connectTimeout * 1000)
          return .failed(
            TLSScanError(
              .timeout, "\(request.target.label) did not answer in time: no TLS handshake within \(limit) ms"))
        }
        return .rejected(failure(io.pointee.error, request.target))
      }
      var inspection: Inspection?
      if case .inspect = request.purpose { inspection = Inspection(ssl, checkedName: request.target.checkedName) }
      if completed { return .accepted(Negotiated(completed: ssl, inspection: inspection)) }
      return .accepted(Negotiated(stopped: ssl, io: io.pointee, inspection: inspection))
    }
  }

  /// Makes the TCP connection; how it failed, as libcurl reports it, or `nil` when it is open.
  private static func connect(_ easy: UnsafeMutableRawPointer, _ request: ProbeRequest) -> ProbeOutcome? {
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    defer {
      // libcurl would go on writing into it from `curl_easy_recv` / `curl_easy_send`.
      _ = vouch_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, nil)
      errorBuffer.deallocate()
    }
    let connection = setConnectionOptions(easy, request, scheme: "http", errorBuffer: errorBuffer)
    defer { curl_slist_free_all(connection.resolve) }
    var failed = connection.failed
    func check(_ code: CURLcode) {
      if code != CURLE_OK, failed == CURLE_OK { failed = code }
    }
    // A handle of its own, so a fresh connection; it stays open for the handshake until `curl_easy_cleanup` (no
    // CURLOPT_FORBID_REUSE, which would close it when `curl_easy_perform` returns).
    check(vouch_curl_setopt_long(easy, CURLOPT_CONNECT_ONLY, 1))
    guard failed == CURLE_OK else {
      return .failed(
        TLSScanError(.local, "libcurl refused a probe option: \(String(cString: curl_easy_strerror(failed)))"))
    }
    let code = curl_easy_perform(easy)
    guard code == CURLE_OK else {
      let detail = String(cString: errorBuffer)
      return curlFailure(code, detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail, request.target)
    }
    return nil
  }

  /// Puts the probe's offer on its `SSL` (lists equal to the default offer are already there); the problem when
  /// OpenSSL refuses part of it.
  private static func configure(
    _ ssl: OpaquePointer, _ request: ProbeRequest, defaultOffer: ProbeOffer?, store: OpaquePointer?
  ) -> String? {
    let version = request.version.map { Int32($0.rawValue) }
    guard vouch_ssl_set_versions(ssl, version ?? Int32(TLS1_VERSION), version ?? 0) == 1 else { return "version" }
    if let list = request.cipherList, list != defaultOffer?.cipherList, SSL_set_cipher_list(ssl, list) != 1 {
      return "cipher list \(list)"
    }
    if let list = request.tls13Suites, list != defaultOffer?.tls13Suites, SSL_set_ciphersuites(ssl, list) != 1 {
      return "TLS 1.3 suites \(list)"
    }
    if let list = request.groups, list != defaultOffer?.groups, vouch_ssl_set1_groups_list(ssl, list) != 1 {
      return "groups \(list)"
    }
    if let name = request.target.sniName, vouch_ssl_set_host_name(ssl, name) != 1 { return "server name \(name)" }
    if case .inspect(_, let verifyTime) = request.purpose, let store {
      guard vouch_ssl_set1_verify_cert_store(ssl, store) == 1 else { return "CA store" }
      // Validity is judged at the run's clock, not the machine's, like every other fact.
      X509_VERIFY_PARAM_set_time(SSL_get0_param(ssl), time_t(verifyTime.timeIntervalSince1970))
      guard vouch_ssl_status_type_ocsp(ssl) == 1 else { return "OCSP status request" }
    }
    return nil
  }

  /// OpenSSL's reason for a failed handshake, worded as libcurl words it (`OpenSSL/3.0.x: error:…`, or the socket
  /// error), so refusals read the same in every probe record.
  private static func failure(_ socketError: Int32, _ target: TLSTarget) -> String {
    let code = ERR_get_error()
    if code != 0 {
      var buffer = [CChar](repeating: 0, count: 256)
      ERR_error_string_n(code, &buffer, buffer.count)
      let reason = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      return "OpenSSL/\(String(cString: OpenSSL_version(OPENSSL_VERSION_STRING))): \(reason)"
    }
    let detail = socketError != 0 ? String(cString: strerror(socketError)) : "SSL_ERROR_SYSCALL"
    return "OpenSSL SSL_connect: \(detail) in connection to \(target.serverName ?? target.host):\(target.port)"
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
}

/// What both kinds of probe set on their handle: the error buffer, the URL with the resolve entry pinning an SNI name
/// to the host, no signals, the connect timeout. The first option libcurl refused (`CURLE_OK` when none), and the
/// resolve list, which the caller frees once the handle is gone.
private func setConnectionOptions(
  _ easy: UnsafeMutableRawPointer, _ request: ProbeRequest, scheme: String, errorBuffer: UnsafeMutablePointer<CChar>
) -> (failed: CURLcode, resolve: UnsafeMutablePointer<curl_slist>?) {
  let address = request.target.curlAddress(scheme: scheme)
  var failed = CURLE_OK
  func check(_ code: CURLcode) {
    if code != CURLE_OK, failed == CURLE_OK { failed = code }
  }
  var resolveList: UnsafeMutablePointer<curl_slist>?
  check(vouch_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
  check(vouch_curl_setopt_string(easy, CURLOPT_URL, address.url))
  if let resolve = address.resolve {
    resolveList = curl_slist_append(nil, resolve)
    check(vouch_curl_setopt_slist(easy, CURLOPT_RESOLVE, resolveList))
  }
  check(vouch_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
  check(vouch_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout * 1000)))
  return (failed, resolveList)
}

/// Separates "the server said no" from "the probe could not be made", for libcurl's errors.
private func curlFailure(_ code: CURLcode, _ message: String, _ target: TLSTarget) -> ProbeOutcome {
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

/// The HSTS request: an ordinary libcurl HTTPS transfer, whose `SSL_CTX` libcurl makes; one C state per request, on
/// one probe thread from `curl_easy_init` to `curl_easy_cleanup`.
private final class RequestProbe {
  let request: ProbeRequest
  var headers: [HTTPHeader] = []
  /// Filled by the info callback when the handshake completes, while the `SSL*` is still alive
  /// (`CURLINFO_TLS_SSL_PTR` is no longer available after `curl_easy_perform`).
  var completed: Negotiated?

  /// The `SSL_CTX` slot that leads the info callback back to its request.
  static let contextSlot = vouch_ssl_ctx_new_ex_index()

  private init(_ request: ProbeRequest) {
    self.request = request
  }

  static func run(_ request: ProbeRequest) -> ProbeOutcome {
    RequestProbe(request).perform()
  }

  private func perform() -> ProbeOutcome {
    guard case .request(let timeout) = request.purpose else {
      return .failed(TLSScanError(.local, "not an HTTPS request"))
    }
    // The error buffer and resolve list outlive the handle: libcurl may still write an error while cleaning up.
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    defer { errorBuffer.deallocate() }
    var resolveList: UnsafeMutablePointer<curl_slist>?
    defer { curl_slist_free_all(resolveList) }
    guard let easy = curl_easy_init() else {
      return .failed(TLSScanError(.local, "libcurl could not create a handle"))
    }
    defer { curl_easy_cleanup(easy) }

    let connection = setConnectionOptions(easy, request, scheme: "https", errorBuffer: errorBuffer)
    resolveList = connection.resolve
    var failed = connection.failed
    func check(_ code: CURLcode) {
      if code != CURLE_OK, failed == CURLE_OK { failed = code }
    }
    let me = Unmanaged.passUnretained(self).toOpaque()
    check(vouch_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(timeout * 1000)))
    check(vouch_curl_setopt_long(easy, CURLOPT_SSL_SESSIONID_CACHE, 0))
    check(vouch_curl_setopt_long(easy, CURLOPT_FRESH_CONNECT, 1))
    check(vouch_curl_setopt_long(easy, CURLOPT_FORBID_REUSE, 1))
    // Verification is the inspecting handshake's job; a bad certificate must not hide the header.
    check(vouch_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0))
    check(vouch_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0))
    // Loading the system bundle costs ~50 ms per handshake, and this request verifies nothing.
    check(vouch_curl_setopt_pointer(easy, CURLOPT_CAINFO, nil))
    check(vouch_curl_setopt_pointer(easy, CURLOPT_CAPATH, nil))
    check(vouch_curl_setopt_long(easy, CURLOPT_SSLVERSION, request.version?.curlPinned ?? 4))
    if let list = request.cipherList { check(vouch_curl_setopt_string(easy, CURLOPT_SSL_CIPHER_LIST, list)) }
    if let list = request.tls13Suites { check(vouch_curl_setopt_string(easy, CURLOPT_TLS13_CIPHERS, list)) }
    if let list = request.groups { check(vouch_curl_setopt_string(easy, CURLOPT_SSL_EC_CURVES, list)) }
    check(vouch_curl_setopt_ssl_ctx_callback(easy, requestContextCallback))
    check(vouch_curl_setopt_pointer(easy, CURLOPT_SSL_CTX_DATA, me))
    check(vouch_curl_setopt_string(easy, CURLOPT_USERAGENT, "vouch/\(VouchVersion.current)"))
    check(vouch_curl_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION, requestHeader))
    check(vouch_curl_setopt_pointer(easy, CURLOPT_HEADERDATA, me))
    check(vouch_curl_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, requestDiscard))
    guard failed == CURLE_OK else {
      return .failed(
        TLSScanError(.local, "libcurl refused a probe option: \(String(cString: curl_easy_strerror(failed)))"))
    }
    let code = curl_easy_perform(easy)
    let detail = String(cString: errorBuffer)
    let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    if code != CURLE_OK { return curlFailure(code, message, request.target) }
    guard var negotiated = completed else {
      return .failed(TLSScanError(.local, "libcurl reported a connection but OpenSSL reported no finished handshake"))
    }
    var status = 0
    vouch_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
    negotiated.status = status
    negotiated.headers = headers
    return .accepted(negotiated)
  }

  /// Called by OpenSSL on this thread; the first completed handshake is the one the request made.
  fileprivate func handshakeDone(_ ssl: OpaquePointer) {
    if completed == nil { completed = Negotiated(completed: ssl, inspection: nil) }
  }

  /// Called by libcurl once the `SSL_CTX` is configured, just before the handshake.
  fileprivate func configure(_ context: OpaquePointer) {
    // As for every probe: Debian's level 2 would refuse what the server may only offer at level 0.
    SSL_CTX_set_security_level(context, 0)
    SSL_CTX_set_ex_data(context, Self.contextSlot, Unmanaged.passUnretained(self).toOpaque())
    vouch_ssl_ctx_set_info_callback(context, requestInfoCallback)
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
}

private func requestContextCallback(
  _ curl: UnsafeMutableRawPointer?, _ context: UnsafeMutableRawPointer?, _ user: UnsafeMutableRawPointer?
) -> CURLcode {
  guard let context, let user else { return CURLE_OK }
  Unmanaged<RequestProbe>.fromOpaque(user).takeUnretainedValue().configure(OpaquePointer(context))
  return CURLE_OK
}

private func requestInfoCallback(_ ssl: OpaquePointer?, _ where: Int32, _ ret: Int32) {
  guard vouch_ssl_handshake_done(`where`) != 0, let ssl, let context = SSL_get_SSL_CTX(ssl),
    let probe = SSL_CTX_get_ex_data(context, RequestProbe.contextSlot)
  else { return }
  Unmanaged<RequestProbe>.fromOpaque(probe).takeUnretainedValue().handshakeDone(ssl)
}

private func requestHeader(
  _ pointer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
  guard let pointer, let context else { return 0 }
  let bytes = UnsafeRawBufferPointer(start: pointer, count: size * count)
  Unmanaged<RequestProbe>.fromOpaque(context).takeUnretainedValue().receiveHeader(
    String(decoding: bytes, as: UTF8.self))
  return size * count
}

/// The body of the HSTS request is not evidence; only its headers are.
private func requestDiscard(
  _ pointer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
  size * count
}
