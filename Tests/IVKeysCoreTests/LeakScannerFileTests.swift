import Foundation
import Testing

@testable import IVKeysCore

/// A fresh key from the CSPRNG.
private func newKey(_ env: KeyEnvironment = .live) throws -> APIKey { try APIKey.generate(env: env) }

/// The scanner over files and directory trees: walk order, skipped names, unreadable files.
@Suite("leak scanner: files and directories")
struct LeakScannerFileTests {
  @Test func walksInNameOrderSkippingGitAndDirectoryLinksReadingBinaryFiles() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("leakscan-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let fm = FileManager.default
    let keys = try (0..<6).map { _ in try newKey() }
    func write(_ path: String, _ text: String) throws {
      let url = root.appendingPathComponent(path)
      try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(text.utf8).write(to: url)
    }
    try write("b.txt", "b \(keys[0].string)\n")
    try write("a/z.txt", "z \(keys[1].string)\n")
    try write("a.txt", "a \(keys[2].string)\n")
    try write(".git/config", "g \(keys[3].string)\n")
    try write("sub/.git", "gitdir: \(keys[3].string)\n")
    try Data([0x00, 0x01] + Array(" \(keys[4].string)".utf8)).write(to: root.appendingPathComponent("image.bin"))
    try write("outside/o.txt", "o \(keys[5].string)\n")
    try fm.createSymbolicLink(atPath: root.path + "/a/linkdir", withDestinationPath: root.path + "/outside")
    try fm.createSymbolicLink(atPath: root.path + "/c-link.txt", withDestinationPath: root.path + "/b.txt")
    try fm.createSymbolicLink(atPath: root.path + "/dangling", withDestinationPath: root.path + "/nowhere")

    let scanner = LeakScanner()
    var warnings = [String]()
    scanner.onWarning = { warnings.append($0) }
    scanner.scan(path: root.path + "/")
    let files = scanner.findings.map { String($0.file.dropFirst(root.path.count + 1)) }
    // Byte order: "a" < "a.txt" < "b.txt" < "c-link.txt" < "image.bin" < "outside"; .git is
    // skipped, a/linkdir is not followed, the file link is read under its own name, the binary
    // file is read like text.
    #expect(files == ["a/z.txt", "a.txt", "b.txt", "c-link.txt", "image.bin", "outside/o.txt"])
    #expect(scanner.findings.map(\.column) == [3, 3, 3, 3, 4, 3])
    #expect(scanner.statistics.binaryFiles == 0)
    #expect(scanner.statistics.files == 6)
    #expect(warnings.isEmpty)
  }

  @Test func anUnreadableFileIsAWarningNotAFailure() throws {
    // /proc/self/mem opens as a regular file and fails on read at offset 0 (EIO), even for root.
    guard FileManager.default.fileExists(atPath: "/proc/self/mem") else { return }
    let scanner = LeakScanner()
    var warnings = [String]()
    scanner.onWarning = { warnings.append($0) }
    scanner.scan(path: "/proc/self/mem")
    #expect(warnings.count == 1)
    #expect(warnings.first?.hasPrefix("cannot read '/proc/self/mem': ") == true)
    #expect(scanner.statistics.unreadable == 1)
    #expect(scanner.findings.isEmpty)
  }
}
