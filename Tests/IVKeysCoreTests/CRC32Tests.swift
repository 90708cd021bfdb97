import Testing

@testable import IVKeysCore

/// A bitwise CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) written from the definition,
/// without a table, so the library's table-driven version is checked against something independent.
func referenceCRC32(_ bytes: some Sequence<UInt8>) -> UInt32 {
  var crc: UInt32 = 0xFFFF_FFFF
  for byte in bytes {
    crc ^= UInt32(byte)
    for _ in 0..<8 {
      crc = (crc & 1) == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
    }
  }
  return ~crc
}

@Suite("CRC32")
struct CRC32Tests {
  @Test("the standard check value: CRC-32 of \"123456789\" is 0xCBF43926")
  func standardCheckValue() {
    #expect(CRC32.checksum("123456789".utf8) == 0xCBF4_3926)
    // The reference used by the other suites must agree with the standard too.
    #expect(referenceCRC32("123456789".utf8) == 0xCBF4_3926)
  }

  @Test("known values as zlib.crc32 computes them")
  func knownValues() {
    #expect(CRC32.checksum([UInt8]()) == 0)
    #expect(CRC32.checksum("a".utf8) == 0xE8B7_BE43)
    #expect(CRC32.checksum("The quick brown fox jumps over the lazy dog".utf8) == 0x414F_A339)
  }

  @Test("agrees with a bitwise implementation on random inputs of many lengths")
  func agreesWithBitwiseReference() {
    var rng = SystemRandomNumberGenerator()
    for length in 0..<300 {
      let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
      #expect(CRC32.checksum(bytes) == referenceCRC32(bytes), "length \(length)")
    }
  }

  @Test("one changed byte changes the checksum")
  func detectsSingleByteChange() {
    let original = Array("sk_live_abcdefghijklmnopqrstuvwxyz012345_".utf8)
    let base = CRC32.checksum(original)
    for i in original.indices {
      var changed = original
      changed[i] ^= 0x01
      #expect(CRC32.checksum(changed) != base, "byte \(i)")
    }
  }
}
