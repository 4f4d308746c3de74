import Foundation

/// Where formatted bytes go: an array for messages, a `ByteBuffer` for the per-report table, so one formatter serves
/// both.
protocol ByteSink: ~Copyable {
  mutating func append(_ byte: UInt8)
  mutating func append(_ bytes: UnsafeBufferPointer<UInt8>)
  /// Appends `count` bytes that `write` puts in place.
  mutating func append(count: Int, _ write: (UnsafeMutablePointer<UInt8>) -> Void)
}

extension Array: ByteSink where Element == UInt8 {
  mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) { append(contentsOf: bytes) }

  mutating func append(count: Int, _ write: (UnsafeMutablePointer<UInt8>) -> Void) {
    let start = self.count
    append(contentsOf: repeatElement(0, count: count))
    withUnsafeMutableBufferPointer { buffer in
      if let base = buffer.baseAddress { write(base + start) }
    }
  }
}

/// A growable byte buffer written through a raw pointer: formatting a million rows byte by byte through an array's
/// uniqueness and capacity checks costs more than the formatting. Owned by one task; never copied.
struct ByteBuffer: ~Copyable, ByteSink {
  private(set) var base: UnsafeMutablePointer<UInt8>
  private(set) var count = 0
  private var capacity: Int

  init(capacity: Int) {
    self.capacity = max(capacity, 64)
    base = .allocate(capacity: self.capacity)
  }

  deinit { base.deallocate() }

  var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

  @inline(__always)
  mutating func reserve(_ extra: Int) {
    if count + extra > capacity { grow(to: count + extra) }
  }

  private mutating func grow(to needed: Int) {
    var newCapacity = capacity * 2
    while newCapacity < needed { newCapacity *= 2 }
    let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
    newBase.update(from: base, count: count)
    base.deallocate()
    base = newBase
    capacity = newCapacity
  }

  @inline(__always)
  mutating func append(_ byte: UInt8) {
    reserve(1)
    base[count] = byte
    count += 1
  }

  @inline(__always)
  mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
    reserve(bytes.count)
    (base + count).update(from: source, count: bytes.count)
    count += bytes.count
  }

  @inline(__always)
  mutating func append(count: Int, _ write: (UnsafeMutablePointer<UInt8>) -> Void) {
    reserve(count)
    write(base + self.count)
    self.count += count
  }

  mutating func removeAll() { count = 0 }

  /// The bytes as an array, to hand to another task.
  func array() -> [UInt8] { Array(bytes) }
}

/// Byte-level helpers for fields that are read without making a `String`.
enum FieldBytes {
  /// Without spaces and tabs at either end, as `ASCIITrim` does for strings.
  @inline(__always)
  static func trim(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
    var start = 0
    var end = bytes.count
    while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
    while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
    return UnsafeBufferPointer(rebasing: bytes[start..<end])
  }

  @inline(__always)
  static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var combined: UInt8 = 0
    for byte in bytes { combined |= byte }
    return combined < 0x80
  }

  /// The text as Swift reads it: invalid UTF-8 replaced, as `String(decoding:as:)` does for every field.
  static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    String(decoding: bytes, as: UTF8.self)
  }

  /// Whether `bytes`, lower-cased as ASCII, equal `word` (itself lower-case ASCII).
  static func equalsLowercased(_ bytes: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
    guard bytes.count == word.utf8CodeUnitCount else { return false }
    let letters = word.utf8Start
    for index in 0..<bytes.count where asciiLower(bytes[index]) != letters[index] { return false }
    return true
  }

  @inline(__always)
  static func asciiLower(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
  }
}
