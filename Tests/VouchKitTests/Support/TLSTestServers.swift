import Foundation

/// Certificates and DH parameters for the TLS collector's servers, signed by the shared test CA.
///
/// Every leaf is valid for two days, for `127.0.0.1` and `localhost` unless its name says otherwise.
struct TLSTestPKI: Sendable {
  let base: TestCertificates
  /// RSA 2048, SHA-256: the intermediate and weak servers.
  let rsa2048: TestCertificates.Identity
  let rsa1024: TestCertificates.Identity
  /// RSA 2048 signed with SHA-1.
  let sha1Signed: TestCertificates.Identity
  /// Valid only for `other.example`.
  let wrongName: TestCertificates.Identity
  /// RFC 7919 ffdhe2048, as Mozilla's intermediate profile recommends.
  let dh2048: URL
  let dh1024: URL

  private static let sharedResult = Result { try TLSTestPKI.generate() }

  static func shared() throws -> TLSTestPKI {
    try sharedResult.get()
  }

  private static func generate() throws -> TLSTestPKI {
    let base = try TestCertificates.shared()
    let directory = try TestScratch.makeDirectory("tls-pki")
    func path(_ name: String) -> URL { directory.appendingPathComponent(name) }
    let openssl = "/usr/bin/openssl"

    func leaf(_ name: String, key: [String], digest: String = "-sha256", san: String) throws
      -> TestCertificates.Identity
    {
      try Command.run(
        openssl,
        ["req", "-new"] + key + [
          "-nodes", "-keyout", path("\(name).key").path, "-out", path("\(name).csr").path, "-subj", "/CN=\(name)",
        ])
      try Data("subjectAltName=\(san)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n".utf8)
        .write(to: path("\(name).ext"))
      try Command.run(
        openssl,
        [
          "x509", "-req", "-in", path("\(name).csr").path, "-CA", base.caCertificate.path, "-CAkey", base.caKey.path,
          "-CAcreateserial", "-CAserial", path("serial").path, digest, "-out", path("\(name).pem").path,
          "-days", "2", "-extfile", path("\(name).ext").path,
        ])
      return TestCertificates.Identity(certificate: path("\(name).pem"), key: path("\(name).key"))
    }
    let local = "IP:127.0.0.1,DNS:localhost"
    let rsa2048 = try leaf("rsa2048", key: ["-newkey", "rsa:2048"], san: local)
    let rsa1024 = try leaf("rsa1024", key: ["-newkey", "rsa:1024"], san: local)
    let sha1Signed = try leaf("sha1", key: ["-newkey", "rsa:2048"], digest: "-sha1", san: local)
    let wrongName = try leaf(
      "other", key: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"], san: "DNS:other.example")
    try Command.run(
      openssl,
      ["genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", path("dh2048.pem").path])
    // -dsaparam makes 1024-bit parameters in milliseconds instead of seconds; the size is what the test needs.
    try Command.run(openssl, ["dhparam", "-dsaparam", "-out", path("dh1024.pem").path, "1024"])
    return TLSTestPKI(
      base: base, rsa2048: rsa2048, rsa1024: rsa1024, sha1Signed: sha1Signed, wrongName: wrongName,
      dh2048: path("dh2048.pem"), dh1024: path("dh1024.pem"))
  }
}

/// The nginx configurations the TLS tests and the benchmark scan: one per Mozilla profile plus a weak one.
enum TLSProfileServers {
  static let hsts = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload")

  /// TLS 1.3 only, ECDSA P-256: Mozilla modern.
  static func modern(_ pki: TLSTestPKI) -> NginxServer.Server {
    .https(
      "modern", pki.base.caSigned, [.text("/", body: "modern", headers: [hsts])],
      directives: ["ssl_protocols TLSv1.3", "ssl_ecdh_curve X25519:prime256v1:secp384r1"])
  }

  /// TLS 1.2 + 1.3, RSA 2048, ECDHE and DHE AEAD suites, ffdhe2048: Mozilla intermediate.
  static func intermediate(_ pki: TLSTestPKI) -> NginxServer.Server {
    .https(
      "intermediate", pki.rsa2048, [.text("/", body: "intermediate", headers: [hsts])],
      directives: [
        "ssl_protocols TLSv1.2 TLSv1.3", "ssl_ecdh_curve X25519:prime256v1:secp384r1",
        "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
          + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
          + "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305",
        "ssl_dhparam \(pki.dh2048.path)", "ssl_prefer_server_ciphers off",
      ])
  }

  /// TLS 1.0–1.2, CBC suites, 1024-bit DHE, server order: what an audit must catch.
  static func weak(_ pki: TLSTestPKI) -> NginxServer.Server {
    .https(
      "weak", pki.rsa2048, [.text("/", body: "weak")],
      directives: [
        "ssl_protocols TLSv1 TLSv1.1 TLSv1.2",
        "ssl_ciphers ECDHE-RSA-AES128-SHA:DHE-RSA-AES128-SHA:AES128-SHA:AES256-SHA:DHE-RSA-AES256-SHA256:@SECLEVEL=0",
        "ssl_dhparam \(pki.dh1024.path)", "ssl_prefer_server_ciphers on",
      ])
  }
}

/// A listening socket on 127.0.0.1 that hands each connection to `serve` on a thread of its own, until it is freed.
final class LoopbackListener: Sendable {
  let port: Int
  private let descriptor: Int32

  init(serve: @escaping @Sendable (Int32) -> Void) throws {
    let (descriptor, port) = try LocalPorts.listen()
    self.descriptor = descriptor
    self.port = port
    Thread {
      while true {
        let client = accept(descriptor, nil, nil)
        guard client >= 0 else { return }
        Thread { serve(client) }.start()
      }
    }.start()
  }

  deinit {
    shutdown(descriptor, Int32(SHUT_RDWR))
    close(descriptor)
  }
}

/// Accepts TCP connections on 127.0.0.1, reads the ClientHello and resets the connection: a handshake cut short.
final class ResettingServer: Sendable {
  private let listener: LoopbackListener
  var port: Int { listener.port }

  init() throws {
    listener = try LoopbackListener { client in
      var buffer = [UInt8](repeating: 0, count: 4096)
      _ = read(client, &buffer, buffer.count)
      // A zero linger time turns close() into a RST instead of an orderly FIN.
      var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
      setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
      close(client)
    }
  }
}

/// A loopback TCP proxy in front of a real TLS server that refuses, with a `handshake_failure` alert, every ClientHello
/// whose key share list is empty — a server that mishandles RFC 8446's request for a HelloRetryRequest. Every other
/// connection is relayed to the server byte for byte.
final class KeyShareGate: Sendable {
  private let listener: LoopbackListener
  var port: Int { listener.port }

  init(backend: Int) throws {
    listener = try LoopbackListener { client in Self.serve(client, backend: backend) }
  }

  private static func serve(_ client: Int32, backend: Int) {
    guard let first = readRecord(client) else {
      close(client)
      return
    }
    if emptyKeyShares(first) {
      let alert: [UInt8] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]
      _ = write(client, alert, alert.count)
      close(client)
      return
    }
    guard let server = LocalPorts.connect(backend) else {
      close(client)
      return
    }
    guard write(server, first, first.count) == first.count else {
      close(server)
      close(client)
      return
    }
    let done = DispatchSemaphore(value: 0)
    Thread {
      relay(from: server, to: client)
      done.signal()
    }.start()
    relay(from: client, to: server)
    done.wait()
    close(server)
    close(client)
  }

  /// Copies until either side closes, then closes the writing half so the other direction ends too.
  private static func relay(from source: Int32, to target: Int32) {
    var buffer = [UInt8](repeating: 0, count: 16384)
    while true {
      let got = read(source, &buffer, buffer.count)
      guard got > 0, write(target, buffer, got) == got else { break }
    }
    shutdown(target, Int32(SHUT_WR))
    shutdown(source, Int32(SHUT_RD))
  }

  private static func readRecord(_ socket: Int32) -> [UInt8]? {
    func readExactly(_ count: Int) -> [UInt8]? {
      var bytes = [UInt8](repeating: 0, count: count)
      var done = 0
      while done < count {
        let got = bytes.withUnsafeMutableBytes { read(socket, $0.baseAddress! + done, count - done) }
        guard got > 0 else { return nil }
        done += got
      }
      return bytes
    }
    guard let header = readExactly(5) else { return nil }
    guard let body = readExactly(Int(header[3]) << 8 | Int(header[4])) else { return nil }
    return header + body
  }

  /// Whether `record` is a ClientHello with a key_share extension listing no shares.
  static func emptyKeyShares(_ record: [UInt8]) -> Bool {
    func byte(_ at: Int) -> Int { at < record.count ? Int(record[at]) : 0 }
    func u16(_ at: Int) -> Int { byte(at) << 8 | byte(at + 1) }
    guard record.count > 5 + 4 + 34, record[0] == 0x16, record[5] == 0x01 else { return false }
    var at = 5 + 4 + 2 + 32
    at += 1 + byte(at)
    at += 2 + u16(at)
    at += 1 + byte(at)
    let end = min(at + 2 + u16(at), record.count)
    at += 2
    while at + 4 <= end {
      if u16(at) == 0x0033 { return u16(at + 4) == 0 }
      at += 4 + u16(at + 2)
    }
    return false
  }
}
