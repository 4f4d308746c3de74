import CCurl
import Crypto
import Foundation

/// One easy handle and everything its callbacks write into; lives and dies on the transfer thread.
final class Transfer {
  let job: TransferJob
  let easy: UnsafeMutableRawPointer
  private let errorBuffer: UnsafeMutablePointer<CChar>
  private var headerList: UnsafeMutablePointer<curl_slist>?
  private var bodyDescriptor: Int32 = -1

  private var statusLine = ""
  private var headers: [HTTPHeader] = []
  private var memory = Data()
  private var received = 0
  private var stored = 0
  private var receivedHash = SHA256()
  private var storedHash = SHA256()
  private var reachedDownloadLimit = false
  private var writeFailure: String?

  private init(job: TransferJob, easy: UnsafeMutableRawPointer) {
    self.job = job
    self.easy = easy
    errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
    errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
  }

  deinit {
    curl_easy_cleanup(easy)
    curl_slist_free_all(headerList)
    closeBodyFile()
    errorBuffer.deallocate()
  }

  /// A configured transfer ready to be added to the multi handle, or why it cannot start.
  static func make(_ job: TransferJob) -> Result<Transfer, HTTPError> {
    guard let easy = curl_easy_init() else {
      return .failure(HTTPError(.other, url: job.request.url, "libcurl could not create a transfer handle"))
    }
    let transfer = Transfer(job: job, easy: easy)
    if let error = transfer.configure() { return .failure(error) }
    return .success(transfer)
  }

  private func configure() -> HTTPError? {
    let request = job.request
    var failed: CURLcode = CURLE_OK
    func check(_ code: CURLcode) {
      if code != CURLE_OK, failed == CURLE_OK { failed = code }
    }
    let me = Unmanaged.passUnretained(self).toOpaque()
    check(vouch_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
    check(vouch_curl_setopt_string(easy, CURLOPT_URL, request.url))
    check(vouch_curl_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
    check(vouch_curl_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
    check(vouch_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0))
    check(vouch_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
    check(vouch_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout)))
    check(vouch_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout)))
    check(vouch_curl_setopt_string(easy, CURLOPT_USERAGENT, "vouch/\(VouchVersion.current)"))
    if let caBundle = request.caBundle {
      check(vouch_curl_setopt_string(easy, CURLOPT_CAINFO, caBundle))
    }
    for header in request.headers {
      headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
    }
    if let headerList {
      check(vouch_curl_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList))
    }
    check(vouch_curl_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, transferWrite))
    check(vouch_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, me))
    check(vouch_curl_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION, transferHeader))
    check(vouch_curl_setopt_pointer(easy, CURLOPT_HEADERDATA, me))
    configureMethod(request, check: check)
    if failed != CURLE_OK {
      return HTTPError(.other, url: request.url, "libcurl rejected an option: \(Self.describe(failed))")
    }
    if let bodyFile = request.bodyFile {
      bodyDescriptor = open(bodyFile.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
      if bodyDescriptor < 0 {
        return HTTPError(
          .other, url: request.url, "cannot create \(bodyFile.path) for the response body: \(Self.errnoText())")
      }
    }
    return nil
  }

  private func configureMethod(_ request: HTTPRequest, check: (CURLcode) -> Void) {
    let method = request.method.uppercased()
    if let body = request.body {
      check(vouch_curl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
      // COPYPOSTFIELDS copies, so the bytes need not outlive this call.
      if body.isEmpty {
        check(vouch_curl_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, ""))
      } else {
        body.withUnsafeBytes { bytes in
          if let start = bytes.baseAddress {
            check(vouch_curl_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: start)))
          }
        }
      }
      if method != "POST" { check(vouch_curl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)) }
      return
    }
    switch method {
    case "GET": check(vouch_curl_setopt_long(easy, CURLOPT_HTTPGET, 1))
    case "HEAD": check(vouch_curl_setopt_long(easy, CURLOPT_NOBODY, 1))
    case "POST":
      check(vouch_curl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, 0))
      check(vouch_curl_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, ""))
    default: check(vouch_curl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method))
    }
  }

  // MARK: Callbacks

  fileprivate func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
    let request = job.request
    var chunk = bytes
    if received + chunk.count > request.maxDownload {
      chunk = UnsafeRawBufferPointer(rebasing: chunk.prefix(max(0, request.maxDownload - received)))
      reachedDownloadLimit = true
    }
    receivedHash.update(bufferPointer: chunk)
    received += chunk.count
    if memory.count < request.memoryLimit {
      memory.append(contentsOf: chunk.prefix(request.memoryLimit - memory.count))
    }
    if bodyDescriptor >= 0, stored < request.storeLimit {
      let part = UnsafeRawBufferPointer(rebasing: chunk.prefix(request.storeLimit - stored))
      guard writeAll(bodyDescriptor, part) else {
        writeFailure = "cannot write the response body to \(request.bodyFile?.path ?? "?"): \(Self.errnoText())"
        return 0
      }
      storedHash.update(bufferPointer: part)
      stored += part.count
    }
    // A short count makes libcurl stop with CURLE_WRITE_ERROR, which `complete` treats as a clean stop.
    return reachedDownloadLimit ? 0 : bytes.count
  }

  fileprivate func receiveHeader(_ bytes: UnsafeRawBufferPointer) -> Int {
    let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .newlines)
    if line.hasPrefix("HTTP/") {
      // Each status line starts a new response (100 Continue, proxies); only the last one counts.
      statusLine = line
      headers = []
    } else if line.first == " " || line.first == "\t", let last = headers.popLast() {
      headers.append(HTTPHeader(last.name, last.value + " " + line.trimmingCharacters(in: .whitespaces)))
    } else if let colon = line.firstIndex(of: ":") {
      let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
      let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
      headers.append(HTTPHeader(name, value))
    }
    return bytes.count
  }

  // MARK: Completion

  /// The outcome once libcurl reports the transfer done.
  func complete(_ code: CURLcode) -> Result<HTTPResponse, HTTPError> {
    closeBodyFile()
    let request = job.request
    if let writeFailure { return .failure(HTTPError(.other, url: request.url, writeFailure)) }
    guard code == CURLE_OK || (code == CURLE_WRITE_ERROR && reachedDownloadLimit) else {
      let detail = String(cString: errorBuffer)
      return .failure(CurlErrors.error(for: code, detail: detail, url: request.url, request: request))
    }
    var status = 0
    vouch_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
    var version = 0
    vouch_curl_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
    var address: UnsafeMutablePointer<CChar>?
    vouch_curl_getinfo_string(easy, CURLINFO_PRIMARY_IP, &address)
    let receivedDigest = Digest.hex(receivedHash.finalize())
    var response = HTTPResponse(
      url: request.url, status: status, httpVersion: Self.versionName(version, statusLine: statusLine),
      headers: headers, body: memory, bodySize: received, bodySHA256: receivedDigest, storedSize: stored,
      storedSHA256: Digest.hex(storedHash.finalize()), truncated: received > request.storeLimit,
      complete: !reachedDownloadLimit, timings: timings(), remoteAddress: address.map { String(cString: $0) },
      tlsVersion: nil)
    let parts = statusLine.split(separator: " ", maxSplits: 2)
    response.reason = parts.count == 3 ? String(parts[2]) : ""
    return .success(response)
  }

  private func timings() -> HTTPTimings {
    func seconds(_ info: CURLINFO) -> Double {
      var microseconds: curl_off_t = 0
      vouch_curl_getinfo_off(easy, info, &microseconds)
      return Double(microseconds) / 1_000_000
    }
    return HTTPTimings(
      nameLookup: seconds(CURLINFO_NAMELOOKUP_TIME_T), connect: seconds(CURLINFO_CONNECT_TIME_T),
      tlsHandshake: seconds(CURLINFO_APPCONNECT_TIME_T), firstByte: seconds(CURLINFO_STARTTRANSFER_TIME_T),
      total: seconds(CURLINFO_TOTAL_TIME_T))
  }

  private func closeBodyFile() {
    if bodyDescriptor >= 0 {
      close(bodyDescriptor)
      bodyDescriptor = -1
    }
  }

  // MARK: Helpers

  private static func versionName(_ version: Int, statusLine: String) -> String {
    switch version {
    case Int(CURL_HTTP_VERSION_1_0): return "HTTP/1.0"
    case Int(CURL_HTTP_VERSION_1_1): return "HTTP/1.1"
    case Int(CURL_HTTP_VERSION_2_0): return "HTTP/2"
    case Int(CURL_HTTP_VERSION_3): return "HTTP/3"
    default: return statusLine.split(separator: " ").first.map(String.init) ?? ""
    }
  }

  private static func milliseconds(_ seconds: Double) -> Int {
    max(1, Int((seconds * 1000).rounded(.up)))
  }

  static func describe(_ code: CURLcode) -> String {
    String(cString: curl_easy_strerror(code))
  }

  private static func errnoText() -> String {
    String(cString: strerror(errno))
  }
}

private func transferWrite(
  _ pointer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
  guard let context else { return 0 }
  let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
  return transfer.receiveBody(UnsafeRawBufferPointer(start: pointer, count: size * count))
}

private func transferHeader(
  _ pointer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
  guard let context else { return 0 }
  let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
  return transfer.receiveHeader(UnsafeRawBufferPointer(start: pointer, count: size * count))
}

/// Turns libcurl result codes into errors a person can act on.
enum CurlErrors {
  static func error(for code: CURLcode, detail: String, url: String, request: HTTPRequest) -> HTTPError {
    let text = detail.isEmpty ? Transfer.describe(code) : detail
    switch code {
    case CURLE_OPERATION_TIMEDOUT:
      return HTTPError(
        .timeout, url: url,
        "timed out: \(text) (limits: timeout \(request.timeout)s, connect_timeout \(request.connectTimeout)s)")
    case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
      return HTTPError(.connection, url: url, "cannot resolve the host name: \(text) (check the URL and DNS)")
    case CURLE_COULDNT_CONNECT:
      return HTTPError(
        .connection, url: url, "cannot connect: \(text) (is the server running and reachable on that port?)")
    case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM,
      CURLE_WEIRD_SERVER_REPLY:
      return HTTPError(.connection, url: url, "the connection failed: \(text)")
    case CURLE_PEER_FAILED_VERIFICATION:
      let hint =
        request.caBundle == nil
        ? "set ca_bundle to trust a private CA" : "check that ca_bundle holds the CA that signed it"
      return HTTPError(.tls, url: url, "TLS certificate verification failed: \(text) (\(hint))")
    case CURLE_SSL_CACERT_BADFILE:
      return HTTPError(
        .tls, url: url, "cannot use ca_bundle \(request.caBundle ?? ""): \(text) (it must be a readable PEM file)")
    case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND,
      CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE,
      CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT,
      CURLE_USE_SSL_FAILED:
      return HTTPError(.tls, url: url, "TLS handshake failed: \(text)")
    case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
      return HTTPError(.invalidURL, url: url, "invalid URL: \(text) (only http:// and https:// URLs are supported)")
    case CURLE_ABORTED_BY_CALLBACK:
      return HTTPError(.cancelled, url: url, "the transfer was aborted: \(text)")
    default:
      return HTTPError(.other, url: url, "the transfer failed: \(text) (curl error \(code.rawValue))")
    }
  }
}
