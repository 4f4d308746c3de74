import Foundation

/// A throwaway PKI made with the `openssl` CLI: a CA, a server certificate it signed and a self-signed one.
///
/// Both server certificates are valid for `127.0.0.1` (IP SAN) and `localhost`. Use `shared()` unless a test needs
/// its own keys; generation takes a few hundred milliseconds.
struct TestCertificates: Sendable {
  let directory: URL
  /// The CA certificate (PEM): what a client passes as `ca_bundle` to trust `server`.
  let caCertificate: URL
  let caKey: URL
  /// Signed by the CA.
  let serverCertificate: URL
  let serverKey: URL
  /// Trusted by nobody.
  let selfSignedCertificate: URL
  let selfSignedKey: URL

  /// Server certificate and key as nginx needs them.
  struct Identity: Sendable {
    let certificate: URL
    let key: URL
  }

  var caSigned: Identity { Identity(certificate: serverCertificate, key: serverKey) }
  var selfSigned: Identity { Identity(certificate: selfSignedCertificate, key: selfSignedKey) }

  private static let sharedResult = Result { try TestCertificates.generate() }

  /// One set per test process.
  static func shared() throws -> TestCertificates {
    try sharedResult.get()
  }

  static func generate() throws -> TestCertificates {
    let directory = try TestScratch.makeDirectory("certificates")
    func path(_ name: String) -> URL { directory.appendingPathComponent(name) }
    let openssl = "/usr/bin/openssl"
    let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    let san = "subjectAltName=IP:127.0.0.1,DNS:localhost"

    try Command.run(
      openssl,
      ["req", "-x509"] + curve + [
        "-keyout", path("ca.key").path, "-out", path("ca.pem").path, "-days", "2", "-subj", "/CN=Vouch Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
      ])
    try Command.run(
      openssl,
      ["req", "-new"] + curve + [
        "-keyout", path("server.key").path, "-out", path("server.csr").path, "-subj", "/CN=127.0.0.1",
      ])
    let extensions = path("server.ext")
    try Data("\(san)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n".utf8)
      .write(to: extensions)
    try Command.run(
      openssl,
      [
        "x509", "-req", "-in", path("server.csr").path, "-CA", path("ca.pem").path, "-CAkey", path("ca.key").path,
        "-CAcreateserial", "-out", path("server.pem").path, "-days", "2", "-extfile", extensions.path,
      ])
    try Command.run(
      openssl,
      ["req", "-x509"] + curve + [
        "-keyout", path("self-signed.key").path, "-out", path("self-signed.pem").path, "-days", "2",
        "-subj", "/CN=127.0.0.1", "-addext", san,
      ])
    return TestCertificates(
      directory: directory, caCertificate: path("ca.pem"), caKey: path("ca.key"),
      serverCertificate: path("server.pem"), serverKey: path("server.key"),
      selfSignedCertificate: path("self-signed.pem"), selfSignedKey: path("self-signed.key"))
  }
}
