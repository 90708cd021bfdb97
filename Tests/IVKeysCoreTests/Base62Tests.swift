import Testing

@testable import IVKeysCore

// Expected strings below were computed outside Swift with python3:
//   A = "0-9A-Za-z"; def enc(n, w): repeated divmod by 62, most significant digit first, zero-padded.

/// 2^256 - 1 in base62 (43 digits).
let base62MaxUInt256 = "yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp1"
/// 2^256 in base62 (43 digits): one more than any 256-bit value.
let base62TwoPow256 = "yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp2"

@Suite("Base62")
struct Base62Tests {
  @Test("the alphabet is 0-9, then A-Z, then a-z")
  func alphabetOrder() {
    #expect(
      String(decoding: Base62.alphabet, as: UTF8.self)
        == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    #expect(Base62.value(of: UInt8(ascii: "0")) == 0)
    #expect(Base62.value(of: UInt8(ascii: "9")) == 9)
    #expect(Base62.value(of: UInt8(ascii: "A")) == 10)
    #expect(Base62.value(of: UInt8(ascii: "Z")) == 35)
    #expect(Base62.value(of: UInt8(ascii: "a")) == 36)
    #expect(Base62.value(of: UInt8(ascii: "z")) == 61)
    for c in Array("-_+/= .:@\u{7f}".utf8) + [0, 0x80, 0xff] {
      #expect(Base62.value(of: c) == nil, "byte \(c)")
    }
  }

  @Test("known numbers encode most significant digit first, zero-padded")
  func knownNumbers() {
    #expect(Base62.encode(0, width: 6) == "000000")
    #expect(Base62.encode(61, width: 1) == "z")
    #expect(Base62.encode(62, width: 2) == "10")
    #expect(Base62.encode(62, width: 4) == "0010")
    #expect(Base62.encode(UInt64(UInt32.max), width: 6) == "4gfFC3")
    #expect(Base62.encode(UInt64.max, width: 11) == "LygHa16AHYF")
  }

  @Test("a number that needs more digits than the width gives nil")
  func numberOverflow() {
    #expect(Base62.encode(62, width: 1) == nil)
    #expect(Base62.encode(UInt64.max, width: 10) == nil)
    // 62^6 - 1 is the largest 6-digit value; 62^6 needs 7.
    #expect(Base62.encode(56_800_235_583, width: 6) == "zzzzzz")
    #expect(Base62.encode(56_800_235_584, width: 6) == nil)
  }

  @Test("decoding numbers")
  func decodeNumbers() {
    #expect(Base62.decode("4gfFC3".utf8) == UInt64(UInt32.max))
    #expect(Base62.decode("000000".utf8) == 0)
    #expect(Base62.decode("10".utf8) == 62)
    #expect(Base62.decode("LygHa16AHYF".utf8) == UInt64.max)
    #expect(Base62.decode("LygHa16AHYG".utf8) == nil, "one past UInt64.max overflows")
    #expect(Base62.decode("zzzzzzzzzzzz".utf8) == nil)
    #expect(Base62.decode("12-4".utf8) == nil)
    #expect(Base62.decode("12 4".utf8) == nil)
  }

  @Test("numbers round-trip at width 11")
  func numberRoundTrip() throws {
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<1000 {
      let v = UInt64.random(in: 0...UInt64.max, using: &rng)
      let s = try #require(Base62.encode(v, width: 11))
      #expect(s.utf8.count == 11)
      #expect(Base62.decode(s.utf8) == v)
    }
  }

  @Test("known byte strings")
  func knownByteStrings() {
    #expect(Base62.encode(bytes: [], width: 3) == "000")
    #expect(Base62.encode(bytes: [0, 0, 0], width: 3) == "000")
    #expect(Base62.encode(bytes: [0x01, 0x00], width: 3) == "048")  // 256 = 4*62 + 8
    #expect(Base62.encode(bytes: Array(1...32), width: 43) == "0Eoh211G4c8wtVWM00my5rsNSFlKgaWqQ4mb8gdEqno")
    #expect(Base62.decode("0Eoh211G4c8wtVWM00my5rsNSFlKgaWqQ4mb8gdEqno".utf8, byteCount: 32) == Array(1...32))
  }

  @Test("2^256-1 fits in 43 digits, not in 42; 2^256 does not decode into 32 bytes")
  func uint256Boundary() {
    let max = [UInt8](repeating: 0xff, count: 32)
    #expect(Base62.encode(bytes: max, width: 43) == base62MaxUInt256)
    #expect(Base62.encode(bytes: max, width: 42) == nil)
    #expect(Base62.decode(base62MaxUInt256.utf8, byteCount: 32) == max)
    #expect(Base62.decode(base62TwoPow256.utf8, byteCount: 32) == nil)
    #expect(Base62.decode(String(repeating: "z", count: 43).utf8, byteCount: 32) == nil)
    #expect(Base62.decode(String(repeating: "0", count: 43).utf8, byteCount: 32) == [UInt8](repeating: 0, count: 32))
  }

  @Test("byte decoding overflow and bad digits give nil")
  func byteDecodeFailures() {
    // 256 does not fit in one byte, 255 does ("47" = 4*62 + 7 = 255).
    #expect(Base62.decode("47".utf8, byteCount: 1) == [0xff])
    #expect(Base62.decode("48".utf8, byteCount: 1) == nil)
    #expect(Base62.decode("4_".utf8, byteCount: 4) == nil)
    // byteCount not a multiple of 4 still enforces the width: 2^24 needs 4 bytes.
    #expect(Base62.decode("18OWG".utf8, byteCount: 3) == nil)  // 18OWG = 16,777,216 = 2^24
    #expect(Base62.decode("18OWF".utf8, byteCount: 3) == [0xff, 0xff, 0xff])
  }

  @Test("random byte strings round-trip through encode(bytes:width:) and decode(_:byteCount:)")
  func byteRoundTrip() throws {
    var rng = SystemRandomNumberGenerator()
    for length in 1...48 {
      for trial in 0..<20 {
        var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        if trial == 0 { bytes[0] = 0 }  // leading zero bytes must survive too
        if trial == 1 { bytes = [UInt8](repeating: 0xff, count: length) }
        // Two base62 digits hold more than a byte (62^2 = 3844 > 256).
        let width = 2 * length
        let s = try #require(Base62.encode(bytes: bytes, width: width))
        #expect(s.utf8.count == width)
        #expect(Base62.isBase62(s.utf8))
        #expect(Base62.decode(s.utf8, byteCount: length) == bytes, "length \(length): \(s)")
      }
    }
  }

  @Test("byte and number encodings agree on 8-byte values")
  func bytesAgreeWithNumbers() {
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<500 {
      let v = UInt64.random(in: 0...UInt64.max, using: &rng)
      let bytes = (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * $0)) }
      #expect(Base62.encode(bytes: bytes, width: 11) == Base62.encode(v, width: 11))
    }
  }

  @Test("randomDigits gives exactly the count asked for, all base62")
  func randomDigitsShape() throws {
    var random = RandomStream(blockSize: 64)
    for count in [0, 1, 32, 100, 1000] {
      let s = try Base62.randomDigits(count, from: &random)
      #expect(s.utf8.count == count)
      #expect(Base62.isBase62(s.utf8))
    }
  }

  @Test("RandomStream hands out each byte once across block boundaries")
  func randomStreamDoesNotRepeat() throws {
    var random = RandomStream(blockSize: 16)
    let a = try random.bytes(16)
    let b = try random.bytes(16)
    let c = try random.bytes(40)
    #expect(a.count == 16 && b.count == 16 && c.count == 40)
    // Two fresh 16-byte blocks being equal has probability 2^-128.
    #expect(a != b)
    #expect(Array(c[0..<16]) != a && Array(c[0..<16]) != b)
  }
}
