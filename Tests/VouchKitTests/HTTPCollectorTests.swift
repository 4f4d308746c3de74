import Foundation
import Testing

@testable import VouchKit

@Suite struct HTTPCollectorTests {
  private func collector(_ values: [String: ParameterValue]) throws -> HTTPCollector {
    try HTTPCollector(parameters: Parameters(values))
  }

  private func string(_ facts: [String: FactValue], _ name: String) -> String? {
    if case .string(let value)? = facts[name] { return value }
    return nil
  }

  @Test func okResponseGivesFactsAndArtifactsMatchingTheirDigests() async throws {
    let body = "hello from vouch\n"
    let nginx = try await NginxServer.start([
      .http(
        "site",
        [
          .text(
            "= /hello", body: body, contentType: "text/plain; charset=utf-8",
            headers: [("X-Multi", "one"), ("X-Multi", "two"), ("Strict-Transport-Security", "max-age=63072000")])
        ])
    ])
    defer { nginx.stop() }
    let harness = try CollectorHarness()
    let url = nginx.url("site", "/hello")
    let output = try await collector(["url": .string(url)]).collect(harness.context)
    let facts = output.facts

    #expect(facts["status"] == .integer(200))
    #expect(facts["http_version"] == .string("HTTP/1.1"))
    #expect(facts["content_type"] == .string("text/plain; charset=utf-8"))
    #expect(facts["body_text"] == .string(body))
    #expect(facts["body_size"] == .integer(body.utf8.count))
    #expect(facts["body_sha256"] == .string(Digest.sha256(body)))
    #expect(facts["body_truncated"] == .boolean(false))
    #expect(facts["body_complete"] == .boolean(true))
    #expect(facts["final_url"] == .string(url))
    #expect(facts["redirect_count"] == .integer(0))
    #expect(facts["redirect_chain"] == .list([.string(url)]))
    #expect(facts["remote_address"] == .string("127.0.0.1"))
    #expect(facts["headers"]?.value(at: ["x-multi"]) == .string("one, two"))
    #expect(facts["headers"]?.value(at: ["strict-transport-security"]) == .string("max-age=63072000"))
    for key in ["dns_ms", "connect_ms", "tls_ms", "first_byte_ms", "total_ms"] {
      #expect(facts["timings"]?.value(at: [key])?.numeric != nil, "timings.\(key)")
    }
    #expect(Set(facts.keys) == Set(HTTPCollector.facts.map(\.name)))

    let bodyFile = harness.file("response-body")
    #expect(try Data(contentsOf: bodyFile) == Data(body.utf8))
    for record in harness.artifacts.records {
      let name = String(record.path.dropFirst("controls/\(CollectorHarness.controlID)/".count))
      let onDisk = try Digest.sha256(fileAt: harness.file(name))
      #expect(onDisk.digest == record.sha256, "\(record.path)")
      #expect(onDisk.size == record.size, "\(record.path)")
    }
    #expect(
      Set(harness.artifacts.records.map(\.path))
        == Set(["request.txt", "response-headers.txt", "response-body"].map(harness.artifacts.bundlePath(of:))))
    #expect(output.evidence["body_sha256"] == [harness.artifacts.bundlePath(of: "response-body")])
    #expect(output.evidence["status"] == [harness.artifacts.bundlePath(of: "response-headers.txt")])
    for spec in HTTPCollector.facts {
      #expect(
        (output.evidence[spec.name] ?? []) == spec.evidence.map(harness.artifacts.bundlePath(of:)), "\(spec.name)")
    }
    let headers = try harness.text("response-headers.txt")
    #expect(headers.contains("HTTP/1.1 200 OK"))
    #expect(try harness.text("request.txt").hasPrefix("GET \(url)\n"))
  }

  @Test func followsRelativeAndAbsoluteRedirectsRecordingEveryHop() async throws {
    let nginx = try await NginxServer.start([
      .http(
        "site",
        [
          .redirect("= /start", status: 301, to: "/dir/next"),
          .redirect("= /dir/next", status: 302, to: "last"),
          .redirect("= /dir/last", status: 307, to: "{url:site}/final"),
          .text("= /final", body: "arrived"),
        ])
    ])
    defer { nginx.stop() }
    let harness = try CollectorHarness()
    let output = try await collector(["url": .string(nginx.url("site", "/start"))]).collect(harness.context)
    let chain = ["/start", "/dir/next", "/dir/last", "/final"].map { FactValue.string(nginx.url("site", $0)) }
    #expect(output.facts["redirect_chain"] == .list(chain))
    #expect(output.facts["redirect_count"] == .integer(3))
    #expect(output.facts["final_url"] == .string(nginx.url("site", "/final")))
    #expect(output.facts["status"] == .integer(200))
    #expect(output.facts["body_text"] == .string("arrived"))
    #expect(try harness.text("response-body") == "arrived")
    let headers = try harness.text("response-headers.txt")
    let blocks = headers.components(separatedBy: "\n\n")
    #expect(blocks.count == 4)
    #expect(blocks[0].contains("HTTP/1.1 301 Moved Permanently") && blocks[0].contains("Location: /dir/next"))
    #expect(blocks[1].contains("HTTP/1.1 302") && blocks[1].contains("Location: last"))
    #expect(blocks[2].contains("HTTP/1.1 307"))
    #expect(blocks[3].contains("HTTP/1.1 200 OK"))

    let unfollowed = try CollectorHarness()
    let first = try await collector(["url": .string(nginx.url("site", "/start")), "follow_redirects": .integer(0)])
      .collect(unfollowed.context)
    #expect(first.facts["status"] == .integer(301))
    #expect(first.facts["redirect_count"] == .integer(0))

    let limited = try CollectorHarness()
    await #expect {
      _ = try await collector(["url": .string(nginx.url("site", "/start")), "follow_redirects": .integer(2)])
        .collect(limited.context)
    } throws: { error in
      (error as? HTTPError)?.kind == .tooManyRedirects && "\(error)".contains("more than 2 redirects")
    }
  }

  @Test func redirectLoopFailsNamingTheLoop() async throws {
    let nginx = try await NginxServer.start([
      .http("site", [.redirect("= /a", to: "/b"), .redirect("= /b", status: 302, to: "/a")])
    ])
    defer { nginx.stop() }
    let harness = try CollectorHarness()
    let a = nginx.url("site", "/a")
    let b = nginx.url("site", "/b")
    let error = await #expect(throws: HTTPError.self) {
      _ = try await collector(["url": .string(a)]).collect(harness.context)
    }
    #expect(error?.kind == .redirectLoop)
    #expect(error?.message == "redirect loop: \(a) → \(b) → \(a)")
    // What was received before the failure is still evidence.
    let headers = try harness.text("response-headers.txt")
    #expect(headers.components(separatedBy: "\n\n").count == 2)
    #expect(!FileManager.default.fileExists(atPath: harness.file("response-body").path))
  }

  @Test func notFoundIsAFactNotAnError() async throws {
    let nginx = try await NginxServer.start([.http("site", [.text("= /", body: "root")])])
    defer { nginx.stop() }
    let harness = try CollectorHarness()
    let output = try await collector(["url": .string(nginx.url("site", "/missing"))]).collect(harness.context)
    #expect(output.facts["status"] == .integer(404))
    #expect(string(output.facts, "body_text")?.contains("404 Not Found") == true)
    #expect(try harness.text("response-headers.txt").contains("404 Not Found"))
  }

  @Test func silentServerTimesOutWithinTheConfiguredTimeout() async throws {
    let server = try SilentServer()
    let harness = try CollectorHarness()
    let started = ContinuousClock.now
    let error = await #expect(throws: HTTPError.self) {
      _ = try await collector(["url": .string(server.url), "timeout": .duration(1)]).collect(harness.context)
    }
    let elapsed = ContinuousClock.now - started
    #expect(error?.kind == .timeout)
    #expect(error?.message.contains("timed out") == true)
    // The silent server never answers: only the 1 s timeout can end the request (generous bound for loaded CI).
    #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(15), "took \(elapsed)")
  }

  @Test func bodyOverTheCapIsStoredAsAPrefixAndHashedWhole() async throws {
    let directory = try TestScratch.makeDirectory("big")
    let big = directory.appendingPathComponent("big.bin")
    let size = 48 << 20
    let chunk = Data((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255) })
    #expect(FileManager.default.createFile(atPath: big.path, contents: nil))
    let handle = try FileHandle(forWritingTo: big)
    for _ in 0..<(size >> 20) { try handle.write(contentsOf: chunk) }
    try handle.close()
    let nginx = try await NginxServer.start([.http("site", [.files("/files/", directory: directory)])])
    defer { nginx.stop() }

    let peakBefore = try Self.peakResidentBytes()
    let harness = try CollectorHarness()
    let limit = 1 << 20
    let output = try await collector([
      "url": .string(nginx.url("site", "/files/big.bin")), "body_limit": .integer(limit),
    ])
    .collect(harness.context)
    let peakGrowth = try Self.peakResidentBytes() - peakBefore

    #expect(output.facts["body_size"] == .integer(size))
    #expect(output.facts["body_sha256"] == .string(try Digest.sha256(fileAt: big).digest))
    #expect(output.facts["body_truncated"] == .boolean(true))
    #expect(output.facts["body_complete"] == .boolean(true))
    let stored = try Data(contentsOf: harness.file("response-body"))
    #expect(stored == chunk.prefix(limit))
    let record = try #require(harness.artifacts.records.first { $0.path.hasSuffix("response-body") })
    #expect(record.truncated && record.size == limit && record.sha256 == Digest.sha256(chunk.prefix(limit)))
    #expect(peakGrowth < 32 << 20, "peak memory grew by \(peakGrowth) bytes for a \(size)-byte body")

    let capped = try CollectorHarness()
    let partial = try await collector([
      "url": .string(nginx.url("site", "/files/big.bin")), "max_download": .integer(5 << 20),
    ]).collect(capped.context)
    #expect(partial.facts["body_complete"] == .boolean(false))
    #expect(partial.facts["body_size"] == .integer(5 << 20))
    let firstFive = Data((0..<5).flatMap { _ in chunk })
    #expect(partial.facts["body_sha256"] == .string(Digest.sha256(firstFive)))
  }

  @Test func selfSignedCertificateFailsVerificationUnlessTrusted() async throws {
    let certificates = try TestCertificates.shared()
    let nginx = try await NginxServer.start([.https("tls", certificates.selfSigned, [.text("= /", body: "secure")])])
    defer { nginx.stop() }
    let url = nginx.url("tls", "/")
    let error = await #expect(throws: HTTPError.self) {
      _ = try await collector(["url": .string(url)]).collect(try CollectorHarness().context)
    }
    #expect(error?.kind == .tls)
    #expect(error?.message.contains("verification failed") == true)
    #expect(error?.message.contains("ca_bundle") == true)

    let trusted = try await collector([
      "url": .string(url), "ca_bundle": .string(certificates.selfSignedCertificate.path),
    ]).collect(try CollectorHarness().context)
    #expect(trusted.facts["body_text"] == .string("secure"))
  }

  @Test func certificateSignedByAPrivateCAIsTrustedThroughCABundle() async throws {
    let certificates = try TestCertificates.shared()
    let nginx = try await NginxServer.start([
      .https("tls", certificates.caSigned, [.text("= /", body: "private ca")]),
      .http("plain", [.redirect("= /", to: "{url:tls}/")]),
    ])
    defer { nginx.stop() }
    let output = try await collector([
      "url": .string(nginx.url("plain", "/")), "ca_bundle": .string(certificates.caCertificate.path),
    ]).collect(try CollectorHarness().context)
    #expect(output.facts["status"] == .integer(200))
    #expect(output.facts["final_url"] == .string(nginx.url("tls", "/")))
    #expect(output.facts["body_text"] == .string("private ca"))

    let error = await #expect(throws: HTTPError.self) {
      _ = try await collector(["url": .string(nginx.url("tls", "/"))]).collect(try CollectorHarness().context)
    }
    #expect(error?.kind == .tls)

    let missing = await #expect(throws: HTTPError.self) {
      _ = try await collector(["url": .string(nginx.url("tls", "/")), "ca_bundle": .string("no-such-ca.pem")])
        .collect(try CollectorHarness().context)
    }
    #expect(missing?.kind == .tls)
    #expect(missing?.message.contains("cannot use ca_bundle") == true)
  }

  @Test func secretsNeverReachArtifactsOrFacts() async throws {
    let secret = "tok-9f8e7d6c5b4a"
    let nginx = try await NginxServer.start([
      .http(
        "site",
        [
          NginxServer.Location(
            "= /echo",
            [
              "default_type text/plain", "add_header X-Echo $http_x_api_key always",
              "return 200 \"key=$http_x_api_key args=$args\"",
            ])
        ])
    ])
    defer { nginx.stop() }
    let harness = try CollectorHarness(secrets: [secret])
    let output = try await collector([
      "url": .string(nginx.url("site", "/echo?token=\(secret)")), "headers": .stringMap(["X-Api-Key": secret]),
    ]).collect(harness.context)
    // The server really echoed the secret, so redaction (not luck) keeps it out.
    #expect(output.facts["headers"]?.value(at: ["x-echo"]) == .string(Redactor.placeholder))
    let everything = try harness.allArtifactText()
    #expect(!everything.contains(secret))
    #expect(everything.contains("X-Api-Key: [REDACTED]"))
    #expect(try harness.text("response-body") == "key=[REDACTED] args=token=[REDACTED]")
    for (name, value) in output.facts {
      #expect(!value.rendered.contains(secret), "\(name)")
    }
    for record in harness.artifacts.records {
      #expect(!record.summary.contains(secret) && !record.path.contains(secret))
      let name = String(record.path.split(separator: "/").last ?? "")
      #expect(try Digest.sha256(fileAt: harness.file(name)).digest == record.sha256)
    }

    let failing = try CollectorHarness(secrets: [secret])
    let error = await #expect(throws: HTTPError.self) {
      _ = try await collector(["url": .string("http://127.0.0.1:1/?token=\(secret)")]).collect(failing.context)
    }
    #expect(error.map { !"\($0)".contains(secret) } == true)
    #expect(error?.kind == .connection)
  }

  @Test func credentialHeadersAndCookiesAreRedacted() async throws {
    let nginx = try await NginxServer.start([
      .http(
        "site",
        [.text("= /", body: "ok", headers: [("Set-Cookie", "session=cookie-value-123; Path=/; Secure; HttpOnly")])])
    ])
    defer { nginx.stop() }
    let harness = try CollectorHarness()
    let output = try await collector([
      "url": .string(nginx.url("site", "/")),
      "headers": .stringMap([
        "Authorization": "Bearer bearer-value-456", "Cookie": "sid=cookie-value-789",
        "Proxy-Authorization": "Basic proxy-value", "Accept": "text/plain",
      ]),
    ]).collect(harness.context)
    let request = try harness.text("request.txt")
    #expect(request.contains("Authorization: [REDACTED]"))
    #expect(request.contains("Cookie: [REDACTED]"))
    #expect(request.contains("Proxy-Authorization: [REDACTED]"))
    #expect(request.contains("Accept: text/plain"))
    let everything = try harness.allArtifactText()
    for value in ["bearer-value-456", "cookie-value-789", "proxy-value", "cookie-value-123"] {
      #expect(!everything.contains(value), "\(value)")
    }
    #expect(
      try harness.text("response-headers.txt").contains("Set-Cookie: session=[REDACTED]; Path=/; Secure; HttpOnly"))
    #expect(
      output.facts["headers"]?.value(at: ["set-cookie"]) == .string("session=[REDACTED]; Path=/; Secure; HttpOnly"))
  }

  @Test func unusableParametersNameTheParameter() {
    #expect { try collector(["url": .string("ftp://example.com/file")]) } throws: { error in
      (error as? ParameterError)?.parameter == "url"
    }
    #expect { try collector(["url": .string("not a url")]) } throws: { error in
      (error as? ParameterError)?.parameter == "url"
    }
    #expect { try collector(["url": .string("https://example.com"), "method": .string("FETCH")]) } throws: { error in
      (error as? ParameterError)?.parameter == "method" && "\(error)".contains("GET")
    }
    #expect { try collector(["url": .string("https://example.com"), "follow_redirects": .integer(-1)]) } throws: {
      (($0 as? ParameterError)?.parameter == "follow_redirects")
    }
    #expect(throws: Never.self) { try collector(["url": .string("HTTPS://example.com/x"), "method": .string("head")]) }
    #expect(CollectorRegistry.collector(kind: "http") == HTTPCollector.self)
    #expect(
      HTTPCollector.parameters.map(\.name) == [
        "url", "method", "headers", "body", "follow_redirects", "timeout", "connect_timeout", "ca_bundle", "body_limit",
        "max_download",
      ])
  }

  /// Peak resident set size of this process (VmHWM), in bytes.
  static func peakResidentBytes() throws -> Int {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
    let kilobytes = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    return kilobytes * 1024
  }
}
