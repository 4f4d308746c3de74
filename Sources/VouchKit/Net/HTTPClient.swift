import CCurl
import Foundation

/// Runs libcurl transfers on one dedicated thread that owns every CURL handle.
public final class HTTPClient: Sendable {
  public init(maxConnections: Int = 64) {}

  /// Sends one request without following redirects.
  public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
    throw HTTPError(.other, url: request.url, "placeholder")
  }

  /// Stops the transfer thread; pending transfers fail.
  public func shutdown() {}
}
