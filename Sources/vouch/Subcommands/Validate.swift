import ArgumentParser
import Foundation
import VouchKit

struct Validate: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate",
    abstract: "Check every control definition without running anything, listing all problems.",
    discussion: """
      Missing ${env.NAME} variables are warnings here (secrets are often absent where definitions are edited) and \
      errors in `vouch run`. Exits 0 when the definitions are valid, 3 when not.
      """
  )

  @Argument(help: "The controls folder.")
  var directory: String = "controls"

  @Option(name: .customLong("vars"), help: "Variables file (vars: and targets:).")
  var variables: String?

  @Option(help: "Folder of waiver files to check against the controls (default: waivers, when it exists).")
  var waivers: String?

  func run() throws {
    let loader = ControlLoader(environment: ProcessInfo.processInfo.environment, requireEnvironment: false)
    do {
      let catalog = try loader.load(
        directory: URL(fileURLWithPath: directory), variables: variables.map { URL(fileURLWithPath: $0) })
      for warning in catalog.warnings { printError(warning.description) }
      let files = catalog.files.count
      print("\(catalog.controls.count) control(s) in \(files) file(s) are valid")
      if let folder = WaiverLoader.folder(waivers) {
        let loaded = try WaiverLoader(controlIDs: catalog.controls.map(\.id)).load(directory: URL(fileURLWithPath: folder))
        print("\(loaded.waivers.count) waiver(s) in \(loaded.files.count) file(s) are valid")
      }
    } catch {
      printError(error.description)
      throw ExitCode(VouchExitCode.invalidInput.rawValue)
    }
  }
}
