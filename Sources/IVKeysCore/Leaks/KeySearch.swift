extension LeakScanner {
  // MARK: - The search for keys in the buffer

  /// A key found at a position of the buffer.
  struct Hit {
    let at: Int
    let id: String
    let env: KeyEnvironment
    let form: Form
  }

  /// The keys in `buffer[..<to]`, whole, damaged or in base64, in the order of their positions,
  /// and where the search for each goes on: `next` for keys written out, `next64` for keys in
  /// base64, which need a longer window.
  ///
  /// Two steps, so that ordinary text costs a few instructions a byte:
  ///
  /// 1. Every key, whole, damaged or in base64, is a run of at least 89 characters of the
  ///    base64 alphabets and `_` (`[A-Za-z0-9_+/-]`). Such a run holds in full one of the
  ///    32-byte blocks sampled every 56 bytes (56 + 32 - 1 = 87 <= 89). So only the samples
  ///    are read first (`nextDenseSample`), two vectors at a time, and in text they are rarely
  ///    all such characters (about 1 sample in 70 in C and Python sources).
  /// 2. Around a sample that is, the positions a key through it can start at (from 96 before
  ///    to its end) are searched 16 at a time (`nextCandidates`) for `s?_` (a key) and `c?t`,
  ///    `N?X`, `z?1` (a key's base64 text at each alignment), and only those are looked at.
  func findAllKeys(from: Int, from64: Int, to end: Int, final: Bool) -> (hits: [Hit], next: Int, next64: Int) {
    var hits = [Hit]()
    let lastKey = final ? end - (APIKey.length - 1) : end - (APIKey.length + 2)
    let last64 = final ? end - Self.base64PrefixLength : end - Self.base64Window
    let last = max(lastKey, last64)
    var nextKey = from  // the first position a key may start at (past the last key found)
    let b = UnsafePointer(buffer)

    func examine(_ p: Int) {
      if b[p] == UInt8(ascii: "s") {
        if p >= nextKey && p <= lastKey && b[p + 1] == UInt8(ascii: "k") && b[p + 2] == UInt8(ascii: "_") {
          if let (id, env, form, length) = tryKey(at: p, end: end) {
            hits.append(Hit(at: p, id: id, env: env, form: form))
            nextKey = p + length
          }
        }
      } else if p >= from64 && p <= last64, let (id, env) = tryBase64Key(at: p, end: end) {
        hits.append(Hit(at: p, id: id, env: env, form: .base64))
      }
    }

    /// Examines every position in `lo...hi` where a key may start.
    func search(_ lo: Int, _ hi: Int) {
      var k = lo
      while k <= hi {
        let (block, bits) = Self.nextCandidates(b, from: k, last: hi)
        var low = bits.low
        while low != 0 {
          examine(block + low.trailingZeroBitCount / 8)
          low &= low - 1
        }
        var high = bits.high
        while high != 0 {
          examine(block + 8 + high.trailingZeroBitCount / 8)
          high &= high - 1
        }
        k = block + 16
      }
    }

    let start = min(from, from64)
    if start <= last {
      var searched = start  // positions before it are examined
      var sample = start
      while true {
        sample = Self.nextDenseSample(b, from: sample, end: end)
        guard sample + Self.sampleLength <= end else { break }
        let lo = max(searched, sample - Self.sampleLookback)
        let hi = min(last, sample + Self.sampleLength - 1)
        if lo <= hi {
          search(lo, hi)
          searched = hi + 1
        }
        sample += Self.sampleStride
      }
    }
    return (hits, max(nextKey, lastKey + 1), max(from64, last64 + 1))
  }

  /// Sixteen bytes, compared at once.
  typealias Lanes = SIMD16<UInt8>

  /// How far apart the blocks sampled first are, and their length: a run of `sampleStride +
  /// sampleLength - 1` characters or more holds one in full, and every key is a run of at least
  /// `APIKey.length - 1`.
  static let sampleStride = 56
  static let sampleLength = 32
  /// The furthest before a sample a key through it can start: a key in base64 reaches at most
  /// 124 characters from its group (`base64Window`), which starts at most 3 before the prefix
  /// text a hit is reported at, so the prefix text starts at most 124 - 32 = 92 before.
  static let sampleLookback = 96

  /// The first sample `from + 56 j` whose 32 bytes are all characters a key can be written in,
  /// or the first one that does not fit before `end`.
  @inline(never)
  static func nextDenseSample(_ b: UnsafePointer<UInt8>, from: Int, end: Int) -> Int {
    let raw = UnsafeRawPointer(b)
    var s = from
    while s &+ sampleLength <= end {
      let m =
        keyCharacters(raw.loadUnaligned(fromByteOffset: s, as: Lanes.self))
        .& keyCharacters(raw.loadUnaligned(fromByteOffset: s &+ 16, as: Lanes.self))
      let bits = unsafeBitCast(Lanes(repeating: 0).replacing(with: 0xff, where: m), to: SIMD2<UInt64>.self)
      if bits[0] & bits[1] == ~0 { return s }
      s &+= sampleStride
    }
    return s
  }

  /// The bytes that may be part of a key's text, plain or base64, and a few more: letters and
  /// the bytes that `| 0x20` makes 0x61-0x7f (which adds `[\\]^_` and `` `{|}~``), and 0x2b-0x39
  /// (`+,-./` and the digits). A superset is enough to rule a sample out.
  @inline(__always)
  static func keyCharacters(_ v: Lanes) -> SIMDMask<Lanes.MaskStorage> {
    (v | Lanes(repeating: 0x20)) &- Lanes(repeating: 0x61) .<= Lanes(repeating: 0x1e)
      .| v &- Lanes(repeating: 0x2b) .<= Lanes(repeating: 0x0e)
  }

  /// The first block of 16 positions from `from` with a possible start of a key or of its base64
  /// text in it, and the possible starts as the high bit of the byte of each (`low` for the
  /// first eight). No position past `last` is marked; the block is past `last` when none is
  /// found. Positions up to `last + 2` are read.
  ///
  /// A tight loop with no other state, so that the vectors stay in registers: two loads, eight
  /// comparisons and seven logical steps a block.
  @inline(never)
  static func nextCandidates(_ b: UnsafePointer<UInt8>, from: Int, last: Int) -> (Int, (low: UInt64, high: UInt64)) {
    let raw = UnsafeRawPointer(b)
    let s = Lanes(repeating: UInt8(ascii: "s"))
    let underscore = Lanes(repeating: UInt8(ascii: "_"))
    let c = Lanes(repeating: UInt8(ascii: "c"))
    let t = Lanes(repeating: UInt8(ascii: "t"))
    let n = Lanes(repeating: UInt8(ascii: "N"))
    let x = Lanes(repeating: UInt8(ascii: "X"))
    let z = Lanes(repeating: UInt8(ascii: "z"))
    let one = Lanes(repeating: UInt8(ascii: "1"))
    var k = from
    // Both loads end at k + 17 <= last + 2.
    while k &+ 15 <= last {
      let v0 = raw.loadUnaligned(fromByteOffset: k, as: Lanes.self)
      let v2 = raw.loadUnaligned(fromByteOffset: k &+ 2, as: Lanes.self)
      let m = v0 .== s .& v2 .== underscore .| v0 .== c .& v2 .== t .| v0 .== n .& v2 .== x .| v0 .== z .& v2 .== one
      let bits = unsafeBitCast(Lanes(repeating: 0).replacing(with: 0x80, where: m), to: SIMD2<UInt64>.self)
      if bits[0] | bits[1] != 0 { return (k, (bits[0], bits[1])) }
      k &+= 16
    }
    // The last positions one at a time, marked in one block.
    var low: UInt64 = 0
    var high: UInt64 = 0
    var i = 0
    while k + i <= last && i < 16 {
      let p = k + i
      let hit =
        b[p] == UInt8(ascii: "s") && b[p + 2] == UInt8(ascii: "_")
        || b[p] == UInt8(ascii: "c")
          && b[p + 2] == UInt8(ascii: "t")
        || b[p] == UInt8(ascii: "N") && b[p + 2] == UInt8(ascii: "X")
        || b[p] == UInt8(ascii: "z") && b[p + 2] == UInt8(ascii: "1")
      if hit {
        if i < 8 { low |= 0x80 << (8 * UInt64(i)) } else { high |= 0x80 << (8 * UInt64(i - 8)) }
      }
      i += 1
    }
    return (k, (low, high))
  }

  /// The key whole or damaged (`KeyRepair`) at `q`, where `sk_` is, and the length of its text.
  /// At least 92 bytes follow `q` before `end` unless the text ends at `end`.
  @inline(__always)
  func tryKey(at q: Int, end: Int) -> (String, KeyEnvironment, Form, Int)? {
    let b = UnsafePointer(buffer)
    guard b[q + 7] == UInt8(ascii: "_") else { return nil }
    if q + APIKey.length <= end && b[q + 40] == UInt8(ascii: "_") {
      let candidate = UnsafeBufferPointer(start: b + q, count: APIKey.length)
      if case .success(let key) = APIKey.parse(bytes: candidate) {
        let id = String(decoding: UnsafeBufferPointer(start: b + q + 8, count: APIKey.idLength), as: UTF8.self)
        return (id, key.env, .exact, APIKey.length)
      }
    }
    if let (key, length) = KeyRepair.find(b + q, available: end - q) { return (key.id, key.env, .damaged, length) }
    return nil
  }
}
