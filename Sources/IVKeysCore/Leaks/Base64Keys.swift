extension LeakScanner {
  // MARK: - Keys in base64

  /// Base64 text of `sk_live_` and `sk_test_` at each of the three byte alignments a key can
  /// have in the encoded data: the characters that only the prefix's bytes decide (the same in
  /// the standard and the URL-safe alphabet, which differ only in `+/` and `-_`), and how many
  /// characters before them the 4-character group holding the key's first byte starts.
  static let base64Prefixes: [(text: [UInt8], lead: Int, alignment: Int)] = [
    (Array("c2tfbGl2ZV".utf8), 0, 0), (Array("c2tfdGVzdF".utf8), 0, 0),
    (Array("NrX2xpdmVf".utf8), 2, 1), (Array("NrX3Rlc3Rf".utf8), 2, 1),
    (Array("za19saXZlX".utf8), 3, 2), (Array("za190ZXN0X".utf8), 3, 2),
  ]
  /// Enough characters from a group start for a key at any alignment: 31 groups of 4.
  static let base64Window = 124

  /// The length of each text in `base64Prefixes`.
  static let base64PrefixLength = 10

  /// The key encoded in base64 whose prefix text (the first character the key alone decides)
  /// starts at `p`, if one does; its group starts at most 3 characters before, and at most
  /// `base64Window` characters from there, up to `end`, are decoded.
  func tryBase64Key(at p: Int, end: Int) -> (String, KeyEnvironment)? {
    let b = UnsafePointer(buffer)
    for (text, lead, alignment) in Self.base64Prefixes where p >= lead && p + text.count <= end {
      guard (0..<text.count).allSatisfy({ b[p + $0] == text[$0] }) else { continue }
      let group = p - lead
      var bytes = [UInt8]()
      Self.decodeBase64(b + group, count: min(Self.base64Window, end - group), into: &bytes)
      guard bytes.count >= alignment + APIKey.length else { return nil }
      let key = bytes[alignment..<(alignment + APIKey.length)].withUnsafeBufferPointer { APIKey.parse(bytes: $0) }
      if case .success(let k) = key { return (k.id, k.env) }
      return nil
    }
    return nil
  }

  /// The value of a base64 character in either alphabet, or nil (`=` and anything else).
  @inline(__always)
  static func base64Value(_ c: UInt8) -> UInt32? {
    switch c {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(c - UInt8(ascii: "A"))
    case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(c - UInt8(ascii: "a")) + 26
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0")) + 52
    case UInt8(ascii: "+"), UInt8(ascii: "-"): return 62
    case UInt8(ascii: "/"), UInt8(ascii: "_"): return 63
    default: return nil
    }
  }

  /// Decodes base64 from `p` until `count` characters or the first that is not base64 (padding
  /// included): whole groups give three bytes, a last group of two or three characters one or two.
  static func decodeBase64(_ p: UnsafePointer<UInt8>, count: Int, into out: inout [UInt8]) {
    var acc: UInt32 = 0
    var n = 0
    for i in 0..<count {
      guard let v = base64Value(p[i]) else { break }
      acc = acc << 6 | v
      n += 1
      if n == 4 {
        out.append(UInt8(truncatingIfNeeded: acc >> 16))
        out.append(UInt8(truncatingIfNeeded: acc >> 8))
        out.append(UInt8(truncatingIfNeeded: acc))
        acc = 0
        n = 0
      }
    }
    if n >= 2 { out.append(UInt8(truncatingIfNeeded: acc >> (6 * UInt32(n) - 8))) }
    if n == 3 { out.append(UInt8(truncatingIfNeeded: acc >> 2)) }
  }
}
