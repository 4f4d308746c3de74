import Foundation

/// A TCP listener on 127.0.0.1 that completes handshakes (the kernel does) and never sends a byte: for timeouts.
final class SilentServer: Sendable {
  let port: Int
  private let descriptor: Int32

  init() throws {
    (descriptor, port) = try LocalPorts.listen()
  }

  deinit {
    close(descriptor)
  }

  var url: String { "http://127.0.0.1:\(port)/" }
}

/// Loopback socket helpers shared by the test servers.
enum LocalPorts {
  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// A listening socket on an ephemeral 127.0.0.1 port.
  static func listen(backlog: Int32 = 128) throws -> (descriptor: Int32, port: Int) {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard bound == 0, Glibc.listen(descriptor, backlog) == 0 else {
      let message = String(cString: strerror(errno))
      close(descriptor)
      throw Failure(description: "bind/listen on 127.0.0.1: \(message)")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
  }

  /// Ports that were free a moment ago; another process may still take one, so callers retry on a bind failure.
  static func reserve(_ count: Int) throws -> [Int] {
    // All sockets stay open until every port is chosen, so the same port is never handed out twice.
    let sockets = try (0..<count).map { _ in try listen(backlog: 1) }
    for socket in sockets { close(socket.descriptor) }
    return sockets.map(\.port)
  }

  /// Whether something accepts TCP connections on 127.0.0.1:`port`.
  static func accepts(_ port: Int) -> Bool {
    guard let descriptor = connect(port) else { return false }
    close(descriptor)
    return true
  }

  /// A socket connected to 127.0.0.1:`port`, or nil when nothing accepts there.
  static func connect(_ port: Int) -> Int32? {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return nil }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
    guard connected else {
      close(descriptor)
      return nil
    }
    return descriptor
  }
}
