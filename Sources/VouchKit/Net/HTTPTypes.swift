import Foundation

/// One header line, in the order it was sent or received.
public struct HTTPHeader: Sendable, Hashable, Codable {
  public let name: String
  public let value: String

  public init(_ name: String, _ value: String) {
    self.name = name
    self.value = value
  }
}

/// One request, as a value; the HTTP client turns it into a libcurl transfer on its own thread.
public struct HTTPRequest: Sendable {
  public var url: String
  public var method: String = "GET"
  public var headers: [HTTPHeader] = []
  public var body: Data?
  /// Seconds for the whole transfer.
  public var timeout: Double = 30
  /// Seconds to establish the connection (TCP + TLS).
  public var connectTimeout: Double = 10
  /// PEM file of trusted CAs; `nil` uses the system store.
  public var caBundle: String?
  /// Keep at most this many body bytes in `HTTPResponse.body`.
  public var memoryLimit: Int = 1 << 20
  /// When set, the body is streamed into this file, at most `storeLimit` bytes.
  public var bodyFile: URL?
  public var storeLimit: Int = 1 << 20
  /// Abort the transfer after this many body bytes; the response is then marked incomplete.
  public var maxDownload: Int = 64 << 20

  public init(url: String) {
    self.url = url
  }
}

/// Timing of one transfer, in seconds from its start.
public struct HTTPTimings: Sendable, Hashable, Codable {
  public var nameLookup: Double
  public var connect: Double
  public var tlsHandshake: Double
  public var firstByte: Double
  public var total: Double

  public init(nameLookup: Double, connect: Double, tlsHandshake: Double, firstByte: Double, total: Double) {
    self.nameLookup = nameLookup
    self.connect = connect
    self.tlsHandshake = tlsHandshake
    self.firstByte = firstByte
    self.total = total
  }
}

/// One response, never followed: redirects are handled by `HTTPClient.fetch`.
public struct HTTPResponse: Sendable {
  public var url: String
  public var status: Int
  /// `HTTP/1.1`, `HTTP/2`…
  public var httpVersion: String
  public var headers: [HTTPHeader]
  /// The first `memoryLimit` bytes of the body.
  public var body: Data
  /// Body bytes received in total.
  public var bodySize: Int
  /// SHA-256 of every body byte received.
  public var bodySHA256: String
  /// Bytes written to `bodyFile` and their SHA-256 (equal to the above unless truncated).
  public var storedSize: Int
  public var storedSHA256: String
  /// The body was longer than `storeLimit` (the stored copy is a prefix).
  public var truncated: Bool
  /// The transfer stopped at `maxDownload` before the body ended.
  public var complete: Bool
  public var timings: HTTPTimings
  public var remoteAddress: String?
  public var tlsVersion: String?
  /// The reason phrase of the status line (`OK`, `Moved Permanently`); empty for HTTP/2 and later.
  public var reason: String = ""

  public init(
    url: String, status: Int, httpVersion: String, headers: [HTTPHeader], body: Data, bodySize: Int,
    bodySHA256: String, storedSize: Int, storedSHA256: String, truncated: Bool, complete: Bool, timings: HTTPTimings,
    remoteAddress: String?, tlsVersion: String?
  ) {
    self.url = url
    self.status = status
    self.httpVersion = httpVersion
    self.headers = headers
    self.body = body
    self.bodySize = bodySize
    self.bodySHA256 = bodySHA256
    self.storedSize = storedSize
    self.storedSHA256 = storedSHA256
    self.truncated = truncated
    self.complete = complete
    self.timings = timings
    self.remoteAddress = remoteAddress
    self.tlsVersion = tlsVersion
  }

  /// The first value of a header, matched case-insensitively.
  public func header(_ name: String) -> String? {
    headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
  }
}

/// A transfer that did not produce a response.
public struct HTTPError: Error, Sendable, Hashable, CustomStringConvertible {
  public enum Kind: String, Sendable, Hashable {
    case timeout, connection, tls, tooManyRedirects, redirectLoop, invalidURL, other
    /// The calling task was cancelled or the client shut down before the transfer finished.
    case cancelled
  }

  public let kind: Kind
  public let url: String
  public let message: String

  public init(_ kind: Kind, url: String, _ message: String) {
    self.kind = kind
    self.url = url
    self.message = message
  }

  public var description: String { "\(url): \(message)" }
}
