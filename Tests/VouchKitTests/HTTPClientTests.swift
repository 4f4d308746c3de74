import Foundation
import Testing

@testable import VouchKit

@Suite struct HTTPClientTests {
  @Test func thousandConcurrentRequestsThroughOneClientAllSucceed() async throws {
    let nginx = try await NginxServer.start([
      .http("site", [NginxServer.Location("~ ^/item/", ["default_type text/plain", "return 200 \"$uri\""])])
    ])
    defer { nginx.stop() }
    let client = HTTPClient(maxConnections: 50)
    defer { client.shutdown() }
    let count = 1000
    let bodies = try await withThrowingTaskGroup(of: (Int, Int, String).self) { group in
      for index in 0..<count {
        group.addTask {
          let response = try await client.send(HTTPRequest(url: nginx.url("site", "/item/\(index)")))
          return (index, response.status, String(decoding: response.body, as: UTF8.self))
        }
      }
      return try await group.reduce(into: [Int: (Int, String)]()) { $0[$1.0] = ($1.1, $1.2) }
    }
    #expect(bodies.count == count)
    for index in 0..<count {
      #expect(bodies[index]?.0 == 200 && bodies[index]?.1 == "/item/\(index)", "request \(index)")
    }
  }

  @Test func cancellingTheTaskAbortsTheTransfer() async throws {
    let server = try SilentServer()
    let client = HTTPClient()
    defer { client.shutdown() }
    var request = HTTPRequest(url: server.url)
    request.timeout = 30
    let started = ContinuousClock.now
    let task = Task { try await client.send(request) }
    try await Task.sleep(for: .milliseconds(200))
    task.cancel()
    let result = await task.result
    // Well under the 30 s transfer timeout even on a loaded machine: the cancellation ended it, not the timeout.
    #expect(ContinuousClock.now - started < .seconds(15))
    guard case .failure(let error) = result else {
      Issue.record("a cancelled transfer produced a response")
      return
    }
    #expect((error as? HTTPError)?.kind == .cancelled)
  }

  @Test func cancellingAQueuedRequestDoesNotWaitForASlot() async throws {
    let server = try SilentServer()
    let client = HTTPClient(maxConnections: 1)
    defer { client.shutdown() }
    let busy = Task { try await client.send(HTTPRequest(url: server.url)) }
    try await Task.sleep(for: .milliseconds(100))
    let queued = Task { try await client.send(HTTPRequest(url: server.url)) }
    try await Task.sleep(for: .milliseconds(100))
    queued.cancel()
    guard case .failure(let error) = await queued.result else {
      Issue.record("a cancelled queued request produced a response")
      return
    }
    #expect((error as? HTTPError)?.kind == .cancelled)
    busy.cancel()
    _ = await busy.result
  }

  @Test func shutdownFailsWaitingTransfersAndRefusesNewOnes() async throws {
    let server = try SilentServer()
    let client = HTTPClient()
    let pending = Task { try await client.send(HTTPRequest(url: server.url)) }
    try await Task.sleep(for: .milliseconds(200))
    client.shutdown()
    await #expect(throws: HTTPError.self) { try await pending.value }
    let error = await #expect(throws: HTTPError.self) { try await client.send(HTTPRequest(url: server.url)) }
    #expect(error?.kind == .cancelled)
  }

  @Test func refusedConnectionAndBadURLAreTypedErrors() async throws {
    let port = try LocalPorts.reserve(1)[0]
    let client = CollectorHarness.sharedClient
    let refused = await #expect(throws: HTTPError.self) {
      try await client.send(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
    }
    #expect(refused?.kind == .connection)
    #expect(refused?.message.contains("cannot connect") == true)
    let unsupported = await #expect(throws: HTTPError.self) {
      try await client.send(HTTPRequest(url: "ftp://127.0.0.1/"))
    }
    #expect(unsupported?.kind == .invalidURL)
  }

  @Test func methodsBodiesAndStreamingToAFile() async throws {
    let nginx = try await NginxServer.start([
      .http(
        "site",
        [
          NginxServer.Location(
            "= /method", ["default_type text/plain", "return 200 \"$request_method $content_length\""]),
          .redirect("= /post-redirect", status: 302, to: "/method"),
        ])
    ])
    defer { nginx.stop() }
    let client = CollectorHarness.sharedClient
    var post = HTTPRequest(url: nginx.url("site", "/method"))
    post.method = "PUT"
    post.body = Data("12345".utf8)
    let file = try TestScratch.makeDirectory("stream").appendingPathComponent("body")
    post.bodyFile = file
    post.storeLimit = 3
    let response = try await client.send(post)
    #expect(String(decoding: response.body, as: UTF8.self) == "PUT 5")
    #expect(try Data(contentsOf: file) == Data("PUT".utf8))
    #expect(response.truncated && response.storedSize == 3 && response.bodySize == 5)
    #expect(response.storedSHA256 == Digest.sha256("PUT") && response.bodySHA256 == Digest.sha256("PUT 5"))

    var head = HTTPRequest(url: nginx.url("site", "/method"))
    head.method = "HEAD"
    let headResponse = try await client.send(head)
    #expect(headResponse.status == 200 && headResponse.bodySize == 0)

    var redirected = HTTPRequest(url: nginx.url("site", "/post-redirect"))
    redirected.method = "POST"
    redirected.body = Data("x".utf8)
    let fetched = try await client.fetch(redirected, maxRedirects: 3)
    #expect(fetched.hops.map(\.status) == [302, 200])
    #expect(String(decoding: fetched.final.body, as: UTF8.self) == "GET ")
  }

  @Test func locationsResolveAgainstTheCurrentURL() {
    let base = "https://example.com/a/b?q=1"
    #expect(HTTPClient.resolve("/x", against: base) == "https://example.com/x")
    #expect(HTTPClient.resolve("c", against: base) == "https://example.com/a/c")
    #expect(HTTPClient.resolve("../up", against: base) == "https://example.com/up")
    #expect(HTTPClient.resolve("//other.example/p", against: base) == "https://other.example/p")
    #expect(HTTPClient.resolve("http://plain.example/", against: base) == "http://plain.example/")
    #expect(HTTPClient.resolve("ftp://files.example/", against: base) == nil)
  }

  @Test func redirectsChangeMethodAndDropCredentialsAcrossOrigins() {
    var request = HTTPRequest(url: "https://a.example/form")
    request.method = "POST"
    request.body = Data("x".utf8)
    request.headers = [HTTPHeader("Authorization", "Bearer t"), HTTPHeader("Content-Type", "text/plain")]
    let sameSite = HTTPClient.request(following: 303, from: request, to: "https://a.example/done")
    #expect(sameSite.method == "GET" && sameSite.body == nil)
    #expect(sameSite.headers == [HTTPHeader("Authorization", "Bearer t")])
    let kept = HTTPClient.request(following: 307, from: request, to: "https://b.example/form")
    #expect(kept.method == "POST" && kept.body != nil)
    #expect(!kept.headers.contains { $0.name == "Authorization" })
  }
}
