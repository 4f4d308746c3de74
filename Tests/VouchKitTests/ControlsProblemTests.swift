import Foundation
import Testing

@testable import VouchKit

/// One scenario per folder under Fixtures/definitions/bad; every rendered problem line is asserted exactly.
@Suite struct ControlsProblemTests {
  @Test func malformedYAMLIsLocatedAtTheParserPosition() {
    #expect(
      ControlFixtures.problems("malformed") == [
        "control.yaml:3:6: error: malformed YAML: did not find expected ',' or ']'"
          + " (while parsing a flow sequence at line 2, column 8)"
      ])
  }

  @Test func documentsThatAreNotMaps() {
    #expect(
      ControlFixtures.problems("not-a-map") == [
        "control.yaml:1:1: error: a control must be a map of keys, got a list"
          + " (start the document with id:, title:, description:, …)",
        "control.yaml:4:1: error: a control must be a map of keys, got 'just a sentence'"
          + " (start the document with id:, title:, description:, …)",
      ])
  }

  @Test func unknownKeysSuggestTheNearestKey() {
    #expect(
      ControlFixtures.problems("unknown-keys") == [
        "control.yaml:1:1: error: owner: missing required key 'owner'",
        "control.yaml:5:1: error: ownr: unknown key 'ownr' (did you mean 'owner'?)",
        "control.yaml:8:1: error: colour: unknown key 'colour' (known keys: id, title, description, criteria, owner,"
          + " severity, frequency, enabled, not_applicable, for_each, collector, expect)",
      ])
  }

  @Test func duplicateKeysAtEveryLevelAndInFlowStyle() {
    #expect(
      ControlFixtures.problems("duplicate-keys") == [
        "control.yaml:4:1: error: title: duplicate key 'title' (already set at line 2, column 1; keep one)",
        "control.yaml:13:3: error: collector.url: duplicate key 'url' (already set at line 11, column 3; keep one)",
        "control.yaml:17:1: error: expect: duplicate key 'expect' (already set at line 14, column 1; keep one)",
        "flow.yaml:8:26: error: duplicate key 'url' in this map (keep one; the rest of this file was not checked)",
      ])
  }

  @Test func wrongTypes() {
    #expect(
      ControlFixtures.problems("wrong-types") == [
        "control.yaml:2:8: error: title: expected text, got a list",
        "control.yaml:4:11: error: criteria: expected a list, e.g. [CC7.1]",
        "control.yaml:8:10: error: enabled: expected true or false, got 'maybe'",
        "control.yaml:9:12: error: collector: expected a map with kind: and parameters, got 'probe'",
        "control.yaml:11:3: error: expect: expected a list of expectations, got a map (e.g. - fact: status, equals: 200)",
        "control.yaml:20:11: error: for_each: for_each: targets, but no targets are defined"
          + " (define targets: in the variables file)",
        "control.yaml:31:11: error: for_each: expected 'targets' or a list of target names, got '5'",
      ])
  }

  @Test func missingRequiredKeysPointAtTheMapThatShouldHoldThem() {
    #expect(
      ControlFixtures.problems("missing-required") == [
        "control.yaml:1:1: error: description: missing required key 'description'",
        "control.yaml:1:1: error: criteria: missing required key 'criteria'",
        "control.yaml:1:1: error: owner: missing required key 'owner'",
        "control.yaml:1:1: error: severity: missing required key 'severity'",
        "control.yaml:1:1: error: frequency: missing required key 'frequency'",
        "control.yaml:4:3: error: collector.kind: missing required key 'kind' (known kinds: probe, stamp)",
      ])
  }

  @Test func duplicateIDsAcrossFilesNameBothLocations() {
    #expect(
      ControlFixtures.problems("duplicate-ids") == [
        "more/b.yml:2:5: error: id: duplicate id 'same', first defined at a.yaml:1:5"
          + " (ids must be unique across all definition files)"
      ])
  }

  @Test func unsafeID() {
    #expect(
      ControlFixtures.problems("unsafe-id") == [
        "control.yaml:1:5: error: id: id '../../etc/passwd' cannot name a folder"
          + " (use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100 characters)"
      ])
  }

  @Test func unknownCollectorKinds() {
    #expect(
      ControlFixtures.problems("unknown-kind") == [
        "control.yaml:9:9: error: collector.kind: unknown collector kind 'prob' (did you mean 'probe'?)",
        "control.yaml:23:9: error: collector.kind: unknown collector kind 'kubernetes' (known kinds: probe, stamp)",
      ])
  }

  @Test func badParametersOfEveryType() {
    #expect(
      ControlFixtures.problems("bad-parameters") == [
        "control.yaml:11:3: error: collector.retrys: unknown parameter 'retrys' for collector 'probe'"
          + " (did you mean 'retries'?)",
        "control.yaml:12:12: error: collector.retries: expected an integer, got 'many'",
        "control.yaml:13:12: error: collector.timeout: expected a duration, got '5x'"
          + " (write a number of seconds or 30s, 5m, 2h, 1d)",
        "control.yaml:14:12: error: collector.headers: expected a map of strings, got a list",
        "control.yaml:15:13: error: collector.contacts: expected a list, e.g. [ops@example.com]",
        "control.yaml:16:10: error: collector.since: expected a date, got 'yesterday'"
          + " (write 2026-01-31 or 2026-01-31T00:00:00Z)",
        "control.yaml:17:11: error: collector.weight: expected a number, got 'heavy'",
        "control.yaml:27:3: error: collector.url: missing required parameter 'url' (string: HTTPS address to probe)",
        "control.yaml:29:29: error: collector.contacts[1]: expected a string, got a list",
        "control.yaml:32:15: error: collector.headers.x-nested: expected a string, got a map",
      ])
  }

  @Test func collectorRejectionIsLocatedAtTheParameterValue() {
    #expect(
      ControlFixtures.problems("parameter-rejected") == [
        "control.yaml:10:8: error: collector.url: must start with https://, got 'http://example.com'"
      ])
  }

  @Test func expectationsAreCheckedAgainstTheCollectorsFacts() {
    let operators =
      "equals, not-equals, contains, not-contains, at-least, at-most, matches, not-matches, exists, one-of,"
      + " subset-of, superset-of"
    #expect(
      ControlFixtures.problems("bad-expectations") == [
        "control.yaml:12:11: error: expect[0].fact: unknown fact 'stauts' for collector 'probe' (did you mean 'status'?)",
        "control.yaml:14:11: error: expect[1].fact: fact 'status' is integer, so 'status.code' names nothing"
          + " (only map facts take a dotted path)",
        "control.yaml:17:5: error: expect[2].equal: unknown operator 'equal' (did you mean 'equals'?)",
        "control.yaml:20:5: error: expect[3].at-most: more than one operator: 'at-most' after 'at-least'"
          + " (write one expectation per operator)",
        "control.yaml:22:15: error: expect[4].at-least: 'at-least' needs a number or timestamp fact; this fact is string",
        "control.yaml:23:5: error: expect[5]: missing an operator (add one of: \(operators))",
        "control.yaml:24:5: error: expect[6].fact: missing required key 'fact'",
        "control.yaml:26:14: error: expect[7].matches: invalid regular expression: expected ']'",
        "control.yaml:27:5: error: expect[8]: expected a map with fact: and one operator, got 'just text'",
      ])
  }

  @Test func criteriaSeverityAndFrequencyValues() {
    let shape = "(expected CC1.1…CC9.99, A1.x, C1.x, PI1.x or P1.x…P8.x)"
    #expect(
      ControlFixtures.problems("field-values") == [
        "control.yaml:4:12: error: criteria[0]: 'CC10.1' is not a SOC 2 criterion \(shape)",
        "control.yaml:4:27: error: criteria[2]: 'cc6.1' is not a SOC 2 criterion \(shape)",
        "control.yaml:6:11: error: severity: unknown severity 'urgent' (one of: low, medium, high, critical)",
        "control.yaml:7:12: error: frequency: unknown frequency 'dayly' (did you mean 'daily'?)",
        "control.yaml:14:14: error: description: must not be empty",
        "control.yaml:15:11: error: criteria: must name at least one criterion (e.g. [CC7.1])",
        "control.yaml:17:11: error: severity: unknown severity 'catastrophic' (one of: low, medium, high, critical)",
        "control.yaml:18:12: error: frequency: unknown frequency '0d'"
          + " (one of hourly, daily, weekly, monthly, quarterly, yearly, or <n>h / <n>d)",
      ])
  }

  @Test func forEachTargetsAndTargetVariables() {
    #expect(
      ControlFixtures.problems("for-each", controls: "controls", variables: "vars.yaml") == [
        "controls/control.yaml:8:24: error: for_each[1]: unknown target 'stagin' (did you mean 'staging'?)",
        "controls/control.yaml:11:8: error: collector.url: unknown variable 'target.zone' for target 'production'"
          + " (define zone under targets.production in the variables file)",
        "controls/control.yaml:22:8: error: collector.url: '${target.region}' is only available in a control with"
          + " for_each (add for_each: targets, or use ${vars.region})",
        "controls/control.yaml:31:11: error: for_each: for_each lists no targets"
          + " (name targets, write for_each: targets, or remove for_each)",
      ])
  }

  @Test func variableMistakesInBothFiles() {
    #expect(
      ControlFixtures.problems("variables", controls: "controls", variables: "vars.yaml") == [
        "vars.yaml:5:5: error: vars.nested: a variable must be a scalar or a list of scalars"
          + " (split nested values into separate variables)",
        "vars.yaml:6:1: error: colours: unknown key 'colours' (known keys: vars, targets)",
        "vars.yaml:8:3: error: targets.bad/name: target name 'bad/name' cannot name a folder"
          + " (use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100 characters)",
        "vars.yaml:11:5: error: targets.ok.name: 'name' is reserved for the target's own name"
          + " (${target.name} is always 'ok'; rename this variable)",
        "controls/control.yaml:10:8: error: collector.url: unknown variable 'vars.regoin' (did you mean 'vars.region'?)",
        "controls/control.yaml:12:17: error: collector.headers.x-contacts: '${vars.contacts}' is a list and cannot be"
          + " part of a longer string (use it as the whole value: ${vars.contacts})",
        "controls/control.yaml:13:13: error: collector.headers.x-open: unterminated '${' in '${vars.region'"
          + " (close it with '}', or write '$${' for a literal '${')",
        "controls/control.yaml:14:18: error: collector.headers.x-namespace: unknown variable namespace 'var' in"
          + " '${var.region}' (did you mean 'vars.region'?)",
      ])
  }

  @Test func missingEnvironmentVariableIsAnErrorByDefault() {
    #expect(
      ControlFixtures.problems("environment") == [
        "control.yaml:12:20: error: collector.headers.authorization: environment variable 'API_TOKEN' is not set"
          + " (export API_TOKEN before running)"
      ])
  }
}
