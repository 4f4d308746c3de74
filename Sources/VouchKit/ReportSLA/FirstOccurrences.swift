/// Every valid report id seen and where it first occurred, to reject later duplicates by naming the first.
///
/// An open-addressing table over the ids' bytes (`IDHash`, computed by the task that read the record): a million ids
/// cost one probe each, usually one cache miss, instead of a `[String: RecordLocation]` dictionary's string hashing,
/// retains and 60-byte entries.
struct FirstOccurrences {
  /// Per slot: 0 when empty, else the upper half of the id's hash and its entry number plus one.
  private var slots: [UInt64]
  private var mask: Int
  /// Entry `n`'s key is `keys[keyEnds[n]..<keyEnds[n + 1]]`.
  private var keys: [UInt8] = []
  private var keyEnds: [Int] = [0]
  private var locations: [Location] = []
  private let seed: UInt64

  /// Where an id first occurred: its record number and, for HackerOne pages, the page.
  struct Location {
    let number: Int
    let page: Int
  }

  /// Starts small; `reserve` sizes the table once the input's size is known.
  init(seed: UInt64) {
    self.seed = seed
    slots = [UInt64](repeating: 0, count: 1024)
    mask = slots.count - 1
  }

  /// Resizes for about `expected` ids, sparing a million-row input repeated rehashing.
  mutating func reserve(_ expected: Int) {
    var capacity = slots.count
    while capacity * 7 / 10 < expected { capacity *= 2 }
    if capacity > slots.count { rehash(capacity) }
    keyEnds.reserveCapacity(expected + 1)
    locations.reserveCapacity(expected)
    keys.reserveCapacity(expected * 12)
  }

  /// The first occurrence of `key`, or nil after recording this one as the first.
  mutating func firstOccurrence(
    of key: UnsafeRawBufferPointer, hash: UInt64, location: Location
  ) -> Location? {
    let tag = hash >> 32
    var slot = Int(truncatingIfNeeded: hash) & mask
    while true {
      let entry = slots[slot]
      if entry == 0 { break }
      if entry >> 32 == tag {
        let index = Int(entry & 0xFFFF_FFFF) - 1
        let stored = keys[keyEnds[index]..<keyEnds[index + 1]]
        if stored.elementsEqual(key) { return locations[index] }
      }
      slot = (slot + 1) & mask
    }
    slots[slot] = tag << 32 | UInt64(locations.count + 1)
    keys.append(contentsOf: key)
    keyEnds.append(keys.count)
    locations.append(location)
    if locations.count * 10 > slots.count * 7 { rehash(slots.count * 2) }
    return nil
  }

  private mutating func rehash(_ capacity: Int) {
    slots = [UInt64](repeating: 0, count: capacity)
    mask = capacity - 1
    keys.withUnsafeBytes { all in
      for index in locations.indices {
        let key = UnsafeRawBufferPointer(rebasing: all[keyEnds[index]..<keyEnds[index + 1]])
        let hash = IDHash.hash(key, seed: seed)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = (hash >> 32) << 32 | UInt64(index + 1)
      }
    }
  }
}
