import ArgumentParser
import Foundation
import VouchKit

@main
struct Vouch: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vouch",
    abstract: "Collects tamper-evident SOC 2 evidence from control definitions.",
    discussion: """
      Exit codes: 0 all controls passed, 1 a control failed (verify: integrity problem), 2 a control could not \
      collect evidence, 3 invalid definitions or usage, 4 the evidence or reports folder could not be used.
      """,
    version: VouchVersion.current,
    subcommands: [
      Run.self, Validate.self, Verify.self, Report.self, Keygen.self, Prune.self, Sample.self, Collectors.self,
      Explain.self, SecurityTxt.self, TLS.self,
    ]
  )

  /// Maps argument-parser's usage failures (64) to Vouch's documented code 3.
  static func main() async {
    loggingBootstrap
    // A scan starts with OpenSSL's one-time initialisation (≈ 3 ms); let it run beside argument parsing.
    if CommandLine.arguments.dropFirst().first == TLS.configuration.commandName { TLSScanner.prepare() }
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch let code as ExitCode {
      // A command's own exit status has no message; argument-parser would still lay out help text to find that out.
      Foundation.exit(code.rawValue)
    } catch {
      if exitCode(for: error) == .validationFailure {
        printError(fullMessage(for: error))
        Foundation.exit(VouchExitCode.invalidInput.rawValue)
      }
      exit(withError: error)
    }
  }
}
