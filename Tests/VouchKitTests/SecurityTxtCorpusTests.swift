import Foundation
import Testing

@testable import VouchKit

/// One row of the corpus index: a real-world or fixture file and what sectxt 0.9.8 said about it.
struct CorpusEntry: Sendable, CustomTestStringConvertible {
  let file: String
  let fetchURL: String?
  let sectxtValid: Bool
  let sectxtErrors: [String]

  var testDescription: String { file }

  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/security-txt")
  /// The instant sectxt's verdicts were computed at; Expires-dependent codes only agree at that instant.
  static let evaluatedAt = Date(timeIntervalSince1970: 1_795_929_693)

  static let all: [CorpusEntry] = {
    guard let text = try? String(contentsOf: directory.appendingPathComponent("INDEX.tsv"), encoding: .utf8) else {
      return []
    }
    return text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("file\t") }.map { line in
      let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      let codes = columns[12] == "-" ? [] : columns[12].split(separator: ";").map(String.init)
      return CorpusEntry(
        file: columns[0], fetchURL: columns[10] == "-" ? nil : columns[10], sectxtValid: columns[11] == "valid",
        sectxtErrors: codes)
    }
  }()

  func validate() throws -> SecurityTxtReport {
    let data = try Data(contentsOf: Self.directory.appendingPathComponent(file))
    return SecurityTxtValidator(now: Self.evaluatedAt, fetchURLs: fetchURL.map { [$0] } ?? []).validate(data)
  }
}

@Suite struct SecurityTxtCorpusTests {
  /// Files where Vouch's verdict deliberately differs from sectxt's, with the error codes that decide it.
  /// Each is explained, with its RFC 9116 section, in docs/security-txt.md ("Where Vouch differs from sectxt").
  static let differences: [String: (valid: Bool, because: Set<String>)] = [
    // RFC 9116 §2.5.4: keys MUST NOT appear in Encryption; a data: URI is the key itself.
    "grapheneos_head_age_datauri.txt": (false, ["inline_key@6"])
  ]

  @Test func indexListsEveryFixture() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: CorpusEntry.directory.path)
      .filter { $0.hasSuffix(".txt") }
    #expect(CorpusEntry.all.count == 53)
    #expect(Set(files) == Set(CorpusEntry.all.map(\.file)))
  }

  @Test(arguments: CorpusEntry.all)
  func verdictMatchesSectxtOrTheDocumentedDifference(_ entry: CorpusEntry) throws {
    let report = try entry.validate()
    let errors = Set(report.diagnostics(.error).map(\.tag))
    if let difference = Self.differences[entry.file] {
      #expect(report.isValid == difference.valid, "\(report.diagnostics)")
      #expect(difference.because.isSubset(of: errors), "\(errors)")
      #expect(entry.sectxtValid != difference.valid, "not a difference any more: remove it from the table")
    } else {
      #expect(report.isValid == entry.sectxtValid, "sectxt: \(entry.sectxtErrors), vouch: \(errors.sorted())")
    }
  }
}
