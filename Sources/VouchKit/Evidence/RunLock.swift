import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Raised when the evidence folder cannot be used for a run.
public struct EvidenceError: Error, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Exclusive lock on an evidence folder, so two runs never write the same chain.
///
/// Uses `flock(2)`: the kernel drops the lock when the holding process dies, so a killed run can never leave a
/// lock that blocks the next one. The file's text (pid, host, start) only serves the message shown to a second run.
public final class RunLock: Sendable {
  public static let fileName = ".vouch.lock"
  private let descriptor: Int32

  /// Takes the lock or fails at once, naming the holder.
  public init(evidenceDirectory: URL, holder: String) throws(EvidenceError) {
    let path = evidenceDirectory.appendingPathComponent(Self.fileName).path
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw EvidenceError("cannot open lock file \(path): \(String(cString: strerror(errno)))")
    }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      let busy = errno == EWOULDBLOCK
      let reason = String(cString: strerror(errno))
      let current = (try? String(contentsOfFile: path, encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines)
      close(fd)
      if busy {
        let who = (current?.isEmpty ?? true) ? "another vouch run" : "another vouch run (\(current ?? ""))"
        throw EvidenceError("\(who) is writing to \(evidenceDirectory.path); this run did not start")
      }
      throw EvidenceError("cannot lock \(path): \(reason)")
    }
    ftruncate(fd, 0)
    let text = holder + "\n"
    _ = text.withCString { write(fd, $0, strlen($0)) }
    descriptor = fd
  }

  deinit {
    ftruncate(descriptor, 0)
    flock(descriptor, LOCK_UN)
    close(descriptor)
  }
}
