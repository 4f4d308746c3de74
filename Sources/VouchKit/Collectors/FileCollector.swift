import Foundation

/// Evidence kept by people: a document someone attests to (the hosting provider's SOC 2 report, a signed policy).
///
/// The file is copied into the bundle byte for byte, so the auditor sees exactly what was attested, and its age is
/// measured from the date of the last review so an overdue review fails the control.
public struct FileCollector: Collector {
  public static let kind = "file"
  public static let summary = "Copies an attested document into the bundle and measures how long ago it was reviewed"

  public static let parameters: [ParameterSpec] = [
    ParameterSpec("path", .string, required: true, "the document; relative paths resolve from where vouch runs"),
    ParameterSpec("attested_by", .string, required: true, "who vouches for the document (name or role)"),
    ParameterSpec("reviewed_at", .date, required: true, "when it was last reviewed (2026-01-31 or RFC 3339)"),
    ParameterSpec("media_type", .string, default: "application/octet-stream", "media type recorded for the copy"),
  ]

  public static let facts: [FactSpec] = [
    FactSpec("sha256", .string, "SHA-256 of the document", evidence: ["document-<file name>"]),
    FactSpec("size", .integer, "size in bytes", evidence: ["document-<file name>"]),
    FactSpec("file_name", .string, "the document's file name", evidence: ["document-<file name>"]),
    FactSpec("attested_by", .string, "who vouches for it", evidence: ["attestation.json"]),
    FactSpec("reviewed_at", .timestamp, "last review", evidence: ["attestation.json"]),
    FactSpec("age_days", .integer, "whole days since the last review", evidence: ["attestation.json"]),
  ]

  let path: String
  let attestedBy: String
  let reviewedAt: Date
  let mediaType: String

  public init(parameters: Parameters) throws(ParameterError) {
    path = try parameters.requiredString("path")
    guard !path.isEmpty else { throw ParameterError("path", "is empty") }
    attestedBy = try parameters.requiredString("attested_by")
    guard !attestedBy.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw ParameterError("attested_by", "must name who vouches for the document")
    }
    guard let reviewed = parameters.date("reviewed_at") else { throw ParameterError("reviewed_at", "is required") }
    reviewedAt = reviewed
    mediaType = parameters.string("media_type") ?? "application/octet-stream"
  }

  /// What `attestation.json` records beside the copy.
  struct Attestation: Codable {
    let source: String
    let fileName: String
    let sha256: String
    let size: Int
    let attestedBy: String
    let reviewedAt: Date
    let collectedAt: Date
  }

  public func collect(_ context: CollectionContext) async throws -> CollectorOutput {
    let source = URL(fileURLWithPath: path, relativeTo: context.baseDirectory).standardizedFileURL
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: source.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
      throw ArtifactError("attested document \(source.path) does not exist or is a folder; fix `path` or restore the file")
    }
    let now = context.clock.now()
    guard reviewedAt <= now else {
      throw ArtifactError("reviewed_at \(Timestamp.format(reviewedAt)) is in the future (now \(Timestamp.format(now)))")
    }
    let copyName = Self.artifactName(for: source.lastPathComponent)
    let copy = try context.artifacts.copy(
      from: source, as: copyName, mediaType: mediaType, summary: "copy of \(source.lastPathComponent)")
    let attestation = Attestation(
      source: source.path, fileName: source.lastPathComponent, sha256: copy.sha256, size: copy.size,
      attestedBy: attestedBy, reviewedAt: reviewedAt, collectedAt: now)
    let record = try context.artifacts.write(
      "attestation.json", data: try BundleJSON.encode(attestation), mediaType: "application/json",
      summary: "who attested the document and when it was reviewed")
    let ageDays = Int(now.timeIntervalSince(reviewedAt) / 86_400)
    let facts: [String: FactValue] = [
      "sha256": .string(copy.sha256), "size": .integer(copy.size), "file_name": .string(source.lastPathComponent),
      "attested_by": .string(attestedBy), "reviewed_at": .string(Timestamp.format(reviewedAt)),
      "age_days": .integer(ageDays),
    ]
    var evidence: [String: [String]] = [:]
    for name in ["sha256", "size", "file_name"] { evidence[name] = [copy.path] }
    for name in ["attested_by", "reviewed_at", "age_days"] { evidence[name] = [record.path] }
    return CollectorOutput(facts: facts, evidence: evidence, evidenceDate: reviewedAt)
  }

  /// A safe artifact name that keeps the original extension readable (`document-soc2-report.pdf`).
  static func artifactName(for fileName: String) -> String {
    let cleaned = String(
      fileName.unicodeScalars.map { scalar -> Character in
        let safe = CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII || "._-".unicodeScalars.contains(scalar)
        return safe ? Character(scalar) : "_"
      })
    return "document-" + cleaned.trimmingCharacters(in: CharacterSet(charactersIn: "."))
  }
}
