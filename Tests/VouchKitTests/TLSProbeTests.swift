import Foundation
import Testing

@testable import VouchKit

/// Single probes through the prober: where a handshake ends, what it reads there, and how it fails. Nested in the
/// collector's suite so they share its one-at-a-time order (each starts a server).
extension TLSCollectorTests {
  @Suite struct Probes {
    private let allTLS13 = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    private let allGroups = TLSGroup.all.map(\.openSSL).joined(separator: ":")

    private func probe(
      _ port: Int, _ version: TLSVersion?, purpose: ProbeRequest.Purpose = .handshake, ciphers: String? = nil,
      groups: String? = nil, timeout: Double = 5, stop: ProbeRequest.Stop, askRetry: Bool = false
    ) async throws -> ProbeOutcome {
      let prober = try TLSProber(concurrency: 1)
      defer { prober.close() }
      return await prober.probe(
        ProbeRequest(
          target: TLSTarget(host: "127.0.0.1", port: port), purpose: purpose, version: version,
          cipherList: ciphers ?? "ALL", tls13Suites: allTLS13, groups: groups ?? allGroups, connectTimeout: timeout,
          stop: stop, askRetry: askRetry))
    }

    private func accepted(_ outcome: ProbeOutcome) -> Negotiated? {
      if case .accepted(let negotiated) = outcome { return negotiated }
      Issue.record("expected an accepted handshake, got \(outcome)")
      return nil
    }

    @Test func tls13ProbeStopsAfterServerHello() async throws {
      let nginx = try await NginxServer.start([TLSProfileServers.modern(try TLSTestPKI.shared())])
      defer { nginx.stop() }
      let negotiated = accepted(try await probe(nginx.ports["modern"] ?? 0, .tls1_3, stop: .serverHello))
      #expect(negotiated?.stoppedAfter == "ServerHello")
      #expect(negotiated?.version == .tls1_3)
      #expect(negotiated?.suite == "TLS_AES_128_GCM_SHA256")
      #expect(negotiated?.group == "x25519")
      #expect(negotiated?.dhBits == nil)
    }

    /// The server asks for another key share first (HelloRetryRequest); the probe stops at the real ServerHello.
    @Test func helloRetryRequestIsFollowed() async throws {
      let pki = try TLSTestPKI.shared()
      let nginx = try await NginxServer.start([
        .https("retry", pki.base.caSigned, [], directives: ["ssl_protocols TLSv1.3", "ssl_ecdh_curve secp384r1"])
      ])
      defer { nginx.stop() }
      let negotiated = accepted(try await probe(nginx.ports["retry"] ?? 0, .tls1_3, stop: .serverHello))
      #expect(negotiated?.stoppedAfter == "ServerHello")
      #expect(negotiated?.group == "secp384r1")
    }

    /// Without key shares the server names its suite and group in a HelloRetryRequest, where the probe stops; the
    /// group is the server's pick among those offered (here the first of its own list that the client has).
    @Test(arguments: [("X25519:prime256v1:secp384r1", "x25519"), ("secp384r1:prime256v1", "secp256r1")])
    func helloRetryProbeStopsThere(_ groups: String, _ picked: String) async throws {
      let nginx = try await NginxServer.start([TLSProfileServers.modern(try TLSTestPKI.shared())])
      defer { nginx.stop() }
      let port = nginx.ports["modern"] ?? 0
      let request = ProbeRequest(
        target: TLSTarget(host: "127.0.0.1", port: port), version: .tls1_3, tls13Suites: allTLS13, groups: groups,
        connectTimeout: 5, stop: .serverHello, askRetry: true)
      #expect(request.offered["key_shares"] == "none, asking for a HelloRetryRequest")
      let negotiated = accepted(try await probe(port, .tls1_3, groups: groups, stop: .serverHello, askRetry: true))
      #expect(negotiated?.stoppedAfter == "HelloRetryRequest")
      #expect(negotiated?.version == .tls1_3)
      #expect(negotiated?.suite == "TLS_AES_128_GCM_SHA256")
      #expect(negotiated?.group == picked)
      // A group the server does not have is refused as it would be with a key share.
      let outcome = try await probe(port, .tls1_3, groups: "X448", stop: .serverHello, askRetry: true)
      guard case .rejected = outcome else {
        Issue.record("expected a refusal, got \(outcome)")
        return
      }
    }

    /// A stateless server (`s_server -stateless`) puts a cookie in every HelloRetryRequest; the probe still stops
    /// there, and a probe with key shares is asked to retry anyway and stops at the ServerHello after.
    @Test func helloRetryWithACookie() async throws {
      let pki = try TLSTestPKI.shared()
      let server = try await OpenSSLServer([
        "-cert", pki.base.serverCertificate.path, "-key", pki.base.serverKey.path, "-tls1_3", "-stateless",
      ])
      defer { server.stop() }
      let retry = accepted(try await probe(server.port, .tls1_3, stop: .serverHello, askRetry: true))
      #expect(retry?.stoppedAfter == "HelloRetryRequest")
      #expect(retry?.suite == "TLS_AES_128_GCM_SHA256")
      #expect(retry?.group == "x25519")
      let full = accepted(try await probe(server.port, .tls1_3, stop: .serverHello))
      #expect(full?.stoppedAfter == "ServerHello")
      #expect(full?.group == "x25519")
    }

    /// The ClientHello really goes out without key shares: a gate that refuses exactly those refuses the probe, and
    /// lets the same probe with shares through.
    @Test func helloRetryProbeSendsNoKeyShares() async throws {
      let nginx = try await NginxServer.start([TLSProfileServers.modern(try TLSTestPKI.shared())])
      defer { nginx.stop() }
      let gate = try KeyShareGate(backend: nginx.ports["modern"] ?? 0)
      let refused = try await probe(gate.port, .tls1_3, stop: .serverHello, askRetry: true)
      guard case .rejected(let message) = refused else {
        Issue.record("expected the gate to refuse, got \(refused)")
        return
      }
      #expect(message.contains("handshake failure"))
      let negotiated = accepted(try await probe(gate.port, .tls1_3, stop: .serverHello))
      #expect(negotiated?.stoppedAfter == "ServerHello")
    }

    /// A TLS 1.3 finite-field group is read from the key share in ServerHello, size included.
    @Test func ffdheGroupInTLS13ReportsItsSize() async throws {
      let pki = try TLSTestPKI.shared()
      let nginx = try await NginxServer.start([
        .https("ffdhe", pki.base.caSigned, [], directives: ["ssl_protocols TLSv1.3", "ssl_ecdh_curve ffdhe2048"])
      ])
      defer { nginx.stop() }
      let port = nginx.ports["ffdhe"] ?? 0
      let negotiated = accepted(try await probe(port, .tls1_3, groups: "ffdhe2048", stop: .serverHello))
      #expect(negotiated?.group == "ffdhe2048")
      #expect(negotiated?.dhBits == 2048)
      let scan = try await TLSScanner.scan(
        TLSTarget(host: "127.0.0.1", port: port), options: TLSScanOptions(now: Date()))
      #expect(scan.groups == ["ffdhe2048"])
      #expect(scan.dhBits == 2048)
    }

    @Test func tls12ProbeReadsTheServerKeyExchange() async throws {
      let nginx = try await NginxServer.start([TLSProfileServers.intermediate(try TLSTestPKI.shared())])
      defer { nginx.stop() }
      let port = nginx.ports["intermediate"] ?? 0
      let ecdhe = accepted(try await probe(port, .tls1_2, ciphers: "ECDHE-RSA-AES128-GCM-SHA256", stop: .keyExchange))
      #expect(ecdhe?.stoppedAfter == "ServerKeyExchange")
      #expect(ecdhe?.suite == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
      #expect(ecdhe?.group == "x25519")
      #expect(ecdhe?.dhBits == nil)
      #expect(ecdhe?.secureRenegotiation == true)
      #expect(ecdhe?.extendedMasterSecret == true)
      let dhe = accepted(try await probe(port, .tls1_2, ciphers: "DHE-RSA-AES256-GCM-SHA384", stop: .keyExchange))
      #expect(dhe?.stoppedAfter == "ServerKeyExchange")
      #expect(dhe?.suite == "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384")
      #expect(dhe?.group == "")
      #expect(dhe?.dhBits == 2048)
    }

    /// RSA key transport sends no ServerKeyExchange: the probe ends once the Certificate has arrived.
    @Test func rsaKeyTransportStopsAtTheCertificate() async throws {
      let nginx = try await NginxServer.start([TLSProfileServers.weak(try TLSTestPKI.shared())])
      defer { nginx.stop() }
      let negotiated = accepted(
        try await probe(nginx.ports["weak"] ?? 0, .tls1_0, ciphers: "AES128-SHA", stop: .keyExchange))
      #expect(negotiated?.stoppedAfter == "Certificate")
      #expect(negotiated?.suite == "TLS_RSA_WITH_AES_128_CBC_SHA")
      #expect(negotiated?.version == .tls1_0)
    }

    /// The inspecting handshake reads and checks the server's whole first flight and does not answer it (in TLS 1.2
    /// a round trip less); the chain, its verification and the session are all there.
    @Test(arguments: [("weak", "ServerHelloDone"), ("modern", "Finished")])
    func inspectionStopsAfterTheServersFlight(_ name: String, _ stage: String) async throws {
      let pki = try TLSTestPKI.shared()
      let server = name == "weak" ? TLSProfileServers.weak(pki) : TLSProfileServers.modern(pki)
      let nginx = try await NginxServer.start([server])
      defer { nginx.stop() }
      let purpose = ProbeRequest.Purpose.inspect(caBundle: pki.base.caCertificate.path, verifyTime: Date())
      let negotiated = accepted(
        try await probe(nginx.ports[name] ?? 0, nil, purpose: purpose, stop: .serverFlight))
      #expect(negotiated?.stoppedAfter == stage)
      #expect(negotiated?.group == "x25519")
      #expect(negotiated?.inspection?.chain.count == 1)
      #expect(negotiated?.inspection?.verifyCode == 0)
      #expect(negotiated?.inspection?.hostnameMatch == true)
      if name == "weak" {
        #expect(negotiated?.version == .tls1_2)
        #expect(negotiated?.suite == "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA")
        #expect(negotiated?.secureRenegotiation == true)
        #expect(negotiated?.extendedMasterSecret == true)
      } else {
        #expect(negotiated?.version == .tls1_3)
      }
    }

    /// Handshake messages split over 512-byte records are put back together before the key exchange is read.
    @Test func flightInSmallRecordsIsReassembled() async throws {
      let pki = try TLSTestPKI.shared()
      let server = try await OpenSSLServer([
        "-cert", pki.rsa2048.certificate.path, "-key", pki.rsa2048.key.path, "-dhparam", pki.dh2048.path,
        "-max_send_frag", "512", "-cipher", "DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
      ])
      defer { server.stop() }
      let dhe = accepted(
        try await probe(server.port, .tls1_2, ciphers: "DHE-RSA-AES128-GCM-SHA256", stop: .keyExchange))
      #expect(dhe?.stoppedAfter == "ServerKeyExchange")
      #expect(dhe?.dhBits == 2048)
      let ecdhe = accepted(
        try await probe(server.port, .tls1_2, ciphers: "ECDHE-RSA-AES128-GCM-SHA256", stop: .keyExchange))
      #expect(ecdhe?.stoppedAfter == "ServerKeyExchange")
      #expect(ecdhe?.group == "x25519")
    }

    /// A flight the probe does not expect (PSK: no certificate, no key exchange) is left to OpenSSL, which then
    /// decides as in any handshake: here it has no PSK to answer with.
    @Test func unexpectedFlightIsLeftToOpenSSL() async throws {
      let server = try await OpenSSLServer(["-nocert", "-psk", "1a2b3c4d", "-cipher", "PSK-AES128-CBC-SHA"])
      defer { server.stop() }
      let outcome = try await probe(server.port, .tls1_2, ciphers: "PSK-AES128-CBC-SHA", stop: .keyExchange)
      guard case .rejected(let message) = outcome else {
        Issue.record("expected OpenSSL to refuse the handshake, got \(outcome)")
        return
      }
      #expect(message.hasPrefix("OpenSSL/"))
    }

    /// The server accepts the connection and never answers the ClientHello: the probe gives up at its deadline.
    @Test func handshakeWithoutAnswerTimesOut() async throws {
      let server = try SilentServer()
      let started = ContinuousClock.now
      let outcome = try await probe(server.port, .tls1_2, timeout: 0.3, stop: .keyExchange)
      let elapsed = ContinuousClock.now - started
      guard case .failed(let error) = outcome else {
        Issue.record("expected a timeout, got \(outcome)")
        return
      }
      #expect(error.kind == .timeout)
      #expect(elapsed >= .milliseconds(300))
      #expect(elapsed < .seconds(3))
    }

    @Test func refusedConnectionIsReported() async throws {
      let port = try LocalPorts.reserve(1)[0]
      let outcome = try await probe(port, .tls1_3, stop: .serverHello)
      guard case .failed(let error) = outcome else {
        Issue.record("expected a refused connection, got \(outcome)")
        return
      }
      #expect(error.kind == .refused)
      #expect(error.message.hasPrefix("nothing accepts connections on 127.0.0.1:\(port)"))
    }

    /// A server that resets the connection mid-handshake refuses the probe, in libcurl's words.
    @Test func resetDuringHandshakeIsARefusal() async throws {
      let server = try ResettingServer()
      let outcome = try await probe(server.port, .tls1_2, stop: .keyExchange)
      guard case .rejected(let message) = outcome else {
        Issue.record("expected a refusal, got \(outcome)")
        return
      }
      #expect(message == "OpenSSL SSL_connect: Connection reset by peer in connection to 127.0.0.1:\(server.port)")
    }
  }
}
