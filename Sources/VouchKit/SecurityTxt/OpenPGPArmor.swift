import Foundation

/// ASCII armour (RFC 4880 §6): the base64 body of a signature or key block and its CRC-24 checksum.
public enum OpenPGPArmor {
  /// Why an armour block is unusable, phrased for a diagnostic.
  public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
  }

  /// Decodes the lines between an armour block's blank line and its END line.
  ///
  /// - Parameter lines: base64 lines, the last optionally the `=XXXX` checksum.
  /// - Parameter packetTags: OpenPGP packet tags the first packet may have (2 signature, 6 public key).
  public static func decode(_ lines: [Substring], packetTags: Set<UInt8>) throws(Problem) -> Data {
    var body = lines
    var checksum: [UInt8]?
    if let last = body.last, last.hasPrefix("=") {
      guard let decoded = base64(Array(last.utf8.dropFirst())), decoded.count == 3 else {
        throw Problem("the armour checksum '\(last)' is not '=' followed by 4 base64 characters")
      }
      checksum = decoded
      body.removeLast()
    }
    guard !body.isEmpty else { throw Problem("the armour block holds no data") }
    var characters: [UInt8] = []
    characters.reserveCapacity(body.reduce(0) { $0 + $1.utf8.count })
    for line in body { characters.append(contentsOf: line.utf8) }
    guard let bytes = base64(characters) else { throw Problem("the armour block is not valid base64") }
    if let checksum {
      let crc = crc24(bytes)
      guard checksum == [UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)] else {
        throw Problem("the armour checksum does not match its data (the block was altered or truncated)")
      }
    }
    guard let header = bytes.first, header & 0x80 != 0 else {
      throw Problem("the armour block does not start with an OpenPGP packet")
    }
    let tag = header & 0x40 != 0 ? header & 0x3F : (header >> 2) & 0x0F
    guard packetTags.contains(tag) else {
      throw Problem("the armour block holds an OpenPGP packet of type \(tag), not the expected \(packetTags.sorted())")
    }
    return Data(bytes)
  }

  /// The binary packets of an armoured block found anywhere in `text` between `BEGIN` and `END` lines of `label`.
  public static func dearmor(_ text: String, label: String, packetTags: Set<UInt8>) throws(Problem) -> Data {
    let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map {
      $0.trimmingTrailingWhitespace()
    }
    guard let begin = lines.firstIndex(of: "-----BEGIN \(label)-----"[...]) else {
      throw Problem("no '-----BEGIN \(label)-----' line")
    }
    guard let end = lines[begin...].firstIndex(of: "-----END \(label)-----"[...]) else {
      throw Problem("no '-----END \(label)-----' line")
    }
    guard let blank = lines[begin..<end].firstIndex(where: \.isEmpty) else {
      throw Problem("no blank line after the armour headers")
    }
    return try decode(Array(lines[(blank + 1)..<end]), packetTags: packetTags)
  }

  static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
  static let decodeTable: [UInt8] = {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
    return table
  }()

  /// Strict base64 with `=` padding; `nil` on any other character.
  static func base64(_ input: [UInt8]) -> [UInt8]? {
    guard input.count % 4 == 0 else { return nil }
    var output: [UInt8] = []
    output.reserveCapacity(input.count / 4 * 3)
    var index = 0
    while index < input.count {
      let last = index + 4 == input.count
      let padding = last ? (input[index + 3] == 0x3D ? (input[index + 2] == 0x3D ? 2 : 1) : 0) : 0
      var triple: UInt32 = 0
      for offset in 0..<4 {
        let value = offset < 4 - padding ? decodeTable[Int(input[index + offset])] : 0
        guard value != 0xFF else { return nil }
        triple = triple << 6 | UInt32(value)
      }
      output.append(UInt8(triple >> 16 & 0xFF))
      if padding < 2 { output.append(UInt8(triple >> 8 & 0xFF)) }
      if padding < 1 { output.append(UInt8(triple & 0xFF)) }
      index += 4
    }
    return output
  }

  /// The CRC-24 of RFC 4880 §6.1, a byte at a time from a table.
  static func crc24(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xB7_04CE
    for byte in bytes {
      crc = (crc << 8) ^ crc24Table[Int((crc >> 16 ^ UInt32(byte)) & 0xFF)]
    }
    return crc & 0xFF_FFFF
  }

  static let crc24Table: [UInt32] = (0..<256).map { index in
    var crc = UInt32(index) << 16
    for _ in 0..<8 {
      crc <<= 1
      if crc & 0x100_0000 != 0 { crc ^= 0x186_4CFB }
    }
    return crc & 0xFF_FFFF
  }
}

extension Substring {
  /// Without trailing spaces, tabs and carriage returns: RFC 9116 `eol = *WSP [CR] LF`.
  func trimmingTrailingWhitespace() -> Substring {
    var end = endIndex
    while end > startIndex {
      let previous = index(before: end)
      let character = self[previous]
      guard character == " " || character == "\t" || character == "\r" else { break }
      end = previous
    }
    return self[startIndex..<end]
  }

  /// Without leading and trailing spaces and tabs (the `*WSP` around list separators).
  func trimmingSpacesAndTabs() -> Substring {
    let start = firstIndex { $0 != " " && $0 != "\t" } ?? endIndex
    let end = self[start...].lastIndex { $0 != " " && $0 != "\t" }.map { index(after: $0) } ?? start
    return self[start..<end]
  }
}
