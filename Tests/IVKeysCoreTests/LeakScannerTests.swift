import Foundation
import Testing

@testable import IVKeysCore

/// A fresh key from the CSPRNG.
private func newKey(_ env: KeyEnvironment = .live) throws -> APIKey { try APIKey.generate(env: env) }

/// `key` with two check digits changed: the right shape, the wrong checksum, and two edits from
/// the key (one edit away it would be a damaged key, which is reported).
private func badChecksum(_ key: APIKey) -> String {
  var bytes = Array(key.string.utf8)
  for i in [88, 89] { bytes[i] = bytes[i] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0") }
  return String(decoding: bytes, as: UTF8.self)
}

/// A string shaped like a Stripe secret key: the same `sk_live_` prefix, then 99 letters and digits.
private let stripeKey =
  "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"

/// What a scan of `text` found, reading it through `chunkSize`-byte chunks and handing the
/// scanner at most `piece` bytes per read (as a pipe does).
private func scan(
  _ text: [UInt8], name: String = "t", chunkSize: Int = LeakScanner.defaultChunkSize, piece: Int = .max,
  diff: Bool = false, skipBinary: Bool = false
) -> (findings: [LeakScanner.Finding], outcome: LeakScanner.Outcome, statistics: LeakScanner.Statistics) {
  let scanner = LeakScanner(chunkSize: chunkSize)
  var offset = 0
  let outcome = scanner.scan(name: name, detectDiff: diff, skipBinary: skipBinary) { p, count in
    let n = min(count, piece, text.count - offset)
    for i in 0..<n { p[i] = text[offset + i] }
    offset += n
    return n
  }
  return (scanner.findings, outcome, scanner.statistics)
}

private func scan(_ text: String, chunkSize: Int = LeakScanner.defaultChunkSize, piece: Int = .max, diff: Bool = false)
  -> [LeakScanner.Finding]
{
  scan(Array(text.utf8), chunkSize: chunkSize, piece: piece, diff: diff).findings
}

/// The findings a slow, obviously correct scan gives: split into lines, try `APIKey.parse` at
/// every `sk_`, count columns in bytes.
private func reference(_ text: [UInt8], name: String = "t") -> [LeakScanner.Finding] {
  var out = [LeakScanner.Finding]()
  var lineNumber = 1
  for line in text.split(separator: 0x0a, omittingEmptySubsequences: false) {
    let l = Array(line)
    var i = 0
    while i + 90 <= l.count {
      if case .success(let k) = APIKey.parse(String(decoding: l[i..<(i + 90)], as: UTF8.self)) {
        out.append(LeakScanner.Finding(file: name, line: lineNumber, column: i + 1, keyID: k.id, env: k.env))
        i += 90
      } else {
        i += 1
      }
    }
    lineNumber += 1
  }
  return out
}

@Suite("leak scanner")
struct LeakScannerTests {
  // MARK: - What counts as a key

  @Test func findsAKeyWithItsPlace() throws {
    let key = try newKey()
    let found = scan("first line\nsecond \(key.string) line\nthird\n")
    #expect(found == [LeakScanner.Finding(file: "t", line: 2, column: 8, keyID: key.id, env: .live)])
    #expect(found.first?.masked == "sk_live_\(key.id)_…")
  }

  @Test func theMaskedFormHoldsNoSecret() throws {
    let key = try newKey(.test)
    let found = try #require(scan(key.string).first)
    let secret = String(key.string.dropFirst(41))
    #expect(!found.masked.contains(secret.prefix(6)))
    #expect(found.masked.hasPrefix("sk_test_\(key.id)_"))
    #expect(found.masked.utf8.count < 45)
  }

  @Test func findsSeveralKeysOnOneLineInAnySurroundings() throws {
    let a = try newKey()
    let b = try newKey(.test)
    let c = try newKey()
    let d = try newKey()
    let line = "KEY=\(a.string) {\"k\":\"\(b.string)\"} https://x.example/?key=\(c.string)&y=1 '\(d.string)'"
    let found = scan(line + "\n")
    #expect(found.map(\.keyID) == [a.id, b.id, c.id, d.id])
    #expect(found.map(\.env) == [.live, .test, .live, .live])
    let bytes = Array(line.utf8)
    for f in found {
      #expect(f.line == 1)
      // The column points at the `sk_` of that key.
      let at = f.column - 1
      #expect(String(decoding: bytes[at..<(at + 40)], as: UTF8.self) == "sk_\(f.env.rawValue)_\(f.keyID)")
    }
  }

  @Test func keysBackToBackAreEachFound() throws {
    let a = try newKey()
    let b = try newKey()
    let found = scan(a.string + b.string)
    #expect(found.map(\.column) == [1, 91])
  }

  @Test func aBadChecksumIsNotAKey() throws {
    let key = try newKey()
    #expect(scan("x \(badChecksum(key)) y\n").isEmpty)
    // A changed secret digit breaks the checksum too: the key is found only as damaged.
    var bytes = Array(key.string.utf8)
    bytes[50] = bytes[50] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
    #expect(scan(String(decoding: bytes, as: UTF8.self)).map(\.form) == [.damaged])
    // A key cut short by one is damaged; by two, no key.
    #expect(scan(String(key.string.dropLast())).map(\.form) == [.damaged])
    #expect(scan(String(key.string.dropLast(2))).isEmpty)
  }

  @Test func aStripeShapedKeyIsNotReported() throws {
    #expect(scan("STRIPE_SECRET_KEY=\(stripeKey)\n").isEmpty)
    #expect(scan("sk_test_" + String(repeating: "a", count: 120)).isEmpty)
    // Beside one of ours, only ours is reported.
    let key = try newKey()
    #expect(scan("\(stripeKey) \(key.string)").map(\.keyID) == [key.id])
  }

  @Test func columnsCountBytesAndCarriageReturnsEndNoLine() throws {
    let key = try newKey()
    // "é" is two bytes in UTF-8.
    let found = scan("a\r\nxé \(key.string)\r\n")
    #expect(found.map(\.line) == [2])
    #expect(found.map(\.column) == [5])
  }

  @Test func aKeyOnTheLastLineWithoutNewline() throws {
    let key = try newKey()
    #expect(scan("a\nb\n\(key.string)").map(\.line) == [3])
  }

  // MARK: - Chunks

  @Test func aKeyAcrossEveryChunkBoundaryPosition() throws {
    let key = try newKey()
    let chunk = 256
    // Starts from well before the end of the first chunk to past it: the key straddles the
    // boundary in every way it can, or sits just inside either chunk.
    for start in (chunk - 100)...(chunk + 5) {
      let prefix = String(repeating: "x", count: start - 3) + "\nab"
      let found = scan(prefix + key.string + "\nend\n", chunkSize: chunk)
      #expect(
        found == [LeakScanner.Finding(file: "t", line: 2, column: 3, keyID: key.id, env: .live)], "key at \(start)")
    }
  }

  @Test func partialReadsDoNotLoseKeys() throws {
    let key = try newKey()
    let text =
      String(repeating: "line of text\n", count: 40) + "k=\(key.string)\n" + String(repeating: "more\n", count: 40)
    for piece in [1, 7, 89, 90, 91, 500] {
      let found = scan(text, chunkSize: 200, piece: piece)
      #expect(
        found == [LeakScanner.Finding(file: "t", line: 41, column: 3, keyID: key.id, env: .live)], "piece \(piece)")
    }
  }

  @Test func matchesTheReferenceOnMixedTextAtManyChunkSizes() throws {
    var rng = SystemRandomNumberGenerator()
    let keys = try (0..<12).map { i in try newKey(i % 3 == 0 ? .test : .live) }
    let words = [
      "task_id", "mask_", "sk_", "sk_live_", "sk_test_x", stripeKey, "é", "\r\n", "\n", "\n", "  ", "quote\"", "ask_",
    ]
    var text = ""
    for i in 0..<3000 {
      text += words.randomElement(using: &rng)!
      if i % 250 == 17 { text += keys[(i / 250) % keys.count].string }
      if i % 333 == 5 { text += badChecksum(keys[i % keys.count]) }
    }
    let bytes = Array(text.utf8)
    let expected = reference(bytes)
    #expect(expected.count == 12)
    for chunk in [180, 181, 255, 1000, 4096, LeakScanner.defaultChunkSize] {
      #expect(scan(bytes, chunkSize: chunk).findings == expected, "chunk \(chunk)")
    }
  }

  @Test func newlineCountingAgreesWithAPlainLoop() {
    var rng = SystemRandomNumberGenerator()
    let alphabet = Array("\n\nx\u{8a}".utf8)
    for _ in 0..<200 {
      let n = Int.random(in: 0..<80, using: &rng)
      let b = (0..<n).map { _ in alphabet.randomElement(using: &rng)! }
      b.withUnsafeBufferPointer { p in
        #expect(
          LeakScanner.countNewlines(p.baseAddress ?? UnsafePointer(bitPattern: 8)!, n) == b.filter { $0 == 0x0a }.count)
      }
    }
  }

  @Test func everyPlaceInAWordIsTried() throws {
    // "sk_" at each of the 8 positions of a step, and several in one step.
    let key = try newKey()
    for pad in 0..<17 {
      let text = String(repeating: "x", count: pad) + "sk_sk_task_" + key.string + " sk_"
      #expect(scan(text).map(\.column) == [pad + 12], "pad \(pad)")
    }
  }

  // MARK: - Binary input

  @Test func binaryInputIsSkippedWhenAsked() throws {
    let key = try newKey()
    let binary = Array("\u{0}PNG".utf8) + Array(" \(key.string)\n".utf8)
    let skipped = scan(binary, skipBinary: true)
    #expect(skipped.outcome == .binary)
    #expect(skipped.findings.isEmpty)
    #expect(skipped.statistics.binaryFiles == 1)
    #expect(skipped.statistics.bytes == 0)
    // Standard input is read whatever it holds.
    #expect(scan(binary, skipBinary: false).findings.count == 1)
    // A NUL past the first 8000 bytes does not make a file binary.
    let late = [UInt8](repeating: UInt8(ascii: "a"), count: 8000) + [0] + Array(" \(key.string)".utf8)
    let read = scan(late, skipBinary: true)
    #expect(read.outcome == .scanned)
    #expect(read.findings.map(\.keyID) == [key.id])
  }

  @Test func aReadErrorKeepsWhatWasFoundAndSaysSo() throws {
    let key = try newKey()
    let text = Array("a \(key.string)\n".utf8)
    let scanner = LeakScanner(chunkSize: 200)
    var calls = 0
    let outcome = scanner.scan(name: "f", detectDiff: false, skipBinary: true) { p, count in
      calls += 1
      guard calls == 1 else { return -Int(EIO) }
      for i in 0..<text.count { p[i] = text[i] }
      return text.count
    }
    #expect(outcome == .failed(EIO))
    #expect(scanner.findings.map(\.keyID) == [key.id])
  }

  // MARK: - Diffs

  @Test func aDiffReportsOnlyAddedLinesWithNewPathsAndLineNumbers() throws {
    let added = try newKey()
    let removed = try newKey()
    let context = try newKey()
    let second = try newKey(.test)
    let diff = """
      diff --git a/config/app.env b/config/app.env
      index 83db48f..bf269f4 100644
      --- a/config/app.env
      +++ b/config/app.env
      @@ -10,4 +10,5 @@ section
       A=1
      -OLD=\(removed.string)
      +NEW=\(added.string)
      +B=2
       C=\(context.string)
       D=4
      diff --git a/src/main.py b/src/main.py
      new file mode 100644
      --- /dev/null
      +++ b/src/main.py
      @@ -0,0 +1,2 @@
      +import os
      +KEY = "\(second.string)"

      """
    let found = scan(diff, diff: true)
    #expect(
      found == [
        LeakScanner.Finding(file: "config/app.env", line: 11, column: 5, keyID: added.id, env: .live),
        LeakScanner.Finding(file: "src/main.py", line: 2, column: 8, keyID: second.id, env: .test),
      ])
  }

  @Test func aDiffThatOnlyRemovesAKeyFindsNothing() throws {
    let key = try newKey()
    let diff = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1 @@\n-k=\(key.string)\n keep\n"
    #expect(scan(diff, diff: true).isEmpty)
    // Text that is not a diff is reported whole, under the name it was given.
    #expect(scan("k=\(key.string)\n", diff: true).map(\.file) == ["t"])
  }

  @Test func hunkLengthsDecideWhatIsAHeader() throws {
    let key = try newKey()
    let later = try newKey()
    // An added line whose text starts with "++ " reads "+++ …": inside the hunk it is content.
    // A removed line "-- x" reads "--- x". Neither may change the path.
    let diff = """
      diff --git a/notes.md b/notes.md
      --- a/notes.md
      +++ b/notes.md
      @@ -1,2 +1,3 @@
      --- old rule
      +++ \(key.string)
      +second
       same
      @@ -20 +21,2 @@
      -x
      +y \(later.string)
      +z
      \\ No newline at end of file

      """
    let found = scan(diff, diff: true)
    #expect(
      found == [
        LeakScanner.Finding(file: "notes.md", line: 1, column: 4, keyID: key.id, env: .live),
        LeakScanner.Finding(file: "notes.md", line: 21, column: 3, keyID: later.id, env: .live),
      ])
  }

  @Test func quotedAndPlainDiffPaths() throws {
    let key = try newKey()
    let quoted =
      "diff --git \"a/we\\tird\" \"b/we\\tird\"\n--- \"a/we\\tird\"\n+++ \"b/we\\tird \\303\\251\"\n@@ -0,0 +1 @@\n+\(key.string)\n"
    #expect(scan(quoted, diff: true).map(\.file) == ["we\tird é"])
    // `diff -u` writes a timestamp after a tab and no a/ b/ convention.
    let plain =
      "--- old/x.txt\t2024-01-01 00:00:00\n+++ new/x.txt\t2024-01-02 00:00:00\n@@ -1 +1 @@\n-a\n+\(key.string)\n"
    #expect(scan(plain, diff: true).map(\.file) == ["new/x.txt"])
  }

  @Test func aCombinedDiffCountsLinesInTheResult() throws {
    let kept = try newKey()
    let dropped = try newKey()
    let diff = """
      diff --cc f.txt
      --- a/f.txt
      +++ b/f.txt
      @@@ -1,1 -1,3 +1,3 @@@
        same
      + \(kept.string)
       -\(dropped.string)
      ++both

      """
    let found = scan(diff, diff: true)
    #expect(found == [LeakScanner.Finding(file: "f.txt", line: 2, column: 1, keyID: kept.id, env: .live)])
  }

  @Test func aLongDiffLineAcrossChunks() throws {
    let key = try newKey()
    let long = String(repeating: "y", count: 1000)
    let diff = "diff --git a/m.js b/m.js\n--- a/m.js\n+++ b/m.js\n@@ -1 +1 @@\n-a\n+\(long)\(key.string)\n"
    let found = scan(diff, chunkSize: 200, piece: 37, diff: true)
    #expect(found == [LeakScanner.Finding(file: "m.js", line: 1, column: 1001, keyID: key.id, env: .live)])
  }

  @Test func diffDetection() {
    func detect(_ s: String) -> Bool {
      Array(s.utf8).withUnsafeBufferPointer { LeakScanner.looksLikeDiff($0) }
    }
    #expect(detect("diff --git a/x b/x\n"))
    #expect(detect("diff -ur a b\n"))
    #expect(detect("--- a\n+++ b\n"))
    #expect(!detect("--- \ntitle: yaml\n"))
    #expect(!detect("different\n"))
    #expect(!detect(""))
  }
}
