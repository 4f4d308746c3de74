import ArgumentParser
import VouchKit

struct Explain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract: "Show a collector's parameters, facts and the operators expectations may use.")

  @Argument(help: "A collector kind, as listed by `vouch collectors`.")
  var kind: String

  func validate() throws {
    guard CollectorRegistry.kinds.contains(kind) else {
      let known = CollectorRegistry.kinds.joined(separator: ", ")
      throw ValidationError("unknown collector kind '\(kind)'; known kinds: \(known)")
    }
  }

  func run() throws {
    guard let collector = CollectorRegistry.collector(kind: kind) else { return }
    print("\(collector.kind): \(collector.summary)\n\nParameters:")
    for parameter in collector.parameters {
      let requirement = parameter.required ? "required" : "optional" + (parameter.defaultValue.map { ", default \($0)" } ?? "")
      print("  \(parameter.name) (\(parameter.type.rawValue), \(requirement)): \(parameter.summary)")
    }
    print("\nFacts:")
    for fact in collector.facts {
      let evidence = fact.evidence.isEmpty ? "" : " [evidence: \(fact.evidence.joined(separator: ", "))]"
      print("  \(fact.name) (\(fact.type.rawValue)): \(fact.summary)\(evidence)")
    }
    print("\nOperators (in `expect:` entries, `- fact: NAME` plus one of these):")
    for op in ExpectationOperator.allCases {
      print("  \(op.rawValue): \(op.summary)")
    }
  }
}
