import Foundation

/// The key a security.txt signature must verify against.
public struct OpenPGPKeyPin: Sendable, Hashable {
  /// An exported public key (armoured or binary) or a keyring file holding it.
  public let keyFile: URL
  /// When set, the signing key's fingerprint (primary or subkey) must be this one, so a keyring with many keys
  /// still pins exactly one.
  public let fingerprint: String?

  public init(keyFile: URL, fingerprint: String? = nil) {
    self.keyFile = keyFile
    self.fingerprint = fingerprint.map(Self.normalise)
  }

  /// Upper-case hex without spaces, the form gpgv reports.
  public static func normalise(_ fingerprint: String) -> String {
    fingerprint.filter { !$0.isWhitespace }.uppercased()
  }
}

/// What gpgv said about a signature.
public struct SignatureVerification: Sendable, Hashable, Encodable {
  public let verified: Bool
  /// Fingerprint of the (sub)key that made the signature, when gpgv could identify it.
  public let signerFingerprint: String?
  /// Fingerprint of that key's primary key.
  public let primaryFingerprint: String?
  /// Why verification failed, or who signed; one line.
  public let detail: String
  /// gpgv's machine-readable status lines, kept as evidence.
  public let statusLines: [String]
}

/// gpgv could not be run at all (missing, unreadable key); distinct from a signature that fails.
public struct SignatureVerifierError: Error, Sendable, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}

/// Verifies OpenPGP cleartext signatures with GnuPG's `gpgv`, against a keyring built from one pinned key.
///
/// gpgv trusts exactly the keys of the keyring it is given and nothing else (no trust database, no network), which
/// is what pinning means. Each call works in its own temporary folder, removed afterwards.
public struct SignatureVerifier: Sendable {
  /// The gpgv executable.
  public let executable: URL

  public init(executable: URL) {
    self.executable = executable
  }

  /// gpgv from `PATH` (Debian package `gpgv`).
  public static func locate(environment: [String: String]) throws(SignatureVerifierError) -> SignatureVerifier {
    let path = environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
      let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("gpgv")
      if FileManager.default.isExecutableFile(atPath: candidate.path) {
        return SignatureVerifier(executable: candidate)
      }
    }
    throw SignatureVerifierError("gpgv is not on PATH; install the Debian package 'gpgv' to verify signatures")
  }

  public func verify(_ signedFile: Data, pin: OpenPGPKeyPin) async throws(SignatureVerifierError)
    -> SignatureVerification
  {
    let keyBytes: Data
    do {
      keyBytes = try Data(contentsOf: pin.keyFile)
    } catch {
      throw SignatureVerifierError("cannot read the pinned key \(pin.keyFile.path): \(error.localizedDescription)")
    }
    let keyring = try Self.keyring(from: keyBytes, path: pin.keyFile.path)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-gpgv-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let status: String
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
      let keyringURL = folder.appendingPathComponent("pinned.gpg")
      let fileURL = folder.appendingPathComponent("security.txt")
      let statusURL = folder.appendingPathComponent("status")
      try keyring.write(to: keyringURL)
      try signedFile.write(to: fileURL)
      let arguments = [
        "--homedir", folder.path, "--status-fd", "1", "--keyring", keyringURL.path, fileURL.path,
      ]
      try await run(arguments, stdout: statusURL, stderr: folder.appendingPathComponent("log"))
      status = try String(contentsOf: statusURL, encoding: .utf8)
    } catch let error as SignatureVerifierError {
      throw error
    } catch {
      throw SignatureVerifierError("cannot run \(executable.path): \(error.localizedDescription)")
    }
    return Self.interpret(status, pin: pin)
  }

  /// A binary keyring gpgv accepts: armoured keys are decoded, binary ones used as they are.
  static func keyring(from bytes: Data, path: String) throws(SignatureVerifierError) -> Data {
    let text = String(decoding: bytes.prefix(4096), as: UTF8.self)
    guard text.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") else {
      guard let first = bytes.first, first & 0x80 != 0 else {
        throw SignatureVerifierError("\(path) is neither an armoured nor a binary OpenPGP public key")
      }
      return bytes
    }
    do throws(OpenPGPArmor.Problem) {
      return try OpenPGPArmor.dearmor(
        String(decoding: bytes, as: UTF8.self), label: "PGP PUBLIC KEY BLOCK", packetTags: [6])
    } catch {
      throw SignatureVerifierError("\(path) is not a usable public key: \(error.description)")
    }
  }

  private func run(_ arguments: [String], stdout: URL, stderr: URL) async throws {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    guard FileManager.default.createFile(atPath: stdout.path, contents: nil),
      FileManager.default.createFile(atPath: stderr.path, contents: nil)
    else {
      throw SignatureVerifierError("cannot create gpgv's output files in \(stdout.deletingLastPathComponent().path)")
    }
    let output = try FileHandle(forWritingTo: stdout)
    let errors = try FileHandle(forWritingTo: stderr)
    defer {
      try? output.close()
      try? errors.close()
    }
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = FileHandle.nullDevice
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
      process.terminationHandler = { _ in continuation.resume() }
      do {
        try process.run()
      } catch {
        process.terminationHandler = nil
        continuation.resume(throwing: error)
      }
    }
  }

  /// Reads gpgv's status lines (GnuPG `doc/DETAILS`): VALIDSIG carries both fingerprints, BADSIG / ERRSIG /
  /// NO_PUBKEY explain failures.
  static func interpret(_ status: String, pin: OpenPGPKeyPin) -> SignatureVerification {
    let lines = status.split(whereSeparator: \.isNewline).map(String.init).filter { $0.hasPrefix("[GNUPG:] ") }
    func words(_ keyword: String) -> [Substring]? {
      lines.lazy.map { $0.dropFirst(9).split(separator: " ") }.first { $0.first == Substring(keyword) }
    }
    if let valid = words("VALIDSIG"), valid.count >= 2, words("GOODSIG") != nil {
      let signer = String(valid[1])
      let primary = valid.count >= 11 ? String(valid[10]) : signer
      if let pinned = pin.fingerprint, pinned != signer, pinned != primary {
        return SignatureVerification(
          verified: false, signerFingerprint: signer, primaryFingerprint: primary,
          detail: "signed by \(primary), not by the pinned fingerprint \(pinned)", statusLines: lines)
      }
      return SignatureVerification(
        verified: true, signerFingerprint: signer, primaryFingerprint: primary,
        detail: "good signature by \(primary)", statusLines: lines)
    }
    let detail: String
    if let bad = words("BADSIG") {
      detail = "bad signature by key \(bad.dropFirst().first ?? "?"): the signed text was altered after signing"
    } else if let missing = words("NO_PUBKEY") {
      detail = "signed by key \(missing.dropFirst().first ?? "?"), which is not the pinned key"
    } else if let expired = words("EXPKEYSIG") ?? words("REVKEYSIG") ?? words("EXPSIG") {
      detail = "signature by key \(expired.dropFirst().first ?? "?") is expired or revoked (\(expired[0]))"
    } else if let error = words("ERRSIG") {
      detail = "gpgv could not check the signature of key \(error.dropFirst().first ?? "?")"
    } else {
      detail = "gpgv found no valid signature"
    }
    return SignatureVerification(
      verified: false, signerFingerprint: nil, primaryFingerprint: nil, detail: detail, statusLines: lines)
  }
}
