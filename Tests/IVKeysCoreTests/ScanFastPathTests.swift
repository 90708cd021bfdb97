import Foundation
import Glibc
import IVKeysTestSupport
import Testing

@testable import IVKeysCore

/// The shortcuts that make `scan` fast must not lose a key: the search reads only 32-byte samples
/// every 56 bytes first, and lines are counted 64 bytes a step.
@Suite("scan's fast paths")
struct ScanFastPathTests {
  /// A key deleted one character (89 characters, the shortest run a key can be) or whole, or in
  /// base64 at each alignment, between spaces at every offset from the sample grid: each is found,
  /// in every chunking.
  @Test func theShortestKeyRunIsFoundAtEveryOffsetFromTheSamples() throws {
    let key = try APIKey.generate(env: .test)
    var shortest: [UInt8]?
    // A deletion whose repair is unique (almost any is).
    for i in 8..<APIKey.length {
      var d = Array(key.string.utf8)
      d.remove(at: i)
      if ScannerCheck.findings(in: d).map(\.form) == [.damaged] {
        shortest = d
        break
      }
    }
    let damaged = try #require(shortest)
    let encoded = Array(Data(key.string.utf8).base64EncodedString().utf8)
    for (text, form) in [(Array(key.string.utf8), LeakScanner.Form.exact), (damaged, .damaged), (encoded, .base64)] {
      for offset in 0..<(2 * LeakScanner.sampleStride) {
        let input = [UInt8](repeating: 0x20, count: offset) + text + Array(" end\n".utf8)
        for chunk in [2 * APIKey.length, 300, LeakScanner.defaultChunkSize] {
          let found = ScannerCheck.findings(in: input, chunk: chunk)
          #expect(found.map(\.form) == [form], "offset \(offset), chunk \(chunk)")
          #expect(found.first?.keyID == key.id)
          #expect(found.first?.column == offset + 1)
        }
        if offset % 9 == 0 { #expect(ScannerCheck.problem(in: input) == nil, "offset \(offset)") }
      }
    }
  }

  /// Long runs of key characters that are not keys (hex, base64 of other data, `////` rules)
  /// make the search look closely, and still nothing is reported.
  @Test func denseTextWithoutKeysReportsNothing() {
    var rng = SystemRandomNumberGenerator()
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_".utf8)
    var text = [UInt8]()
    for _ in 0..<3000 {
      text += (0..<Int.random(in: 1...200, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
      text += Array(" sk_live_ c2tf NrX za1\n".utf8)
    }
    #expect(ScannerCheck.findings(in: text, chunk: 4096).isEmpty)
    #expect(ScannerCheck.problem(in: Array(text.prefix(20_000))) == nil)
  }

  @Test func newlinesAreCountedRightPastTheCountersWrapping() {
    var rng = SystemRandomNumberGenerator()
    for n in [0, 15, 16, 17, 127 * 64 - 1, 127 * 64, 127 * 64 + 1, 10_000, 70_000] {
      // Every byte a newline is the worst case for the byte-wide counters.
      for density in [1, 2, 40] {
        let b = (0..<n).map { _ in Int.random(in: 0..<density, using: &rng) == 0 ? UInt8(0x0a) : UInt8(0x78) }
        let counted = b.withUnsafeBufferPointer {
          LeakScanner.countNewlines($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, n)
        }
        #expect(counted == b.filter { $0 == 0x0a }.count, "n \(n), density \(density)")
      }
    }
  }

  /// A file of many chunks, keys far into it: lines and columns are right, and the same whether
  /// the file is named or comes through a pipe (read in pieces of any size).
  @Test func linesFarIntoAFileAgreeWithAPipe() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ivkeys-scan-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let keys = try (0..<4).map { _ in try APIKey.generate(env: .live) }
    var text = ""
    var expected = [(line: Int, column: Int, id: String)]()
    var line = 1
    for (i, key) in keys.enumerated() {
      for j in 0..<(3000 * (i + 1)) {
        text += "let value\(j) = compute(\(j)) // filler line\n"
        line += 1
      }
      text += "  token = \"\(key.string)\"\n"
      expected.append((line, 12, key.id))
      line += 1
    }
    let path = dir.appendingPathComponent("big.txt").path
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))

    // Large enough to be scanned through a mapping; the pipe is read in chunks.
    #expect(text.utf8.count > LeakScanner.mappingThreshold)
    let fromFile = LeakScanner(chunkSize: 4096)
    fromFile.scan(path: path)
    #expect(fromFile.findings.map { [$0.line, $0.column] } == expected.map { [$0.line, $0.column] })
    #expect(fromFile.findings.map(\.keyID) == expected.map(\.id))

    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    let (readEnd, writeEnd) = (fds[0], fds[1])
    let bytes = Array(text.utf8)
    let writer = Thread {
      var at = 0
      while at < bytes.count {
        let n = bytes[at...].withUnsafeBufferPointer { write(writeEnd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        at += n
      }
      close(writeEnd)
    }
    writer.start()
    let fromPipe = LeakScanner(chunkSize: 4096)
    _ = fromPipe.scanStream(fd: readEnd, name: path)
    close(readEnd)
    #expect(fromPipe.findings == fromFile.findings)
  }

  /// A file cut short after it was mapped: the pages past its new end would fault (SIGBUS);
  /// the scan goes on over zeros, finds the key before the cut, and counts the file as not read
  /// whole (a gate must not pass on it).
  @Test func aMappedFileCutShortIsScannedAsFarAsItGoes() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ivkeys-cut-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let (first, last) = (try APIKey.generate(env: .live), try APIKey.generate(env: .test))
    let filler = String(repeating: "nothing to see here, just text\n", count: 100_000)
    let path = dir.appendingPathComponent("big.log").path
    try Data("a=\(first.string)\n\(filler)z=\(last.string)\n".utf8).write(to: URL(fileURLWithPath: path))
    let scanner = LeakScanner()
    var warnings = [String]()
    scanner.onWarning = { warnings.append($0) }
    scanner.afterMapping = { _ = truncate(path, 100_000) }
    scanner.scan(path: path)
    #expect(scanner.findings.map(\.keyID) == [first.id])
    #expect(warnings == ["cannot read '\(path)': Input/output error; skipped"])
    #expect(scanner.statistics.unreadable == 1)
    // Cut to nothing before a byte was read: read instead, as the empty file it now is.
    let empty = LeakScanner()
    empty.afterMapping = { _ = truncate(path, 0) }
    try Data("a=\(first.string)\n\(filler)".utf8).write(to: URL(fileURLWithPath: path))
    empty.scan(path: path)
    #expect(empty.findings.isEmpty && empty.statistics.unreadable == 0 && empty.statistics.files == 1)
    // The handler is disarmed after the scan: the next file is scanned as usual.
    try Data("x=\(last.string)\n\(filler)".utf8).write(to: URL(fileURLWithPath: path))
    let again = LeakScanner()
    again.scan(path: path)
    #expect(again.findings.map(\.keyID) == [last.id])
  }

  /// Standard input that is a large regular file holding a diff is mapped and read as a diff:
  /// only added lines count.
  @Test func aLargeDiffOnStandardInputIsReadAsADiff() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ivkeys-diff-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let (removed, added) = (try APIKey.generate(env: .live), try APIKey.generate(env: .live))
    var diff = "diff --git a/x.txt b/x.txt\n--- a/x.txt\n+++ b/x.txt\n@@ -1,50001 +1,50001 @@\n"
    diff += "-old=\(removed.string)\n"
    diff += String(repeating: " unchanged context line\n", count: 50_000)
    diff += "+new=\(added.string)\n"
    let path = dir.appendingPathComponent("change.diff").path
    try Data(diff.utf8).write(to: URL(fileURLWithPath: path))
    #expect(diff.utf8.count > LeakScanner.mappingThreshold)
    let fd = open(path, O_RDONLY)
    defer { close(fd) }
    let scanner = LeakScanner()
    #expect(scanner.scanStream(fd: fd) == .scanned)
    #expect(scanner.findings.map { [$0.keyID, $0.file, "\($0.line)"] } == [[added.id, "x.txt", "50001"]])
  }

  /// A mapped file is searched in windows: keys of every form every few hundred bytes, some
  /// across each window's edge, are found exactly as when the same bytes are read in chunks.
  @Test func aMappedFileFindsWhatAReadFileFinds() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ivkeys-map-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    var rng = SystemRandomNumberGenerator()
    let keys = try (0..<40).map { _ in try APIKey.generate(env: .live).string }
    var text = [UInt8]()
    while text.count < 3 * LeakScanner.mappingThreshold / 2 {
      text += Array(String(repeating: "x", count: Int.random(in: 0..<600, using: &rng)).utf8) + [0x0a]
      let key = keys.randomElement(using: &rng)!
      switch Int.random(in: 0..<3, using: &rng) {
      case 0: text += Array("k=\(key)".utf8)
      case 1: text += Array("b=\(Data(key.utf8).base64EncodedString())".utf8)
      default: text += Array("d=\(key.dropLast())".utf8)  // one deletion: damaged, or not found
      }
    }
    let path = dir.appendingPathComponent("many.txt").path
    try Data(text).write(to: URL(fileURLWithPath: path))
    let mapped = LeakScanner()
    mapped.scan(path: path)
    let read = ScannerCheck.findings(in: text, chunk: 4096).map {
      LeakScanner.Finding(
        file: path, line: $0.line, column: $0.column, keyID: $0.keyID, env: $0.env, form: $0.form)
    }
    #expect(mapped.findings.count > 2000)
    #expect(mapped.findings == read)
  }
}
