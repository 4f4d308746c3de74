import Foundation

/// Runs a child process and awaits its exit without blocking a thread of the cooperative pool, so a test that waits
/// seconds for a child does not starve tests that measure timeouts.
enum AsyncCommand {
  struct Finished {
    let status: Int32
    let output: String
  }

  static func run(
    _ executable: URL, _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil
  ) async throws -> Finished {
    let scratch = try TestScratch.makeDirectory("command")
    let outputFile = scratch.appendingPathComponent("output.txt")
    guard FileManager.default.createFile(atPath: outputFile.path, contents: nil) else {
      throw Command.Failure(description: "cannot create \(outputFile.path) for the output of \(executable.path)")
    }
    let output = try FileHandle(forWritingTo: outputFile)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = directory
    if let environment { process.environment = environment }
    process.standardOutput = output
    process.standardError = output
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
      process.terminationHandler = { finished in
        TestScratch.forget(child: finished.processIdentifier)
        continuation.resume(returning: finished.terminationStatus)
      }
      do {
        try process.run()
        TestScratch.register(child: process.processIdentifier)
      } catch {
        continuation.resume(throwing: error)
      }
    }
    try output.close()
    return Finished(status: status, output: try String(contentsOf: outputFile, encoding: .utf8))
  }
}
