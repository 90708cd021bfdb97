import Foundation
import IVKeysTestSupport
import Testing

@testable import IVKeysCore

/// Findings of a scan of `text` through `chunkSize`-byte chunks.
private func scan(_ text: [UInt8], chunkSize: Int = LeakScanner.defaultChunkSize) -> [LeakScanner.Finding] {
  ScannerCheck.findings(in: text, chunk: chunkSize)
}

private func scan(_ text: String) -> [LeakScanner.Finding] { scan(Array(text.utf8)) }

/// A base62 digit other than `c`.
private func other(_ c: Character) -> Character { c == "7" ? "Q" : "7" }

/// `s` with the character at `i` replaced, removed, or with `c` put before it.
private func substitute(_ s: String, _ i: Int, _ c: Character) -> String {
  var a = Array(s)
  a[i] = c
  return String(a)
}
private func delete(_ s: String, _ i: Int) -> String {
  var a = Array(s)
  a.remove(at: i)
  return String(a)
}
private func insert(_ s: String, _ i: Int, _ c: Character) -> String {
  var a = Array(s)
  a.insert(c, at: i)
  return String(a)
}

/// A random key-shaped string with a random (almost surely wrong) checksum.
private func randomKeyShape(_ env: String = "live", length: Int = 90) -> String {
  let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  let r = { (n: Int) in String((0..<n).map { _ in digits.randomElement()! }) }
  return "sk_\(env)_\(r(32))_\(r(length - 41))"
}

@Suite("damaged keys")
struct DamagedKeyTests {
  @Test func oneEditAnywhereAfterThePrefixIsRepaired() throws {
    let key = try APIKey.generate(env: .live)
    let s = key.string
    let chars = Array(s)
    // The id, the `_` after it, the secret and the check digits.
    for i in [8, 20, 39, 40, 41, 60, 83, 84, 87, 89] {
      for damaged in [substitute(s, i, other(chars[i])), delete(s, i), insert(s, i, other(chars[i]))] {
        let found = scan("token: \(damaged)\n")
        #expect(
          found == [LeakScanner.Finding(file: "t", line: 1, column: 8, keyID: key.id, env: .live, form: .damaged)],
          "edit at \(i): \(found)")
      }
    }
    // A character added at the very end.
    #expect(scan(s + "x").map(\.form) == [.exact])
    #expect(scan(insert(s, 89, "x") + " ").map(\.keyID) == [key.id])
  }

  @Test func aWholeKeyIsExactNeverDamaged() throws {
    let key = try APIKey.generate(env: .test)
    #expect(scan("a \(key.string) b").map(\.form) == [.exact])
    #expect(scan("\(key.string)\(key.string)").map(\.form) == [.exact, .exact])
  }

  @Test func theFindingNamesTheRepairedIDAndHidesTheSecret() throws {
    let key = try APIKey.generate(env: .live)
    let damaged = substitute(key.string, 10, other(Array(key.string)[10]))
    let f = try #require(scan(damaged).first)
    #expect(f.keyID == key.id)
    #expect(f.masked == "sk_live_\(key.id)_…")
  }

  @Test func decoysAreNeverReported() throws {
    let stripe =
      "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"
    var text = stripe + "\n" + String(stripe.prefix(90)) + "\n" + String(stripe.prefix(91)) + "\n"
    for n in [89, 90, 91] {
      for env in ["live", "test"] { for _ in 0..<30 { text += randomKeyShape(env, length: n) + "\n" } }
    }
    // Two edits away from a real key: no single edit repairs it.
    for i in 0..<30 {
      let key = try APIKey.generate(env: .live)
      let s = Array(key.string)
      let twice = substitute(substitute(key.string, 10 + i, other(s[10 + i])), 50 + i, other(s[50 + i]))
      text += (i % 2 == 0 ? twice : delete(twice, 70)) + "\n"
    }
    #expect(scan(text) == [])
  }

  @Test func agreesWithTheBruteForceOracleAcrossChunkBoundaries() throws {
    let key = try APIKey.generate(env: .live)
    let s = key.string
    let chars = Array(s)
    let pieces = [
      substitute(s, 30, other(chars[30])), delete(s, 50), insert(s, 86, "z"), randomKeyShape(), s,
      "sk_live_" + String(s.dropFirst(9)),
    ]
    for (n, piece) in pieces.enumerated() {
      for pad in [0, 1, 2, 45, 88, 89, 90, 91, 92, 93, 100] {
        let text = Array((String(repeating: "x", count: pad) + " " + piece + (n % 2 == 0 ? "" : "\n")).utf8)
        #expect(ScannerCheck.problem(in: text) == nil, "piece \(n), pad \(pad)")
      }
    }
  }

  @Test func repairIsQuickOnManyCandidates() throws {
    // 2,000 key-shaped strings of each length: each needs the CRC shortcut, not 5,000 CRCs.
    var text = ""
    for i in 0..<6000 { text += randomKeyShape(length: 89 + i % 3) + "\n" }
    let start = Date()
    #expect(scan(text) == [])
    #expect(Date().timeIntervalSince(start) < 20)
  }
}
