import ArgumentParser
import Foundation
import VouchKit

struct Keygen: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keygen",
    abstract: "Make an Ed25519 key pair for signing bundles (PEM files OpenSSL reads).",
    discussion: """
      Give the private key to the nightly job only (`vouch run --sign-key FILE` or VOUCH_SIGN_KEY); give the public \
      key to auditors (`vouch verify --key FILE`, or `openssl pkeyutl -verify`). Existing files are never overwritten.
      """
  )

  @Option(help: "Where the private key goes (written with mode 0600).")
  var privateKey: String = "vouch-signing-key.pem"

  @Option(help: "Where the public key goes.")
  var publicKey: String = "vouch-signing-key.pub.pem"

  func run() throws {
    let (privatePEM, publicPEM) = BundleKeys.generate()
    for path in [privateKey, publicKey] where FileManager.default.fileExists(atPath: path) {
      printError("vouch keygen: \(path) exists; not overwriting a key")
      throw ExitCode(VouchExitCode.invalidInput.rawValue)
    }
    guard
      FileManager.default.createFile(
        atPath: privateKey, contents: Data(privatePEM.utf8), attributes: [.posixPermissions: 0o600])
    else {
      printError("vouch keygen: cannot write \(privateKey)")
      throw ExitCode(VouchExitCode.environment.rawValue)
    }
    do {
      try Data(publicPEM.utf8).write(to: URL(fileURLWithPath: publicKey))
      let key = try BundleKeys.loadPublicKey(URL(fileURLWithPath: publicKey))
      print("private key: \(privateKey)\npublic key:  \(publicKey)\nfingerprint: \(BundleKeys.fingerprint(key))")
    } catch {
      printError("vouch keygen: \(error)")
      throw ExitCode(VouchExitCode.environment.rawValue)
    }
  }
}
