/// Base62 as the key format uses it: digits `0-9`, then `A-Z`, then `a-z`, most significant first.
public enum Base62 {
  /// The 62 digits in order of value.
  public static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

  /// The value of one ASCII digit, or nil when it is not a base62 digit.
  @inline(__always)
  public static func value(of c: UInt8) -> Int? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(c - UInt8(ascii: "0"))
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): return Int(c - UInt8(ascii: "A")) + 10
    case UInt8(ascii: "a")...UInt8(ascii: "z"): return Int(c - UInt8(ascii: "a")) + 36
    default: return nil
    }
  }

  /// Whether every byte is a base62 digit.
  public static func isBase62(_ bytes: some Sequence<UInt8>) -> Bool {
    bytes.allSatisfy { value(of: $0) != nil }
  }

  /// `value` in base62, left-padded with `0` to `width` digits. Returns nil if it does not fit.
  public static func encode(_ value: UInt64, width: Int) -> String? {
    var digits = [UInt8](repeating: alphabet[0], count: width)
    var v = value
    var i = width - 1
    while v > 0 {
      guard i >= 0 else { return nil }
      digits[i] = alphabet[Int(v % 62)]
      v /= 62
      i -= 1
    }
    return String(decoding: digits, as: UTF8.self)
  }

  /// Decodes up to 10 base62 digits into a number; nil on a non-digit or overflow.
  public static func decode(_ text: some Collection<UInt8>) -> UInt64? {
    var v: UInt64 = 0
    for c in text {
      guard let d = value(of: c) else { return nil }
      let (m, o1) = v.multipliedReportingOverflow(by: 62)
      let (s, o2) = m.addingReportingOverflow(UInt64(d))
      if o1 || o2 { return nil }
      v = s
    }
    return v
  }

  /// A big-endian byte string as a base62 number, left-padded with `0` to `width` digits.
  /// Returns nil if the number needs more than `width` digits.
  public static func encode(bytes: [UInt8], width: Int) -> String? {
    var fits = true
    let text = String(unsafeUninitializedCapacity: width) { out in
      fits = bytes.withUnsafeBufferPointer { encode(bytes: $0, into: out) }
      return width
    }
    return fits ? text : nil
  }

  /// Writes a big-endian byte string as a base62 number into `out`, left-padded with `0`.
  /// Returns false if the number needs more digits than `out` holds. Allocates nothing.
  static func encode(bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Bool {
    let alphabet = Base62.alphabet
    let limbCount = (bytes.count + 3) / 4
    // 32-bit limbs, most significant first. Each pass divides the number by 62^5 (< 2^30, so
    // remainder << 32 | limb fits in 64 bits and the division by a constant is a multiply) and
    // yields the next 5 digits from the remainder: a fifth of the long divisions of one digit a
    // pass.
    return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: limbCount) { limbs in
      limbs.initialize(repeating: 0)
      let pad = limbCount * 4 - bytes.count
      for i in 0..<bytes.count {
        let p = i + pad
        limbs[p / 4] |= UInt32(bytes[i]) << UInt32(8 * (3 - p % 4))
      }
      out.initialize(repeating: alphabet[0])
      let chunk: UInt64 = 916_132_832  // 62^5
      var position = out.count - 1
      var start = 0
      while true {
        while start < limbCount && limbs[start] == 0 { start += 1 }
        if start == limbCount { return true }
        var remainder: UInt64 = 0
        var rest: UInt32 = 0
        for i in start..<limbCount {
          let current = remainder << 32 | UInt64(limbs[i])
          limbs[i] = UInt32(truncatingIfNeeded: current / chunk)
          rest |= limbs[i]
          remainder = current % chunk
        }
        // The last pass (nothing left above) stops at the remainder's leading digit, so leading
        // zeros are padding and a number that fits is never refused.
        for _ in 0..<5 {
          if rest == 0 && remainder == 0 { break }
          guard position >= 0 else { return false }
          out[position] = alphabet[Int(remainder % 62)]
          remainder /= 62
          position -= 1
        }
      }
    }
  }

  /// A base62 number as `byteCount` big-endian bytes; nil on a non-digit or when it does not fit.
  public static func decode(_ text: some Collection<UInt8>, byteCount: Int) -> [UInt8]? {
    var limbs = [UInt32](repeating: 0, count: (byteCount + 3) / 4)
    for c in text {
      guard let d = value(of: c) else { return nil }
      var carry = UInt64(d)
      for i in stride(from: limbs.count - 1, through: 0, by: -1) {
        let current = UInt64(limbs[i]) * 62 + carry
        limbs[i] = UInt32(truncatingIfNeeded: current)
        carry = current >> 32
      }
      if carry != 0 { return nil }
    }
    var out = [UInt8]()
    out.reserveCapacity(limbs.count * 4)
    for limb in limbs {
      out.append(UInt8(truncatingIfNeeded: limb >> 24))
      out.append(UInt8(truncatingIfNeeded: limb >> 16))
      out.append(UInt8(truncatingIfNeeded: limb >> 8))
      out.append(UInt8(truncatingIfNeeded: limb))
    }
    let extra = out.count - byteCount
    guard out.prefix(extra).allSatisfy({ $0 == 0 }) else { return nil }
    return Array(out.dropFirst(extra))
  }

  /// `count` digits, each uniform over the 62 digits. Random bytes of 248 or more are rejected
  /// rather than reduced modulo 62 (248 = 4 × 62), so no digit is more likely than another.
  public static func randomDigits(_ count: Int, from random: inout RandomStream) throws(IVKeysError) -> String {
    var failure: IVKeysError?
    let text = String(unsafeUninitializedCapacity: count) { out in
      do throws(IVKeysError) {
        try randomDigits(into: out, from: &random)
        return count
      } catch {
        failure = error
        return 0
      }
    }
    if let failure { throw failure }
    return text
  }

  /// Fills `out` with uniform random digits, as `randomDigits(_:from:)` describes. The bytes are
  /// taken in runs from the stream's current block, in the order `byte()` would hand them out.
  static func randomDigits(into out: UnsafeMutableBufferPointer<UInt8>, from random: inout RandomStream)
    throws(IVKeysError)
  {
    let alphabet = Base62.alphabet
    var n = 0
    while n < out.count {
      try random.withBytes(out.count - n) { bytes in
        for b in bytes where b < 248 {
          out[n] = alphabet[Int(b % 62)]
          n += 1
        }
      }
    }
  }
}

/// Bytes from the CSPRNG, fetched in blocks so that making many keys costs few `getrandom`
/// calls. Each byte is handed out once.
public struct RandomStream {
  private var buffer: [UInt8] = []
  private var index = 0
  private let blockSize: Int

  public init(blockSize: Int = 4096) { self.blockSize = blockSize }

  /// The next random byte.
  public mutating func byte() throws(IVKeysError) -> UInt8 {
    if index == buffer.count {
      buffer = try Crypto.randomBytes(blockSize)
      index = 0
    }
    defer { index += 1 }
    return buffer[index]
  }

  /// The next `count` random bytes.
  public mutating func bytes(_ count: Int) throws(IVKeysError) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(count)
    while out.count < count {
      try withBytes(count - out.count) { out.append(contentsOf: $0) }
    }
    return out
  }

  /// Hands `body` the next 1 to `count` random bytes: as many as the current block still holds
  /// (a new block when it is used up). Each byte is handed out once, in the order `byte()` would.
  mutating func withBytes(_ count: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Void) throws(IVKeysError) {
    if index == buffer.count {
      buffer = try Crypto.randomBytes(blockSize)
      index = 0
    }
    let n = Swift.min(count, buffer.count - index)
    buffer.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[index..<(index + n)])) }
    index += n
  }
}
