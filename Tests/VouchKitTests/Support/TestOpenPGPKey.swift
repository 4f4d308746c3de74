import Foundation

/// A throwaway OpenPGP signing key made with `gpg --batch --quick-gen-key` in a private GNUPGHOME (no network).
///
/// Use `shared()`; each `clearsign` stops the gpg-agent it started so no daemon outlives the test.
struct TestOpenPGPKey: Sendable {
  let home: URL
  /// The armoured public key, as a site would publish it and a control would pin it.
  let publicKey: URL
  let fingerprint: String

  private static let sharedResult = Result { try TestOpenPGPKey.generate() }

  static func shared() throws -> TestOpenPGPKey {
    try sharedResult.get()
  }

  static func generate() throws -> TestOpenPGPKey {
    let home = try TestScratch.makeDirectory("gnupg")
    try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: home.path)
    defer { stopAgent(home) }
    let base = ["--batch", "--homedir", home.path, "--pinentry-mode", "loopback", "--passphrase", ""]
    try Command.run(
      "/usr/bin/gpg", base + ["--quick-gen-key", "Vouch Test <security@vouch.invalid>", "ed25519", "sign", "never"])
    let listing = try Command.run("/usr/bin/gpg", ["--batch", "--homedir", home.path, "--with-colons", "--list-keys"])
    guard let line = listing.split(separator: "\n").first(where: { $0.hasPrefix("fpr:") }),
      let fingerprint = line.split(separator: ":", omittingEmptySubsequences: false).dropFirst(9).first
    else { throw Command.Failure(description: "gpg listed no fingerprint:\n\(listing)") }
    let publicKey = home.appendingPathComponent("public.asc")
    try Command.run("/usr/bin/gpg", base + ["--armor", "--output", publicKey.path, "--export", String(fingerprint)])
    return TestOpenPGPKey(home: home, publicKey: publicKey, fingerprint: String(fingerprint))
  }

  /// `text` wrapped in an OpenPGP cleartext signature by this key.
  func clearsign(_ text: String) throws -> String {
    defer { Self.stopAgent(home) }
    let input = home.appendingPathComponent("input-\(UUID().uuidString).txt")
    let output = input.appendingPathExtension("asc")
    try Data(text.utf8).write(to: input)
    try Command.run(
      "/usr/bin/gpg",
      [
        "--batch", "--homedir", home.path, "--pinentry-mode", "loopback", "--passphrase", "", "--clearsign", "--output",
        output.path, input.path,
      ])
    return try String(contentsOf: output, encoding: .utf8)
  }

  private static func stopAgent(_ home: URL) {
    _ = try? Command.run("/usr/bin/gpgconf", ["--homedir", home.path, "--kill", "gpg-agent"])
  }
}

/// Runs blocking work (waiting for child processes) on a Dispatch thread, so Swift concurrency's few cooperative
/// threads stay free for the timing-sensitive tests running beside it.
func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
  }
}
