import ArgumentParser
import VouchKit

@main
struct Vouch: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vouch",
    abstract: "Collects tamper-evident SOC 2 evidence from control definitions.",
    version: VouchVersion.current,
    subcommands: []
  )
}
