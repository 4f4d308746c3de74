import Foundation
import Testing

@testable import VouchKit

/// The building blocks: suggestions, parameter conversion and reference substitution.
@Suite struct ControlsUnitTests {
  @Test func levenshteinDistance() {
    #expect(Suggestions.distance("kitten", "sitting") == 3)
    #expect(Suggestions.distance("", "abc") == 3)
    #expect(Suggestions.distance("owner", "owner") == 0)
  }

  @Test func suggestsOnlyPlausibleTypos() {
    #expect(Suggestions.nearest(to: "ownr", in: ControlBuilder.keys) == "owner")
    #expect(Suggestions.nearest(to: "Title", in: ControlBuilder.keys) == "title")
    #expect(Suggestions.nearest(to: "colour", in: ControlBuilder.keys) == nil)
    #expect(Suggestions.hint(for: "zzz", in: ["a", "b"], listing: "known") == "known: a, b")
  }

  private func node(_ yaml: String) throws -> YAMLNode {
    let source = YAMLSource(text: "value: \(yaml)", file: "test.yaml")
    let entry = try #require(source.documents.first?.entries?.first)
    return entry.value
  }

  @Test func durations() throws {
    #expect(try ParameterConversion.duration(node("90")) == 90)
    #expect(try ParameterConversion.duration(node("30s")) == 30)
    #expect(try ParameterConversion.duration(node("1.5m")) == 90)
    #expect(try ParameterConversion.duration(node("2h")) == 7_200)
    #expect(try ParameterConversion.duration(node("1d")) == 86_400)
    #expect(throws: ConversionError.self) { try ParameterConversion.duration(node("-5s")) }
    #expect(throws: ConversionError.self) { try ParameterConversion.duration(node(".inf")) }
    #expect(throws: ConversionError.self) { try ParameterConversion.duration(node("\"90\"")) }
  }

  @Test func dates() throws {
    #expect(try ParameterConversion.date(node("2026-01-31")) == Date(timeIntervalSince1970: 1_769_817_600))
    #expect(try ParameterConversion.date(node("2026-01-31T01:00:00Z")) == Date(timeIntervalSince1970: 1_769_821_200))
    #expect(throws: ConversionError.self) { try ParameterConversion.date(node("2026-13-01")) }
  }

  @Test func integersMustBeWrittenAsIntegers() throws {
    #expect(try ParameterConversion.convert(node("3"), to: .integer) == .integer(3))
    #expect(throws: ConversionError.self) { try ParameterConversion.convert(node("\"3\""), to: .integer) }
    #expect(try ParameterConversion.convert(node("3"), to: .number) == .number(3))
    #expect(try ParameterConversion.convert(node("3"), to: .string) == .string("3"))
  }

  private func substitute(_ yaml: String, environment: [String: String] = [:]) throws -> (YAMLNode, Substitution) {
    var variables = VariableSet()
    variables.vars = try ["port": node("8443"), "hosts": node("[a, b]"), "name": node("web")]
    var substitution = Substitution(
      variables: variables, environment: environment, requireEnvironment: true, file: "test.yaml", scope: .none)
    let result = substitution.apply(to: try node(yaml), path: "value")
    return (result, substitution)
  }

  @Test func aLoneReferenceKeepsTheVariablesType() throws {
    #expect(try substitute("${vars.port}").0.factValue == .integer(8443))
    #expect(try substitute("${vars.hosts}").0.factValue == .list([.string("a"), .string("b")]))
    #expect(try substitute("\"${vars.port}/x\"").0.factValue == .string("8443/x"))
  }

  @Test func escapesAndSecrets() throws {
    let (escaped, clean) = try substitute("\"$${vars.name} is ${vars.name}\"")
    #expect(escaped.factValue == .string("${vars.name} is web"))
    #expect(clean.problems.isEmpty && clean.secrets.isEmpty)

    let (secret, tracked) = try substitute("\"token ${env.TOKEN}\"", environment: ["TOKEN": "abc123"])
    #expect(secret.factValue == .string("token abc123"))
    #expect(tracked.secrets == ["abc123"])
  }
}
