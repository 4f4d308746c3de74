import Foundation

/// Fetches one URL and records the exchange: status, headers, redirect chain, TLS outcome and the body's digest.
public struct HTTPCollector: Collector {
  public static let kind = "http"
  public static let summary =
    "Fetches a URL (following redirects) and records status, headers, body digest and timings."

  static let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]
  /// Bytes of the final body exposed as `body_text`.
  static let bodyTextLimit = 64 << 10
  /// Request headers whose values are credentials, whatever the secrets list says.
  static let credentialHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie"]

  static let requestArtifact = "request.txt"
  static let headersArtifact = "response-headers.txt"
  static let bodyArtifact = "response-body"

  public static let parameters: [ParameterSpec] = [
    ParameterSpec("url", .string, required: true, "The http:// or https:// URL to fetch."),
    ParameterSpec("method", .string, default: "GET", "One of \(methods.joined(separator: ", "))."),
    ParameterSpec("headers", .stringMap, "Request headers; use ${env.NAME} for tokens so they are redacted."),
    ParameterSpec("body", .string, "Request body, sent as is."),
    ParameterSpec("follow_redirects", .integer, default: "5", "Redirects to follow; 0 records the first response."),
    ParameterSpec("timeout", .duration, default: "30s", "Limit for each request; every redirect hop gets its own."),
    ParameterSpec(
      "connect_timeout", .duration, default: "10s", "Limit for establishing each connection (TCP and TLS)."),
    ParameterSpec("ca_bundle", .string, "PEM file of CAs to trust instead of the system store (private CAs)."),
    ParameterSpec(
      "body_limit", .integer, default: "1048576", "Body bytes stored in the bundle; the digest covers all."),
    ParameterSpec("max_download", .integer, default: "67108864", "Stop downloading after this many body bytes."),
  ]

  public static let facts: [FactSpec] = [
    FactSpec("status", .integer, "Status code of the final response.", evidence: [headersArtifact]),
    FactSpec("http_version", .string, "HTTP/1.1, HTTP/2… of the final response.", evidence: [headersArtifact]),
    FactSpec(
      "headers", .stringMap, "Final response headers, names lowercased, repeats joined with \", \".",
      evidence: [headersArtifact]),
    FactSpec("final_url", .string, "The URL that produced the final response.", evidence: [headersArtifact]),
    FactSpec("redirect_count", .integer, "Redirects followed.", evidence: [headersArtifact]),
    FactSpec(
      "redirect_chain", .stringList, "Every URL visited in order, first and final included.",
      evidence: [headersArtifact]),
    FactSpec(
      "content_type", .string, "Content-Type of the final response, empty if absent.", evidence: [headersArtifact]),
    FactSpec("body_size", .integer, "Body bytes received, stored or not.", evidence: [bodyArtifact]),
    FactSpec("body_sha256", .string, "SHA-256 of every body byte received.", evidence: [bodyArtifact]),
    FactSpec(
      "body_truncated", .boolean, "The stored body is a prefix (longer than body_limit).", evidence: [bodyArtifact]),
    FactSpec(
      "body_complete", .boolean, "The whole body arrived (false when max_download stopped it).",
      evidence: [bodyArtifact]),
    FactSpec(
      "body_text", .string, "The first 64 KiB of the body as UTF-8, for contains/matches.", evidence: [bodyArtifact]),
    FactSpec(
      "timings", .map,
      "Integer milliseconds from the start of the final request: dns_ms, connect_ms, tls_ms (0 without TLS), "
        + "first_byte_ms, total_ms."),
    FactSpec("remote_address", .string, "IP address that answered the final request."),
  ]

  let url: String
  let method: String
  let headers: [HTTPHeader]
  let body: String?
  let followRedirects: Int
  let timeout: Double
  let connectTimeout: Double
  let caBundle: String?
  let bodyLimit: Int
  let maxDownload: Int

  public init(parameters: Parameters) throws(ParameterError) {
    url = try parameters.requiredString("url")
    guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
    else { throw ParameterError("url", "'\(url)' is not an http:// or https:// URL with a host") }
    method = (parameters.string("method") ?? "GET").uppercased()
    guard Self.methods.contains(method) else {
      throw ParameterError("method", "'\(method)' is not one of \(Self.methods.joined(separator: ", "))")
    }
    headers = (parameters.stringMap("headers") ?? [:]).sorted { $0.key < $1.key }.map { HTTPHeader($0.key, $0.value) }
    if let bad = headers.first(where: { $0.name.isEmpty || $0.name.contains(where: { ": \r\n".contains($0) }) }) {
      throw ParameterError("headers", "'\(bad.name)' is not a valid header name")
    }
    if let bad = headers.first(where: { $0.value.contains(where: { "\r\n".contains($0) }) }) {
      throw ParameterError("headers", "the value of '\(bad.name)' contains a line break")
    }
    body = parameters.string("body")
    followRedirects = parameters.integer("follow_redirects") ?? 5
    guard followRedirects >= 0 else { throw ParameterError("follow_redirects", "must be 0 or more") }
    timeout = parameters.duration("timeout") ?? 30
    connectTimeout = parameters.duration("connect_timeout") ?? 10
    guard timeout > 0 else { throw ParameterError("timeout", "must be longer than 0s") }
    guard connectTimeout > 0 else { throw ParameterError("connect_timeout", "must be longer than 0s") }
    caBundle = parameters.string("ca_bundle")
    bodyLimit = parameters.integer("body_limit") ?? 1 << 20
    guard bodyLimit >= 0 else { throw ParameterError("body_limit", "must be 0 or more bytes") }
    maxDownload = parameters.integer("max_download") ?? 64 << 20
    guard maxDownload > 0 else { throw ParameterError("max_download", "must be more than 0 bytes") }
  }

  public func collect(_ context: CollectionContext) async throws -> CollectorOutput {
    let artifacts = context.artifacts
    let redactor = context.redactor
    let bodyURL = try artifacts.url(for: Self.bodyArtifact)
    var request = HTTPRequest(url: url)
    request.method = method
    request.headers = headers
    request.body = body.map { Data($0.utf8) }
    request.timeout = timeout
    request.connectTimeout = connectTimeout
    request.caBundle = caBundle.map { URL(fileURLWithPath: $0, relativeTo: context.baseDirectory).path }
    request.memoryLimit = Self.bodyTextLimit
    request.bodyFile = bodyURL
    request.storeLimit = bodyLimit
    request.maxDownload = maxDownload

    try artifacts.write(
      Self.requestArtifact, data: Data(redactor.redact(requestText()).utf8), mediaType: "text/plain",
      summary: "Request line and headers, credentials redacted")

    var hops: [HTTPResponse] = []
    let result: FetchResult
    do throws(HTTPError) {
      result = try await context.http.fetch(request, maxRedirects: followRedirects) { hops.append($0) }
    } catch {
      try? FileManager.default.removeItem(at: bodyURL)
      if !hops.isEmpty { try writeHeaders(hops, context) }
      throw HTTPError(error.kind, url: redactor.redact(error.url), redactor.redact(error.message))
    }
    try writeHeaders(result.hops, context)
    let final = result.final
    let bodyRecord = try storeBody(final, at: bodyURL, context)
    context.logger.debug("fetched", metadata: ["status": "\(final.status)", "hops": "\(result.hops.count)"])

    let text = redactor.redact(String(decoding: final.body.prefix(Self.bodyTextLimit), as: UTF8.self))
    let timings = final.timings
    func milliseconds(_ seconds: Double) -> FactValue { .integer(Int((seconds * 1000).rounded())) }
    let facts: [String: FactValue] = [
      "status": .integer(final.status),
      "http_version": .string(redactor.redact(final.httpVersion)),
      "headers": .map(Self.headerMap(final.headers).mapValues { .string(redactor.redact($0)) }),
      "final_url": .string(redactor.redact(final.url)),
      "redirect_count": .integer(result.redirectCount),
      "redirect_chain": .list(result.urls.map { .string(redactor.redact($0)) }),
      "content_type": .string(redactor.redact(final.header("Content-Type") ?? "")),
      "body_size": .integer(final.bodySize),
      "body_sha256": .string(final.bodySHA256),
      "body_truncated": .boolean(bodyRecord.truncated),
      "body_complete": .boolean(final.complete),
      "body_text": .string(text),
      "timings": .map([
        "dns_ms": milliseconds(timings.nameLookup), "connect_ms": milliseconds(timings.connect),
        "tls_ms": milliseconds(timings.tlsHandshake), "first_byte_ms": milliseconds(timings.firstByte),
        "total_ms": milliseconds(timings.total),
      ]),
      "remote_address": .string(redactor.redact(final.remoteAddress ?? "")),
    ]
    var evidence: [String: [String]] = [:]
    for spec in Self.facts where !spec.evidence.isEmpty {
      evidence[spec.name] = spec.evidence.map(artifacts.bundlePath(of:))
    }
    return CollectorOutput(facts: facts, evidence: evidence)
  }

  // MARK: Artifacts

  private func requestText() -> String {
    var lines = ["\(method) \(url)"]
    for header in headers {
      let value = Self.credentialHeaders.contains(header.name.lowercased()) ? Redactor.placeholder : header.value
      lines.append("\(header.name): \(value)")
    }
    if let body { lines.append("\n[body: \(body.utf8.count) bytes]") }
    return lines.joined(separator: "\n") + "\n"
  }

  private func writeHeaders(_ hops: [HTTPResponse], _ context: CollectionContext) throws {
    let blocks = hops.map { hop in
      var lines = ["# \(hop.url)", "\(hop.httpVersion) \(hop.status)\(hop.reason.isEmpty ? "" : " \(hop.reason)")"]
      for header in hop.headers {
        let value = header.name.lowercased() == "set-cookie" ? Self.redactCookie(header.value) : header.value
        lines.append("\(header.name): \(value)")
      }
      return lines.joined(separator: "\n") + "\n"
    }
    try context.artifacts.write(
      Self.headersArtifact, data: Data(context.redactor.redact(blocks.joined(separator: "\n")).utf8),
      mediaType: "text/plain", summary: "Status line and headers of every response, redirects first")
  }

  /// Records the streamed body; a text body that contains a secret is rewritten with the secret redacted.
  private func storeBody(_ response: HTTPResponse, at url: URL, _ context: CollectionContext) throws -> ArtifactRecord {
    var digest = response.storedSHA256
    var size = response.storedSize
    if let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) {
      let redacted = context.redactor.redact(text)
      if redacted != text {
        let bytes = Data(redacted.utf8)
        do {
          try bytes.write(to: url)
        } catch {
          throw ArtifactError("cannot rewrite \(url.path) with secrets redacted: \(error.localizedDescription)")
        }
        digest = Digest.sha256(bytes)
        size = bytes.count
      }
    }
    let contentType = response.header("Content-Type") ?? "application/octet-stream"
    let summary =
      response.truncated
      ? "First \(response.storedSize) of \(response.bodySize) body bytes of \(context.redactor.redact(response.url))"
      : "Body of \(context.redactor.redact(response.url))"
    return context.artifacts.adopt(
      Self.bodyArtifact, sha256: digest, size: size, mediaType: context.redactor.redact(contentType),
      summary: summary, truncated: response.truncated)
  }

  // MARK: Helpers

  static func headerMap(_ headers: [HTTPHeader]) -> [String: String] {
    var map: [String: String] = [:]
    for header in headers {
      let name = header.name.lowercased()
      let value = name == "set-cookie" ? redactCookie(header.value) : header.value
      map[name] = map[name].map { "\($0), \(value)" } ?? value
    }
    return map
  }

  /// Keeps a cookie's name and attributes (`Secure`, `HttpOnly`… are evidence) but not its value.
  static func redactCookie(_ value: String) -> String {
    var parts = value.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
    guard let first = parts.first else { return Redactor.placeholder }
    if let equals = first.firstIndex(of: "=") {
      parts[0] = "\(first[...equals])\(Redactor.placeholder)"
    } else {
      parts[0] = Redactor.placeholder
    }
    return parts.joined(separator: ";")
  }
}
