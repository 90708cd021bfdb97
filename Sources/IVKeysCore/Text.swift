/// Text helpers shared by the library and the command layer.
public enum Text {
  /// Escapes control characters (C0, DEL, C1) so that stored text cannot move the cursor or
  /// recolor a terminal: `\n`, `\t`, `\r`, others as `\x1b` or `\u{9b}`.
  public static func escapeControl(_ s: String) -> String {
    guard s.unicodeScalars.contains(where: needsEscape) else { return s }
    var out = ""
    for u in s.unicodeScalars {
      switch u {
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      case _ where u.value < 0x20 || u.value == 0x7f:
        out += "\\x" + hex2(u.value)
      case _ where (0x80...0x9f).contains(u.value) || u.value == 0x2028 || u.value == 0x2029:
        out += "\\u{" + String(u.value, radix: 16) + "}"
      default: out.unicodeScalars.append(u)
      }
    }
    return out
  }

  private static func needsEscape(_ u: Unicode.Scalar) -> Bool {
    u.value < 0x20 || u.value == 0x7f || (0x80...0x9f).contains(u.value)
      || u.value == 0x2028 || u.value == 0x2029
  }

  private static func hex2(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return s.count == 1 ? "0" + s : s
  }

  /// Whether a string has any control character at all.
  public static func hasControl(_ s: String) -> Bool {
    s.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f || (0x80...0x9f).contains($0.value) }
  }

  /// Edit distance counting an adjacent transposition as one edit (optimal string alignment),
  /// for "did you mean" suggestions: `lsit` is one edit from `list`.
  public static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        d[i][j] = Swift.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
        if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
          d[i][j] = Swift.min(d[i][j], d[i - 2][j - 2] + 1)
        }
      }
    }
    return d[a.count][b.count]
  }

  /// The candidate closest to `word`: a candidate it is a prefix of first, then the nearest by
  /// edit distance within a floor of a third of the word's length (at least 2).
  public static func suggestion(for word: String, among candidates: [String]) -> String? {
    if word.count >= 2, let p = candidates.first(where: { $0.hasPrefix(word) }) { return p }
    let limit = Swift.max(2, word.count / 3)
    var best: (String, Int)?
    for c in candidates {
      let d = editDistance(word, c)
      if d <= limit && d < (best?.1 ?? Int.max) { best = (c, d) }
    }
    return best?.0
  }
}
