import Foundation
import Testing

@testable import VouchKit

/// The good catalogue (vars, for_each, env, several documents per file) and I/O failures.
@Suite struct ControlsLoaderTests {
  static let good = ControlFixtures.root.appendingPathComponent("good")

  static func loadGood(environment: [String: String] = ["STATUS_TOKEN": "s3cret"]) throws -> ControlCatalog {
    try ControlFixtures.loader(environment: environment).load(
      directory: good.appendingPathComponent("controls"),
      variables: good.appendingPathComponent("vars/production.yaml"))
  }

  @Test func resolvesVariablesTargetsAndEnvironment() throws {
    let catalog = try Self.loadGood()
    #expect(catalog.controls.map(\.id) == ["access.mfa", "access.review", "network.tls.eu", "network.tls.us"])
    #expect(catalog.warnings.isEmpty)

    let mfa = try #require(catalog.controls.first { $0.id == "access.mfa" })
    #expect(mfa.collector.kind == "probe")
    #expect(
      mfa.collector.parameters
        == Parameters([
          "url": .string("https://status.example.com/mfa"),
          "retries": .integer(3),
          "contacts": .stringList(["security@example.com", "ops@example.com"]),
          "headers": .stringMap(["authorization": "Bearer s3cret", "x-literal": "${not.a.variable}"]),
          "timeout": .duration(300),
          "since": .date(Date(timeIntervalSince1970: 1_769_817_600)),
        ]))
    #expect(mfa.secrets == ["s3cret"])
    #expect(mfa.severity == .high)
    #expect(mfa.frequency.seconds == 86_400)
    #expect(mfa.enabled)
    #expect(mfa.target == nil)
    #expect(
      mfa.expectations == [
        Expectation(fact: "status", op: .equals, operand: .integer(200)),
        Expectation(fact: "headers.content-type", op: .contains, operand: .string("json")),
      ])
    #expect(mfa.collector.collector is ProbeCollector)

    let review = try #require(catalog.controls.first { $0.id == "access.review" })
    #expect(review.criteria == ["CC7.1", "CC7.2"])
    #expect(review.enabled == false)
    #expect(review.collector.parameters.duration("timeout") == 90)
    #expect(review.secrets.isEmpty)
    #expect(review.source.line == 25 && review.source.column == 1)
    #expect(review.expectations == [Expectation(fact: "tags", op: .supersetOf, operand: .list([.string("reviewed")]))])

    let eu = try #require(catalog.controls.first { $0.id == "network.tls.eu" })
    #expect(eu.target == "eu")
    #expect(eu.frequency.seconds == 43_200)
    #expect(eu.collector.parameters.string("url") == "https://eu.example.com/health")
    #expect(eu.collector.parameters.stringList("contacts") == ["oncall-eu@example.com"])
    let us = try #require(catalog.controls.first { $0.id == "network.tls.us" })
    #expect(us.collector.parameters.string("url") == "https://us.example.com/health")
  }

  @Test func recordsEveryFileWithItsDigest() throws {
    let catalog = try Self.loadGood()
    let expected = try ["vars/production.yaml", "controls/access.yaml", "controls/network/tls.yml"].map { name in
      let url = Self.good.appendingPathComponent(name)
      return DefinitionFile(path: ControlFixtures.displayed(url), sha256: Digest.sha256(try Data(contentsOf: url)))
    }
    #expect(catalog.files == expected)
    let access = try #require(catalog.controls.first { $0.id == "access.mfa" })
    #expect(access.sourceDigest == expected[1].sha256)
    #expect(access.source == SourceLocation(file: expected[1].path, line: 2, column: 1))
    let tls = try #require(catalog.controls.first { $0.id == "network.tls.us" })
    #expect(tls.sourceDigest == expected[2].sha256)
  }

  @Test func missingEnvironmentIsAWarningWhenNotRequired() throws {
    let directory = ControlFixtures.root.appendingPathComponent("bad/environment")
    let catalog = try ControlFixtures.loader(requireEnvironment: false).load(directory: directory, variables: nil)
    let file = ControlFixtures.displayed(directory.appendingPathComponent("control.yaml"))
    #expect(
      catalog.warnings.map(\.description) == [
        "\(file):12:20: warning: collector.headers.authorization: environment variable 'API_TOKEN' is not set"
          + " (export API_TOKEN before running)"
      ])
    #expect(catalog.controls.first?.collector.parameters.stringMap("headers") == ["authorization": "Bearer "])
  }

  @Test func missingDirectoryIsAProblemNotACrash() {
    let directory = ControlFixtures.root.appendingPathComponent("bad/does-not-exist")
    #expect(
      ControlFixtures.problems("does-not-exist") == [
        "\(ControlFixtures.displayed(directory)):1:1: error: controls directory not found"
          + " (pass the folder holding *.yaml)"
      ])
  }

  @Test func emptyDirectoryMissingVariablesAndInvalidUTF8() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-controls-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let variables = directory.appendingPathComponent("missing-vars.yaml")

    let empty = #expect(throws: DefinitionErrors.self) {
      try ControlFixtures.loader().load(directory: directory, variables: variables)
    }
    #expect(empty?.problems.map(\.message).first?.hasPrefix("cannot read file: ") == true)
    #expect(
      empty?.problems.dropFirst().map(\.description) == [
        "\(ControlFixtures.displayed(directory)):1:1: error: no control definitions found"
          + " (add *.yaml or *.yml files to this folder)"
      ])

    let binary = directory.appendingPathComponent("binary.yaml")
    try Data([0x69, 0x64, 0x3a, 0x20, 0xff, 0xfe]).write(to: binary)
    let undecodable = #expect(throws: DefinitionErrors.self) {
      try ControlFixtures.loader().load(directory: directory, variables: nil)
    }
    #expect(
      undecodable?.problems.map(\.description) == [
        "\(ControlFixtures.displayed(binary)):1:1: error: file is not valid UTF-8"
      ])
  }

  @Test func errorsCarryEveryProblemAndACount() {
    let errors = #expect(throws: DefinitionErrors.self) {
      try ControlFixtures.loader().load(
        directory: ControlFixtures.root.appendingPathComponent("bad/unknown-kind"), variables: nil)
    }
    #expect(errors?.problems.count == 2)
    #expect(errors?.description.hasSuffix("\n2 error(s) in control definitions") == true)
  }
}
