import Foundation

/// Every response of one fetch in the order received; redirects are evidence too, so none is dropped.
public struct FetchResult: Sendable {
  /// At least one response; the last is the answer.
  public let hops: [HTTPResponse]

  init(hops: [HTTPResponse]) {
    precondition(!hops.isEmpty, "a fetch yields at least one response")
    self.hops = hops
  }

  public var final: HTTPResponse { hops[hops.count - 1] }
  /// Every URL visited, first to final.
  public var urls: [String] { hops.map(\.url) }
  public var redirectCount: Int { hops.count - 1 }
}

extension HTTPClient {
  /// Follows redirects here rather than in libcurl, so every hop is recorded and loops can be named.
  ///
  /// Each hop truncates `request.bodyFile`, so afterwards it holds the final response's body. `received` sees every
  /// response as it arrives, so a caller can still record the hops of a fetch that ends in an error.
  ///
  /// - Parameter maxRedirects: redirects to follow; 0 returns the first response even if it is a redirect.
  public func fetch(
    _ request: HTTPRequest, maxRedirects: Int, received: (HTTPResponse) -> Void = { _ in }
  ) async throws(HTTPError) -> FetchResult {
    var current = request
    var hops: [HTTPResponse] = []
    var visited: Set<String> = [request.url]
    while true {
      let response = try await send(current)
      hops.append(response)
      received(response)
      guard maxRedirects > 0, Self.redirectStatuses.contains(response.status),
        let location = response.header("Location")
      else { return FetchResult(hops: hops) }
      guard let next = Self.resolve(location, against: current.url) else {
        throw HTTPError(
          .invalidURL, url: current.url,
          "redirected (\(response.status)) to '\(location)', which is not an absolute or relative http(s) URL")
      }
      let chain = (hops.map(\.url) + [next]).joined(separator: " → ")
      if visited.contains(next) {
        throw HTTPError(.redirectLoop, url: request.url, "redirect loop: \(chain)")
      }
      if hops.count > maxRedirects {
        throw HTTPError(
          .tooManyRedirects, url: request.url,
          "more than \(maxRedirects) redirects: \(chain) (raise follow_redirects if this is expected)")
      }
      visited.insert(next)
      current = Self.request(following: response.status, from: current, to: next)
    }
  }

  static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]

  /// Resolves a `Location` value against the URL that returned it; `nil` unless the result is http(s) with a host.
  static func resolve(_ location: String, against base: String) -> String? {
    guard let baseURL = URL(string: base),
      let resolved = URL(string: location.trimmingCharacters(in: .whitespaces), relativeTo: baseURL)?.absoluteURL,
      let scheme = resolved.scheme?.lowercased(), scheme == "http" || scheme == "https",
      let host = resolved.host, !host.isEmpty
    else { return nil }
    return resolved.absoluteString
  }

  /// The next hop's request, changing method and dropping credentials the way browsers and curl do.
  static func request(following status: Int, from request: HTTPRequest, to url: String) -> HTTPRequest {
    var next = request
    next.url = url
    let method = request.method.uppercased()
    if (status == 303 && method != "HEAD") || ((status == 301 || status == 302) && method == "POST") {
      next.method = "GET"
      next.body = nil
      next.headers.removeAll { ["content-type", "content-length"].contains($0.name.lowercased()) }
    }
    if origin(of: url) != origin(of: request.url) {
      // Credentials meant for one site must not leak to another it redirects to.
      next.headers.removeAll { ["authorization", "cookie"].contains($0.name.lowercased()) }
    }
    return next
  }

  private static func origin(of url: String) -> String? {
    guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else { return nil }
    let port = components.port ?? (scheme == "https" ? 443 : 80)
    return "\(scheme)://\(components.host?.lowercased() ?? ""):\(port)"
  }
}
