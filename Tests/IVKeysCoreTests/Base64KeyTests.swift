import Foundation
import IVKeysTestSupport
import Testing

@testable import IVKeysCore

/// Findings of a scan of `text` through `chunkSize`-byte chunks.
private func scan(_ text: [UInt8], chunkSize: Int = LeakScanner.defaultChunkSize) -> [LeakScanner.Finding] {
  ScannerCheck.findings(in: text, chunk: chunkSize)
}

private func scan(_ text: String) -> [LeakScanner.Finding] { scan(Array(text.utf8)) }

/// `data` in base64, standard or URL-safe (`-_` for `+/`).
private func base64(_ data: [UInt8], urlSafe: Bool = false) -> String {
  let s = Data(data).base64EncodedString()
  return urlSafe ? s.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_") : s
}

@Suite("keys in base64")
struct Base64KeyTests {
  @Test func foundAtEveryAlignmentInBothAlphabets() throws {
    let key = try APIKey.generate(env: .live)
    for urlSafe in [false, true] {
      for before in 0..<6 {
        // Bytes that give `+` and `/` (or `-` and `_`) around the key.
        let data = [UInt8](repeating: 0xfb, count: before) + Array(key.string.utf8) + [0xff, 0xfe]
        let encoded = base64(data, urlSafe: urlSafe)
        let found = scan("data:\n  api-key: \(encoded)\n")
        // The first character only the key decides: the group holding its first byte starts at
        // before / 3 * 4, and it is 0, 2 or 3 characters in.
        let column = 12 + before / 3 * 4 + [0, 2, 3][before % 3]
        #expect(
          found == [LeakScanner.Finding(file: "t", line: 2, column: column, keyID: key.id, env: .live, form: .base64)],
          "\(before) bytes before, url-safe \(urlSafe)")
      }
    }
  }

  @Test func aKubernetesSecretWithPadding() throws {
    let live = try APIKey.generate(env: .live)
    let test = try APIKey.generate(env: .test)
    let yaml = """
      apiVersion: v1
      kind: Secret
      data:
        LIVE: \(base64(Array(live.string.utf8)))
        TEST: \(base64(Array("KEY=\(test.string)\n".utf8)))
      """
    #expect(scan(yaml).map(\.keyID) == [live.id, test.id])
    #expect(scan(yaml).map(\.form) == [.base64, .base64])
    #expect(scan(yaml).map(\.line) == [4, 5])
  }

  @Test func decoysInBase64AreNotReported() throws {
    let key = try APIKey.generate(env: .live)
    var bad = Array(key.string.utf8)
    bad[88] = bad[88] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
    let stripe =
      "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"
    let text = [base64(bad), base64(Array(stripe.utf8)), base64(Array(key.string.utf8).dropLast())].joined(
      separator: "\n")
    #expect(scan(text) == [])
  }

  @Test func agreesWithTheBruteForceOracleAcrossChunkBoundaries() throws {
    let key = try APIKey.generate(env: .test)
    for before in 0..<3 {
      let encoded = base64([UInt8](repeating: 0x41, count: before) + Array(key.string.utf8))
      for pad in [0, 1, 2, 3, 50, 56, 57, 58, 59, 60, 61, 62, 63, 64, 100] {
        let text = Array((String(repeating: "x", count: pad) + "\n" + encoded + " \(key.string)").utf8)
        #expect(ScannerCheck.problem(in: text) == nil, "\(before) bytes before, pad \(pad)")
      }
    }
  }
}
