import Foundation
import IVKeysTestSupport
import Testing

@testable import IVKeysCore

/// Findings of a scan of `text` through `chunkSize`-byte chunks, `piece` bytes a read.
private func scan(_ text: [UInt8], chunkSize: Int = LeakScanner.defaultChunkSize, piece: Int = .max)
  -> [LeakScanner.Finding]
{
  let scanner = LeakScanner(chunkSize: chunkSize)
  var offset = 0
  _ = scanner.scan(name: "t", detectDiff: false, skipBinary: true) { p, count in
    let n = min(count, piece, text.count - offset)
    for i in 0..<n { p[i] = text[offset + i] }
    offset += n
    return n
  }
  return scanner.findings
}

/// `s` in UTF-16 with a byte order mark.
private func utf16(_ s: String, bigEndian: Bool) -> [UInt8] {
  var out: [UInt8] = bigEndian ? [0xfe, 0xff] : [0xff, 0xfe]
  for u in s.utf16 { out += bigEndian ? [UInt8(u >> 8), UInt8(u & 0xff)] : [UInt8(u & 0xff), UInt8(u >> 8)] }
  return out
}

@Suite("keys in UTF-16 text")
struct UTF16KeyTests {
  @Test func bothByteOrdersWithLinesAndColumnsOfTheDecodedText() throws {
    let key = try APIKey.generate(env: .live)
    // "é" is one UTF-16 unit and two UTF-8 bytes; "😀" two units and four bytes.
    let text = "first\r\nsecond é😀 \(key.string)\nthird"
    for bigEndian in [false, true] {
      for chunk in [180, 300, LeakScanner.defaultChunkSize] {
        for piece in [1, 3, 1000, Int.max] {
          let found = scan(utf16(text, bigEndian: bigEndian), chunkSize: chunk, piece: piece)
          #expect(
            found == [LeakScanner.Finding(file: "t", line: 2, column: 15, keyID: key.id, env: .live)],
            "big-endian \(bigEndian), chunk \(chunk), piece \(piece)")
        }
      }
    }
  }

  @Test func damagedAndBase64KeysInUTF16AreFoundToo() throws {
    let key = try APIKey.generate(env: .test)
    let damaged = String(key.string.dropLast())
    let encoded = Data(key.string.utf8).base64EncodedString()
    let found = scan(utf16("a \(damaged)\nb \(encoded)\n", bigEndian: false))
    #expect(found.map(\.form) == [.damaged, .base64])
    #expect(found.map(\.keyID) == [key.id, key.id])
  }

  @Test func withoutAByteOrderMarkNULsStillMeanBinary() throws {
    let key = try APIKey.generate(env: .live)
    #expect(scan(Array(utf16(key.string, bigEndian: false).dropFirst(2))) == [])
  }

  @Test func agreesWithTheOracleOnLoneSurrogatesAndOddLengths() throws {
    let key = try APIKey.generate(env: .live)
    var bytes = utf16("x \(key.string) y", bigEndian: true)
    #expect(ScannerCheck.problem(in: bytes) == nil)
    // A lone high surrogate before the key, a lone low one after, an odd last byte.
    bytes.insert(contentsOf: [0xd8, 0x01], at: 2)
    bytes += [0xdc, 0x02, 0x41]
    #expect(ScannerCheck.problem(in: bytes) == nil)
    #expect(ScannerCheck.decodedUTF16(bytes).map { Array($0.prefix(3)) } == [0xef, 0xbf, 0xbd])
    #expect(scan(bytes).map(\.keyID) == [key.id])
  }
}
