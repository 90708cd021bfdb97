/// Text helpers shared by the library and the command layer.
public enum Text {
  /// Escapes what could repaint or reorder a terminal line: control characters (C0, DEL, C1),
  /// line and paragraph separators and bidirectional overrides, as `\n`, `\t`, `\r`, `\x1b` or
  /// `\u{202e}`. A backslash is doubled, so an escaped character never looks like typed text.
  public static func escapeControl(_ s: String) -> String {
    guard s.unicodeScalars.contains(where: { needsEscape($0) || $0 == "\\" }) else { return s }
    var out = ""
    for u in s.unicodeScalars {
      switch u {
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      case "\\": out += "\\\\"
      case _ where u.value < 0x20 || u.value == 0x7f:
        out += "\\x" + hex2(u.value)
      case _ where needsEscape(u):
        out += "\\u{" + String(u.value, radix: 16) + "}"
      default: out.unicodeScalars.append(u)
      }
    }
    return out
  }

  private static func needsEscape(_ u: Unicode.Scalar) -> Bool {
    let v = u.value
    return v < 0x20 || v == 0x7f || (0x80...0x9f).contains(v) || v == 0x2028 || v == 0x2029 || isBidiControl(v)
  }

  // MARK: - Bidirectional controls

  /// Whether a code point is one of Unicode's explicit bidirectional formatting characters, which
  /// reorder the text around them when displayed ("Trojan Source", CVE-2021-42574): the embeddings
  /// and overrides U+202A–U+202E, the isolates U+2066–U+2069, and the marks U+200E, U+200F and
  /// U+061C. Tables, CSV and JSON never print one as it is.
  public static func isBidiControl(_ v: UInt32) -> Bool {
    (0x202a...0x202e).contains(v) || (0x2066...0x2069).contains(v) || v == 0x200e || v == 0x200f || v == 0x61c
  }

  /// The bidirectional control whose UTF-8 encoding starts at `bytes[i]`, and its length in
  /// bytes; nil for anything else. All of them are 3 bytes from 0xE2 but U+061C (0xD8 0x9C).
  public static func bidiControl(in bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (scalar: UInt32, length: Int)? {
    let c = bytes[i]
    if c == 0xd8 {
      return i + 1 < bytes.count && bytes[i + 1] == 0x9c ? (0x61c, 2) : nil
    }
    guard c == 0xe2, i + 2 < bytes.count else { return nil }
    let v = 0x2000 | UInt32(bytes[i + 1] & 0x3f) << 6 | UInt32(bytes[i + 2] & 0x3f)
    return bytes[i + 1] & 0xc0 == 0x80 && bytes[i + 2] & 0xc0 == 0x80 && isBidiControl(v) ? (v, 3) : nil
  }

  /// `s` with each bidirectional control written as visible text, `\u{202e}` (Rust's and
  /// Swift's notation), and nothing else changed: for CSV cells, where the other characters
  /// must stay as they are.
  public static func escapeBidi(_ s: String) -> String {
    guard s.unicodeScalars.contains(where: { isBidiControl($0.value) }) else { return s }
    var out = ""
    for u in s.unicodeScalars {
      if isBidiControl(u.value) {
        out += "\\u{" + String(u.value, radix: 16) + "}"
      } else {
        out.unicodeScalars.append(u)
      }
    }
    return out
  }

  private static func hex2(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return s.count == 1 ? "0" + s : s
  }

  // MARK: - Keys in text

  /// Byte offsets of the whole keys in `s` whose checksum is valid (found as `scan` will).
  public static func keyOffsets(in s: String) -> [Range<Int>] {
    let b = Array(s.utf8)
    var found = [Range<Int>]()
    var i = 0
    while i + APIKey.length <= b.count {
      if b[i] == UInt8(ascii: "s") && b[i + 1] == UInt8(ascii: "k") && b[i + 2] == UInt8(ascii: "_") {
        let ok =
          b[i..<(i + APIKey.length)].withContiguousStorageIfAvailable { p -> Bool in
            if case .success = APIKey.parse(bytes: UnsafeBufferPointer(rebasing: p[...])) { return true }
            return false
          } ?? false
        if ok {
          found.append(i..<(i + APIKey.length))
          i += APIKey.length
          continue
        }
      }
      i += 1
    }
    return found
  }

  /// Whether `s` holds a whole key anywhere.
  public static func containsKey(_ s: String) -> Bool { !keyOffsets(in: s).isEmpty }

  /// Whether `s` holds anything that starts like a key: `sk_live_` or `sk_test_` (in any case)
  /// followed by 20 or more key characters, checksum or not. A damaged key is still a secret:
  /// anyone can repair a changed check digit by recomputing the CRC32, and a key in another case
  /// is a key anyone can turn back.
  public static func looksLikeKey(_ s: String) -> Bool { redactKeys(s) != s }

  /// `s` with anything that starts like a key (`sk_live_` or `sk_test_` in any case, and 20 or
  /// more further characters) cut to `sk_live_<id>_…`: no message ever carries a secret, whole
  /// or damaged.
  public static func redactKeys(_ s: String) -> String {
    let b = Array(s.utf8)
    var out = [UInt8]()
    out.reserveCapacity(b.count)
    var i = 0
    var changed = false
    while i < b.count {
      if hasKeyPrefix(b, at: i) {
        var end = i + 8
        while end < b.count && isKeyByte(b[end]) { end += 1 }
        if end - i >= 28 {
          out.append(contentsOf: b[i..<min(end, i + 8 + APIKey.idLength)])
          out.append(contentsOf: "_…".utf8)
          i = end
          changed = true
          continue
        }
      }
      out.append(b[i])
      i += 1
    }
    return changed ? String(decoding: out, as: UTF8.self) : s
  }

  /// A byte of a key's text: a base62 digit or `_`.
  private static func isKeyByte(_ c: UInt8) -> Bool { Base62.value(of: c) != nil || c == UInt8(ascii: "_") }

  /// Whether `sk_live_` or `sk_test_`, in any case, starts at `b[i]`.
  private static func hasKeyPrefix(_ b: [UInt8], at i: Int) -> Bool {
    guard i + 8 <= b.count else { return false }
    // ASCII letters differ from their other case only in bit 0x20; `_` is not a letter, so it
    // is compared as is.
    func lower(_ c: UInt8) -> UInt8 { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) ? c | 0x20 : c }
    guard lower(b[i]) == UInt8(ascii: "s"), lower(b[i + 1]) == UInt8(ascii: "k"), b[i + 2] == UInt8(ascii: "_"),
      b[i + 7] == UInt8(ascii: "_")
    else { return false }
    let env = (lower(b[i + 3]), lower(b[i + 4]), lower(b[i + 5]), lower(b[i + 6]))
    return env == (UInt8(ascii: "l"), UInt8(ascii: "i"), UInt8(ascii: "v"), UInt8(ascii: "e"))
      || env == (UInt8(ascii: "t"), UInt8(ascii: "e"), UInt8(ascii: "s"), UInt8(ascii: "t"))
  }

  // MARK: - The key-in-text guard

  /// Whether `s` holds a key in any form the key-in-text guard refuses: anything that starts
  /// like a key (`looksLikeKey`: the prefix in any case, then 20 or more key characters); a
  /// key's body without its prefix, `<id>_<secret><check>` or the same 81 base62 characters
  /// without the `_`, whose checksum holds under `sk_live_` or `sk_test_`; and either of these
  /// percent-encoded (`sk%5Flive%5F…`), decoded as many times as it was encoded (`%255F`).
  ///
  /// A body whose case was changed cannot be recognized (its checksum no longer holds), but
  /// neither can it be turned back into the key without trying 2^81 case patterns.
  public static func holdsKey(_ s: String) -> Bool {
    var b = Array(s.utf8)
    while true {
      if startsLikeKey(b) || holdsKeyBody(b) { return true }
      // Each decoding is shorter than what it decoded, so this ends.
      guard let decoded = percentDecoded(b) else { return false }
      b = decoded
    }
  }

  /// Whether a key's prefix, in any case, is followed by 20 or more key characters in `b`.
  private static func startsLikeKey(_ b: [UInt8]) -> Bool {
    var i = 0
    while i + 28 <= b.count {
      if hasKeyPrefix(b, at: i) {
        var end = i + 8
        while end < b.count && end < i + 28 && isKeyByte(b[end]) { end += 1 }
        if end - i >= 28 { return true }
      }
      i += 1
    }
    return false
  }

  /// Whether `b` holds a key's body without its prefix: 32 id characters, an optional `_`, 43
  /// secret and 6 check characters, with a valid checksum as a `live` or `test` key.
  private static func holdsKeyBody(_ b: [UInt8]) -> Bool {
    let idLength = APIKey.idLength
    let restLength = APIKey.secretLength + APIKey.checkLength
    let shortest = idLength + restLength
    guard b.count >= shortest else { return false }
    var candidate = [UInt8](repeating: UInt8(ascii: "_"), count: APIKey.length)
    func isKey(_ id: ArraySlice<UInt8>, _ rest: ArraySlice<UInt8>) -> Bool {
      candidate.replaceSubrange(8..<(8 + idLength), with: id)
      candidate.replaceSubrange((9 + idLength)..<APIKey.length, with: rest)
      for env in ["sk_live", "sk_test"] {
        candidate.replaceSubrange(0..<7, with: env.utf8)
        let ok = candidate.withUnsafeBufferPointer { p -> Bool in
          if case .success = APIKey.parse(bytes: p) { return true }
          return false
        }
        if ok { return true }
      }
      return false
    }
    // Only runs of key characters long enough for a body are tried, so ordinary text costs one
    // pass over its bytes.
    var start = 0
    while start < b.count {
      guard isKeyByte(b[start]) else {
        start += 1
        continue
      }
      var end = start
      while end < b.count && isKeyByte(b[end]) { end += 1 }
      if end - start >= shortest {
        for i in start...(end - shortest) {
          let id = b[i..<(i + idLength)]
          if isKey(id, b[(i + idLength)..<(i + shortest)]) { return true }
          if i + shortest < end, b[i + idLength] == UInt8(ascii: "_"),
            isKey(id, b[(i + idLength + 1)..<(i + shortest + 1)])
          {
            return true
          }
        }
      }
      start = end
    }
    return false
  }

  /// `b` with every `%XX` (two hex digits, either case) decoded; nil when it has none.
  private static func percentDecoded(_ b: [UInt8]) -> [UInt8]? {
    func hex(_ c: UInt8) -> UInt8? {
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
      default: return nil
      }
    }
    guard b.contains(UInt8(ascii: "%")) else { return nil }
    var out = [UInt8]()
    out.reserveCapacity(b.count)
    var i = 0
    var changed = false
    while i < b.count {
      if b[i] == UInt8(ascii: "%"), i + 2 < b.count, let h = hex(b[i + 1]), let l = hex(b[i + 2]) {
        out.append(h << 4 | l)
        i += 3
        changed = true
      } else {
        out.append(b[i])
        i += 1
      }
    }
    return changed ? out : nil
  }

  /// Whether a string has any control character at all.
  public static func hasControl(_ s: String) -> Bool {
    s.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f || (0x80...0x9f).contains($0.value) }
  }

  /// Edit distance counting an adjacent transposition as one edit (optimal string alignment),
  /// for "did you mean" suggestions: `lsit` is one edit from `list`.
  public static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
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
