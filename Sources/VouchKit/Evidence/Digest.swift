import Crypto
import Foundation

/// SHA-256 helpers; every digest in Vouch is lowercase hex SHA-256.
public enum Digest {
  public static func sha256(_ data: some DataProtocol) -> String {
    hex(SHA256.hash(data: data))
  }

  public static func sha256(_ text: String) -> String {
    sha256(Data(text.utf8))
  }

  /// Streams a file through SHA-256 without loading it whole.
  ///
  /// - Returns: the hex digest and the size in bytes.
  public static func sha256(fileAt url: URL) throws -> (digest: String, size: Int) {
    let handle = try FileHandle(forReadingFrom: url)
    defer { try? handle.close() }
    var hasher = SHA256()
    var size = 0
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
      hasher.update(data: chunk)
      size += chunk.count
    }
    return (hex(hasher.finalize()), size)
  }

  static func hex(_ digest: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(64)
    for byte in digest {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
  }
}
