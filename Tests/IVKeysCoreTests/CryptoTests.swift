import Testing

@testable import IVKeysCore

/// Test vectors from RFC 4231 (HMAC-SHA-256 column), plus one checked with python's hmac module.
private struct Vector: Sendable, CustomStringConvertible {
  let name: String
  let key: [UInt8]
  let message: [UInt8]
  let mac: String
  var description: String { name }
}

private let vectors: [Vector] = [
  Vector(
    name: "RFC 4231 test case 1",
    key: [UInt8](repeating: 0x0b, count: 20),
    message: Array("Hi There".utf8),
    mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
  Vector(
    name: "RFC 4231 test case 2",
    key: Array("Jefe".utf8),
    message: Array("what do ya want for nothing?".utf8),
    mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
  Vector(
    name: "RFC 4231 test case 3",
    key: [UInt8](repeating: 0xaa, count: 20),
    message: [UInt8](repeating: 0xdd, count: 50),
    mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
  Vector(
    name: "RFC 4231 test case 6 (key longer than a block)",
    key: [UInt8](repeating: 0xaa, count: 131),
    message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
    mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
  Vector(
    name: "empty message (python hmac)",
    key: Array("key".utf8),
    message: [],
    mac: "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0"),
]

@Suite("Crypto")
struct CryptoTests {
  // MARK: - HMAC-SHA256

  @Test("one-shot HMAC-SHA256 matches the vectors", arguments: vectors)
  fileprivate func oneShot(v: Vector) {
    #expect(Crypto.hex(Crypto.hmacSHA256(key: v.key, message: v.message)) == v.mac)
    // A non-contiguous collection takes the copying path.
    #expect(Crypto.hex(Crypto.hmacSHA256(key: v.key, message: v.message.lazy.map { $0 })) == v.mac)
  }

  @Test("HMACKey matches the vectors", arguments: vectors)
  fileprivate func keyedContext(v: Vector) {
    let key = HMACKey(v.key)
    #expect(Crypto.hex(key.mac(v.message)) == v.mac)
  }

  @Test("string forms hash the UTF-8 bytes")
  func stringForms() {
    let v = vectors[1]
    #expect(Crypto.hex(Crypto.hmacSHA256(key: v.key, string: "what do ya want for nothing?")) == v.mac)
    #expect(Crypto.hex(Crypto.hmacSHA256(key: HMACKey(v.key), string: "what do ya want for nothing?")) == v.mac)
  }

  @Test("an HMACKey reused for many messages gives the right answer every time")
  func keyedContextIsReused() {
    let jefe = HMACKey(Array("Jefe".utf8))
    let message = Array("what do ya want for nothing?".utf8)
    let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    #expect(Crypto.hex(jefe.mac(message)) == expected)
    #expect(Crypto.hex(jefe.mac(message)) == expected, "second use of the same context")
    // A different message in between must not leak into the next one.
    let other = jefe.mac(Array("something else".utf8))
    #expect(Crypto.hex(other) != expected)
    #expect(other == Crypto.hmacSHA256(key: Array("Jefe".utf8), message: Array("something else".utf8)))
    #expect(Crypto.hex(jefe.mac(message)) == expected, "after another message")
    #expect(Crypto.hex(Crypto.hmacSHA256(key: jefe, string: "what do ya want for nothing?")) == expected)
  }

  @Test("HMACKey agrees with one-shot HMAC on random keys and messages")
  func keyedAgreesWithOneShot() {
    var rng = SystemRandomNumberGenerator()
    for keyLength in [1, 16, 32, 64, 65, 200] {
      let keyBytes = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &rng) }
      let key = HMACKey(keyBytes)
      for messageLength in [0, 1, 63, 64, 65, 90, 1000] {
        let message = (0..<messageLength).map { _ in UInt8.random(in: 0...255, using: &rng) }
        #expect(key.mac(message) == Crypto.hmacSHA256(key: keyBytes, message: message))
      }
    }
  }

  @Test("different keys give different MACs for the same message")
  func keyMatters() {
    let message = Array("sk_live_x".utf8)
    #expect(Crypto.hmacSHA256(key: [1], message: message) != Crypto.hmacSHA256(key: [2], message: message))
    #expect(HMACKey([1]).mac(message) != HMACKey([2]).mac(message))
  }

  // MARK: - Comparison

  @Test("constantTimeEqual")
  func constantTimeEqual() {
    let a: [UInt8] = Array(0..<32)
    var b = a
    #expect(Crypto.constantTimeEqual(a, b))
    b[31] ^= 1
    #expect(!Crypto.constantTimeEqual(a, b))
    b = a
    b[0] ^= 0x80
    #expect(!Crypto.constantTimeEqual(a, b))
    #expect(!Crypto.constantTimeEqual(a, Array(a.dropLast())))
    #expect(!Crypto.constantTimeEqual(Array(a.dropLast()), a))
    #expect(!Crypto.constantTimeEqual(a, []))
    #expect(Crypto.constantTimeEqual([], []))
  }

  // MARK: - Hex

  @Test("hex is lowercase, two digits a byte")
  func hex() {
    #expect(Crypto.hex([0x00, 0x01, 0xab, 0xff, 0x10]) == "0001abff10")
    #expect(Crypto.hex([UInt8]()) == "")
    #expect(Crypto.hex([UInt8](repeating: 0xee, count: 40)) == String(repeating: "ee", count: 40))
  }

  @Test("unhex reads either case and refuses odd lengths and non-hex")
  func unhex() {
    #expect(Crypto.unhex("0001abff10") == [0x00, 0x01, 0xab, 0xff, 0x10])
    #expect(Crypto.unhex("ABcdEF") == [0xab, 0xcd, 0xef])
    #expect(Crypto.unhex("") == [])
    for bad in ["abc", "0", "zz", "0g", "g0", "0x12", " 12", "12 ", "１２", "-1", "12\n"] {
      #expect(Crypto.unhex(bad) == nil, "\(bad)")
    }
  }

  @Test("hex and unhex round-trip")
  func hexRoundTrip() {
    var rng = SystemRandomNumberGenerator()
    for length in 0..<70 {
      let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
      let text = Crypto.hex(bytes)
      #expect(text.utf8.count == 2 * length)
      #expect(Crypto.unhex(text) == bytes)
      #expect(Crypto.unhex(text.uppercased()) == bytes)
    }
  }

  // MARK: - Randomness

  @Test("randomBytes gives the count asked for, and not the same bytes twice")
  func randomBytes() throws {
    let a = try Crypto.randomBytes(32)
    let b = try Crypto.randomBytes(32)
    #expect(a.count == 32 && b.count == 32)
    #expect(a != b)
    #expect(a != [UInt8](repeating: 0, count: 32))
    #expect(try Crypto.randomBytes(0) == [])
  }

  @Test("randomBytes fills every byte of a request larger than one getrandom call returns")
  func randomBytesPastAShortRead() throws {
    // getrandom(2) returns at most 33,554,431 bytes a call: the rest takes more calls. The array
    // is not zeroed first, and fresh pages read as zeros, so a tail left unfilled shows as zeros.
    let count = 40 << 20
    let bytes = try Crypto.randomBytes(count)
    #expect(bytes.count == count)
    #expect(bytes.suffix(4096).contains { $0 != 0 })
    #expect(bytes[(33_554_431 - 2048)..<(33_554_431 + 2048)].contains { $0 != 0 })
    // Every byte value turns up in the last megabyte (about 4,096 times each).
    var seen = Set<UInt8>()
    for b in bytes.suffix(1 << 20) { seen.insert(b) }
    #expect(seen.count == 256)
  }
}
