/// "Did you mean" hints, so a typo in a definition is fixed from the message alone.
enum Suggestions {
  /// Levenshtein edit distance, counted in characters.
  static func distance(_ lhs: String, _ rhs: String) -> Int {
    let left = Array(lhs)
    let right = Array(rhs)
    if left.isEmpty { return right.count }
    if right.isEmpty { return left.count }
    var previous = Array(0...right.count)
    var current = [Int](repeating: 0, count: right.count + 1)
    for i in 1...left.count {
      current[0] = i
      for j in 1...right.count {
        let cost = left[i - 1] == right[j - 1] ? 0 : 1
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
      }
      swap(&previous, &current)
    }
    return previous[right.count]
  }

  /// The closest candidate when it is close enough to be a plausible typo; ties go to the earlier candidate.
  static func nearest(to word: String, in candidates: [String]) -> String? {
    let limit = max(2, word.count / 3)
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
      let score = candidate.lowercased() == word.lowercased() ? 0 : distance(word, candidate)
      if score <= limit, score < (best?.distance ?? Int.max) { best = (candidate, score) }
    }
    return best?.candidate
  }

  /// `did you mean 'x'?` when a candidate is close, otherwise the full list of what is accepted.
  static func hint(for word: String, in candidates: [String], listing noun: String) -> String? {
    if let match = nearest(to: word, in: candidates) { return "did you mean '\(match)'?" }
    if candidates.isEmpty { return nil }
    return "\(noun): \(candidates.joined(separator: ", "))"
  }
}
