/// Recovers a key from a copy with one character substituted, inserted or deleted, for
/// `ivkeys scan`: a damaged key is still a secret.
///
/// The damaged text is a run of letters, digits and `_` of 89, 90 or 91 characters that starts
/// with an intact `sk_live_` or `sk_test_`; its length says which edit to undo (an insertion
/// makes 91, a substitution keeps 90, a deletion makes 89). Every single edit after the prefix
/// that undoes it is tried, and a repair counts only when `APIKey.parse` accepts it (format,
/// secret range and CRC32 check digits) and no other edit gives another valid key.
///
/// Trying all ~5,000 substitutions or insertions with a full CRC each would cost about half a
/// million table steps per candidate; CRC32 is linear instead: for messages of equal length,
/// `crc(m ^ e) == crc(m) ^ raw(e)`, where `raw` is the CRC without the initial and final
/// inversion. So one CRC of the text and one table look-up per trial character tell which
/// characters can give the check value; only those few are parsed.
enum KeyRepair {
  /// The characters before the check digits.
  static let bodyLength = APIKey.length - APIKey.checkLength
  /// The length of `sk_live_` and `sk_test_`, which must be intact.
  static let prefixLength = 8
  /// The characters an edit may bring in: the base62 digits and `_`.
  static let alphabet: [UInt8] = Base62.alphabet + [UInt8(ascii: "_")]

  /// `delta[i << 8 | d]`: `raw` of a body with the byte `d` at `i` and zeros elsewhere, the
  /// change a byte difference of `d` at `i` makes to the body's CRC.
  static let delta: [UInt32] = {
    var out = [UInt32](repeating: 0, count: bodyLength << 8)
    for d in 0..<256 {
      // Last position: one table step from a zero register; each earlier one passes one more
      // zero byte through the register.
      var r = CRC32.table[d]
      for i in stride(from: bodyLength - 1, through: 0, by: -1) {
        out[i << 8 | d] = r
        r = CRC32.table[Int(r & 0xff)] ^ (r >> 8)
      }
    }
    return out
  }()

  /// The damaged key that starts at `p`, where `sk_` is and whole keys were already tried, and
  /// the length of its text; `available` bytes can be read, at least 92 unless the text ends
  /// sooner (then its end ends the run).
  static func find(_ p: UnsafePointer<UInt8>, available: Int) -> (key: APIKey, length: Int)? {
    let live =
      p[3] == UInt8(ascii: "l") && p[4] == UInt8(ascii: "i") && p[5] == UInt8(ascii: "v") && p[6] == UInt8(ascii: "e")
    let test =
      p[3] == UInt8(ascii: "t") && p[4] == UInt8(ascii: "e") && p[5] == UInt8(ascii: "s") && p[6] == UInt8(ascii: "t")
    guard live || test, p[7] == UInt8(ascii: "_") else { return nil }
    var n = prefixLength
    while n < available && n <= APIKey.length + 1 && isKeyByte(p[n]) { n += 1 }
    guard (APIKey.length - 1)...(APIKey.length + 1) ~= n,
      let key = repair(UnsafeBufferPointer(start: p, count: n))
    else { return nil }
    return (key, n)
  }

  /// A byte of a key's text: a base62 digit or `_`.
  @inline(__always)
  static func isKeyByte(_ c: UInt8) -> Bool { Base62.value(of: c) != nil || c == UInt8(ascii: "_") }

  /// The one key that a single edit after the prefix makes of `run`, or nil when none or more
  /// than one does. `run` is 89 to 91 bytes and starts with `sk_live_` or `sk_test_`.
  static func repair(_ run: UnsafeBufferPointer<UInt8>) -> APIKey? {
    var found: APIKey?
    var ambiguous = false
    /// Parses a candidate; false once two different keys were found (no need to go on).
    func consider(_ candidate: [UInt8]) -> Bool {
      guard case .success(let key) = candidate.withUnsafeBufferPointer({ APIKey.parse(bytes: $0) }) else {
        return true
      }
      if let found, found.string != key.string {
        ambiguous = true
        return false
      }
      found = key
      return true
    }
    let s = Array(run)
    switch s.count {
    case APIKey.length + 1:
      // An inserted character: drop each one in turn.
      for i in prefixLength..<s.count {
        var c = s
        c.remove(at: i)
        guard consider(c) else { break }
      }
    case APIKey.length:
      substitutions(s, consider)
    case APIKey.length - 1:
      insertions(s, consider)
    default:
      return nil
    }
    return ambiguous ? nil : found
  }

  /// The check value the last six characters of `s` give, when they are base62 and fit 32 bits.
  static func checkValue(_ s: ArraySlice<UInt8>) -> UInt32? {
    guard let v = Base62.decode(s), v <= UInt64(UInt32.max) else { return nil }
    return UInt32(v)
  }

  /// The six check digits of a body.
  static func checkDigits(_ body: ArraySlice<UInt8>) -> [UInt8] {
    var crc = UInt64(CRC32.checksum(body))
    var out = [UInt8](repeating: 0, count: APIKey.checkLength)
    for i in stride(from: APIKey.checkLength - 1, through: 0, by: -1) {
      out[i] = Base62.alphabet[Int(crc % 62)]
      crc /= 62
    }
    return out
  }

  /// Candidates for a 90-character `s` with one character changed.
  static func substitutions(_ s: [UInt8], _ consider: ([UInt8]) -> Bool) {
    let body = s[0..<bodyLength]
    // In the check digits: the body's own digits must differ from them in one place.
    let expected = checkDigits(body)
    let differing = (0..<APIKey.checkLength).filter { expected[$0] != s[bodyLength + $0] }
    if differing.count == 1 {
      var c = s
      c[bodyLength + differing[0]] = expected[differing[0]]
      guard consider(c) else { return }
    }
    // In the body: the change at `i` must move the body's CRC onto the check value.
    guard let check = checkValue(s[bodyLength...]) else { return }
    let target = CRC32.checksum(body) ^ check
    for i in prefixLength..<bodyLength {
      for a in alphabet where a != s[i] && delta[i << 8 | Int(a ^ s[i])] == target {
        var c = s
        c[i] = a
        guard consider(c) else { return }
      }
    }
  }

  /// Candidates for an 89-character `s` with one character put back.
  static func insertions(_ s: [UInt8], _ consider: ([UInt8]) -> Bool) {
    // In the check digits: the body is whole, and the five digits left must be the body's six
    // with one missing.
    let expected = checkDigits(s[0..<bodyLength])
    for i in bodyLength...s.count {
      let k = i - bodyLength
      guard s[bodyLength..<i].elementsEqual(expected[0..<k]),
        s[i...].elementsEqual(expected[(k + 1)...])
      else { continue }
      guard consider(Array(s[0..<i]) + [expected[k]] + Array(s[i...])) else { return }
    }
    // In the body: the last six characters are the check digits; the body is 83 characters and
    // one more at `i`. Its CRC with `0` there, changed by the difference to each trial character.
    guard let check = checkValue(s[(bodyLength - 1)...]) else { return }
    let zero = UInt8(ascii: "0")
    for i in prefixLength..<bodyLength {
      var c = Array(s[0..<i]) + [zero] + Array(s[i...])
      let target = CRC32.checksum(c[0..<bodyLength]) ^ check
      for a in alphabet where delta[i << 8 | Int(a ^ zero)] == target {
        c[i] = a
        guard consider(c) else { return }
      }
    }
  }
}
