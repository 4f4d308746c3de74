import Foundation

/// Writes a line to standard error, where diagnostics belong so standard output stays parseable.
func printError(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}
