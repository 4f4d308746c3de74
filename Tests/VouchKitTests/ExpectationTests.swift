import Foundation
import Testing

@testable import VouchKit

@Suite struct ExpectationTests {
  @Test func numericEqualityAcrossIntegerAndNumber() {
    let expectation = Expectation(fact: "status", op: .equals, operand: .integer(200))
    #expect(expectation.evaluate(["status": .number(200)]) == nil)
    let finding = expectation.evaluate(["status": .integer(404)])
    #expect(finding?.message == "status is 404, expected equals 200")
    #expect(finding?.actual == .integer(404))
  }
}
