import ArgumentParser
import VouchKit

struct Collectors: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "collectors", abstract: "List the collectors and the facts each publishes.")

  func run() {
    for collector in CollectorRegistry.builtIn {
      print("\(collector.kind): \(collector.summary)")
      print("  facts: " + collector.facts.map(\.name).joined(separator: ", "))
    }
    print("\nSee `vouch explain KIND` for parameters, fact types and evidence files.")
  }
}
