import Foundation
import Testing

@testable import IVKeysCore

/// `ivkeys scan`: keys with a valid checksum in files, trees, stdin and diffs; their status in
/// the vault when there is one; the secret never printed; exit 3 when found, 0 when not.
@Suite("scan")
struct ScanTests {
  /// A sandbox with a `repo` directory holding a live key, a revoked key, a key with a bad
  /// checksum, a Stripe-shaped string, a key under `.git` and a binary file with a key.
  final class Fixture {
    let s: Sandbox
    let live: (id: String, key: String)
    let revoked: (id: String, key: String)
    var repo: String { s.dir.path + "/repo" }

    init() throws {
      s = try Sandbox()
      live = try s.createKey()
      revoked = try s.createKey(["--env", "test"])
      let r = s.run("revoke", revoked.id, "--reason", "x")
      guard r.status == 0 else { throw Sandbox.SandboxError.initFailed(r.stderr) }
      try write("app/config.py", "import os\n\nAPI_KEY = \"\(live.key)\"\n")
      try write("old.env", "# rotated away\nKEY=\(revoked.key)\n")
      try write("typo.txt", "almost: \(Self.badChecksum(live.key))\n")
      try write("stripe.txt", "STRIPE_SECRET_KEY=\(Self.stripe)\n")
      try write(".git/COMMIT_EDITMSG", "oops \(live.key)\n")
      try Data([0, 1, 2] + Array(" \(live.key)\n".utf8)).write(to: URL(fileURLWithPath: repo + "/logo.png"))
    }

    func write(_ path: String, _ text: String) throws {
      let url = URL(fileURLWithPath: repo + "/" + path)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(text.utf8).write(to: url)
    }

    static let stripe =
      "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"

    /// The key with its last two check digits changed: two edits away, so not even a damaged key.
    /// The key with both of its last two check digits changed: two edits from the key, so not a
    /// damaged key either (one changed digit would be repaired and reported).
    static func badChecksum(_ key: String) -> String {
      let tail = Array(key.suffix(2))
      func other(_ c: Character) -> Character { c == "0" ? "1" : "0" }
      return String(key.dropLast(2)) + String(other(tail[0])) + String(other(tail[1]))
    }
  }

  /// The secret and check digits of a key: what must never be printed.
  static func secretPart(_ key: String) -> String { String(key.dropFirst(41)) }

  /// Neither the secret of any of `keys` nor any 12 characters of it appear in the output.
  static func expectNoSecret(_ r: RunResult, _ keys: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    for k in keys {
      let secret = secretPart(k)
      for start in stride(from: 0, to: secret.count - 12, by: 6) {
        let piece = String(Array(secret)[start..<(start + 12)])
        #expect(!r.stdout.contains(piece), "secret on stdout", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains(piece), "secret on stderr", sourceLocation: sourceLocation)
      }
    }
  }

  /// Table rows as columns, without the header.
  static func rows(_ r: RunResult) -> [[String]] {
    r.lines.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
  }

  @Test func aTreeWithKeysGivesTheirPlacesStatusesAndExit3() throws {
    let f = try Fixture()
    let r = f.s.run("scan", f.repo)
    #expect(r.status == 3, "\(r.stderr)")
    #expect(
      r.lines.first?.split(separator: " ", omittingEmptySubsequences: true) == [
        "LOCATION", "KEY", "ID", "ENV", "STATUS", "FORM", "KEY",
      ])
    // Sorted by path; the bad checksum, the Stripe key and .git are not reported; the binary file
    // is read as the hook reads a stream.
    #expect(
      Self.rows(r) == [
        ["\(f.repo)/app/config.py:3:12", f.live.id, "live", "active", "exact", "sk_live_\(f.live.id)_…"],
        ["\(f.repo)/logo.png:1:5", f.live.id, "live", "active", "exact", "sk_live_\(f.live.id)_…"],
        ["\(f.repo)/old.env:2:5", f.revoked.id, "test", "revoked", "exact", "sk_test_\(f.revoked.id)_…"],
      ])
    // The columns line up under the header.
    let header = try #require(r.lines.first)
    let statusColumn = try #require(header.range(of: "STATUS")).lowerBound.utf16Offset(in: header)
    for line in r.lines.dropFirst() {
      let s = Array(line.utf16)
      #expect(s.count > statusColumn && s[statusColumn - 1] == 0x20 && s[statusColumn] != 0x20, "\(line)")
    }
    #expect(r.stderr.contains("ivkeys: scanned 5 files"))
    #expect(r.stderr.contains("found 3 keys"))
    #expect(!r.stderr.contains("binary"))
    Self.expectNoSecret(r, [f.live.key, f.revoked.key])
  }

  @Test func jsonGivesAnArrayOfSnakeCaseObjects() throws {
    let f = try Fixture()
    let r = f.s.run("scan", f.repo + "/app", f.repo + "/old.env", "--json")
    #expect(r.status == 3)
    let list = try #require(try r.json() as? [[String: Any]])
    #expect(list.count == 2)
    #expect(
      list.map { Set($0.keys) }
        == Array(repeating: ["file", "line", "column", "key_id", "env", "status", "form", "masked"], count: 2))
    #expect(list[0]["file"] as? String == f.repo + "/app/config.py")
    #expect(list[0]["line"] as? Int == 3)
    #expect(list[0]["column"] as? Int == 12)
    #expect(list[0]["key_id"] as? String == f.live.id)
    #expect(list[0]["env"] as? String == "live")
    #expect(list[0]["status"] as? String == "active")
    #expect(list[0]["form"] as? String == "exact")
    #expect(list[0]["masked"] as? String == "sk_live_\(f.live.id)_…")
    #expect(list[1]["file"] as? String == f.repo + "/old.env")
    #expect(list[1]["status"] as? String == "revoked")
    #expect(list[1]["env"] as? String == "test")
    #expect(r.stderr.isEmpty)
    Self.expectNoSecret(r, [f.live.key, f.revoked.key])
  }

  @Test func quietPrintsEachIdOnce() throws {
    let f = try Fixture()
    try f.write("again.txt", "\(f.live.key)\n\(f.live.key)\n")
    let r = f.s.run("scan", "-q", f.repo)
    #expect(r.status == 3)
    #expect(r.lines == [f.live.id, f.revoked.id])
  }

  @Test func nothingFoundIsExit0() throws {
    let f = try Fixture()
    let clean = [f.repo + "/typo.txt", f.repo + "/stripe.txt", f.repo + "/.git"]
    let r = f.s.run(["scan"] + clean.dropLast())
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.contains("found no keys"))
    let j = f.s.run(["scan", "--json"] + clean.dropLast())
    #expect(j.status == 0)
    #expect(j.stdout == "[]\n")
    // A .git directory named on the command line is read: only the walk skips it.
    #expect(f.s.run("scan", "-q", clean[2]).lines == [f.live.id])
  }

  @Test func unknownSuspendedRotatingAndExpiredStatusesComeFromTheVault() throws {
    let f = try Fixture()
    let stranger = try APIKey.generate(env: .live).string
    let suspended = try f.s.createKey()
    #expect(f.s.run("suspend", suspended.id, "--reason", "x").status == 0)
    let rotated = try f.s.createKey()
    #expect(f.s.run("rotate", rotated.id, "-q").status == 0)
    let expired = try f.s.createKey()
    // Past its expiry but not swept: stored 'active', and 'expired' as show says.
    try f.s.edit("UPDATE keys SET expires_at = 1 WHERE id = ?", [.text(expired.id)])
    try f.s.reseal(expired.id)
    #expect((try f.s.run("show", expired.id, "--json").json() as? [String: Any])?["status"] as? String == "expired")
    try f.write("more.txt", [stranger, suspended.key, rotated.key, expired.key].joined(separator: "\n") + "\n")
    let vaultBefore = f.s.vaultBytes()
    let auditBefore = f.s.auditCount
    let r = f.s.run("scan", "--json", f.repo + "/more.txt")
    #expect(r.status == 3)
    let list = try #require(try r.json() as? [[String: Any]])
    #expect(list.compactMap { $0["status"] as? String } == ["unknown", "suspended", "rotating", "expired"])
    #expect(list.compactMap { $0["line"] as? Int } == [1, 2, 3, 4])
    // Scan reads the vault and never writes it.
    #expect(f.s.vaultBytes() == vaultBefore)
    #expect(f.s.auditCount == auditBefore)
    Self.expectNoSecret(r, [stranger, suspended.key, rotated.key, expired.key])
  }

  @Test func aDamagedKeyIsReportedWithTheRepairedIDAndStatus() throws {
    let f = try Fixture()
    var chars = Array(f.live.key)
    chars[60] = chars[60] == "a" ? "b" : "a"
    let typo = String(chars)
    let deleted = String(f.revoked.key.prefix(30) + f.revoked.key.dropFirst(31))
    try f.write("notes.md", "pasted: \(typo)\nand `\(deleted)`\n")
    let r = f.s.run("scan", f.repo + "/notes.md")
    #expect(r.status == 3, "\(r.stderr)")
    #expect(
      Self.rows(r) == [
        ["\(f.repo)/notes.md:1:9", f.live.id, "live", "active", "damaged", "sk_live_\(f.live.id)_…"],
        ["\(f.repo)/notes.md:2:6", f.revoked.id, "test", "revoked", "damaged", "sk_test_\(f.revoked.id)_…"],
      ])
    let j = f.s.run("scan", "--json", f.repo + "/notes.md")
    let list = try #require(try j.json() as? [[String: Any]])
    #expect(list.map { $0["form"] as? String } == ["damaged", "damaged"])
    #expect(list.map { $0["key_id"] as? String } == [f.live.id, f.revoked.id])
    Self.expectNoSecret(r, [f.live.key, f.revoked.key, typo, deleted])
    Self.expectNoSecret(j, [f.live.key, f.revoked.key, typo, deleted])
  }

  @Test func standardInputIsFileDash() throws {
    let f = try Fixture()
    let r = f.s.run("scan", "-", stdin: "line one\n  token: '\(f.live.key)'\n")
    #expect(r.status == 3)
    #expect(Self.rows(r) == [["-:2:11", f.live.id, "live", "active", "exact", "sk_live_\(f.live.id)_…"]])
    Self.expectNoSecret(r, [f.live.key])
    let clean = f.s.run("scan", "-", stdin: "nothing here \(Fixture.stripe)\n")
    #expect(clean.status == 0)
    #expect(clean.stdout.isEmpty)
  }

  @Test func aStagedDiffReportsAddedLinesOnly() throws {
    let f = try Fixture()
    let diff = """
      diff --git a/app/config.py b/app/config.py
      index 1111111..2222222 100644
      --- a/app/config.py
      +++ b/app/config.py
      @@ -1,3 +1,4 @@
       import os
      -OLD = "\(f.revoked.key)"
      +
      +API_KEY = "\(f.live.key)"
       print(os.environ)

      """
    let r = f.s.run("scan", "-", "--json", stdin: diff)
    #expect(r.status == 3)
    let list = try #require(try r.json() as? [[String: Any]])
    #expect(list.count == 1)
    #expect(list.first?["file"] as? String == "app/config.py")
    #expect(list.first?["line"] as? Int == 3)
    #expect(list.first?["column"] as? Int == 12)
    #expect(list.first?["key_id"] as? String == f.live.id)
    Self.expectNoSecret(r, [f.live.key, f.revoked.key])

    // A commit that removes a leaked key is not blocked.
    let removal =
      "diff --git a/old.env b/old.env\n--- a/old.env\n+++ b/old.env\n@@ -1,2 +1 @@\n # rotated away\n-KEY=\(f.revoked.key)\n"
    let ok = f.s.run("scan", "-", stdin: removal)
    #expect(ok.status == 0, "\(ok.stdout)")
    #expect(ok.stdout.isEmpty)
  }

  @Test func aRealGitPreCommitDiff() throws {
    let f = try Fixture()
    let git = "/usr/bin/git"
    try #require(FileManager.default.isExecutableFile(atPath: git), "git is needed (make test installs it)")
    let work = f.s.dir.path + "/work"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    let script = """
      set -e
      cd "\(work)"
      git init -q .
      git -c user.email=t@example.com -c user.name=t commit -q --allow-empty -m init
      printf 'a\\nb\\nKEY=%s\\n' "$1" > leak.txt
      # A commit can mark its own files as binary, which a plain 'git diff' then does not show.
      printf '*.env -diff\\n' > .gitattributes
      printf 'KEY=%s\\n' "$1" > prod.env
      git add leak.txt .gitattributes prod.env
      # Settings users have that change git's diff output; the hook's options undo them.
      git config color.ui always
      git config diff.noprefix true
      git diff --cached --text --no-color --no-ext-diff --no-textconv --src-prefix=a/ --dst-prefix=b/ | "$0" scan -
      """
    let r = f.s.exec("/bin/sh", ["-c", script, Sandbox.binary, f.live.key])
    #expect(r.status == 3, "\(r.stderr)")
    #expect(
      Self.rows(r) == [
        ["leak.txt:3:5", f.live.id, "live", "active", "exact", "sk_live_\(f.live.id)_…"],
        ["prod.env:1:5", f.live.id, "live", "active", "exact", "sk_live_\(f.live.id)_…"],
      ])
  }

  @Test func whatCannotBeExaminedFailsTheGateButALinkToNothingDoesNot() throws {
    let s = try Sandbox()
    let tree = s.dir.path + "/tree"
    try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
    try "plain text\n".write(toFile: tree + "/a.txt", atomically: true, encoding: .utf8)
    try FileManager.default.createSymbolicLink(atPath: tree + "/gone", withDestinationPath: tree + "/no-such-file")
    let clean = s.run("scan", tree)
    #expect(clean.status == 0, "a dangling link holds nothing to read: \(clean.stderr)")
    #expect(!clean.stderr.contains("warning"))
    // A link whose target cannot be examined (ENOTDIR here; EACCES for another user's file).
    try FileManager.default.createSymbolicLink(atPath: tree + "/odd", withDestinationPath: tree + "/a.txt/inner")
    let odd = s.run("scan", tree)
    #expect(odd.status == 1, "\(odd.stderr)")
    #expect(odd.stderr.contains("ivkeys: warning: cannot read '\(tree)/odd': Not a directory; skipped"))
    #expect(odd.stderr.contains("the scan is incomplete"))
    // A device named on the command line is not read, so it is not "no keys" either.
    let device = s.run("scan", "/dev/null")
    #expect(device.status == 1)
    #expect(device.stderr.contains("not a regular file, a directory or a pipe"))
  }

  @Test func aPathThatIsNotUTF8IsScannedAsGiven() throws {
    let f = try Fixture()
    // Latin-1 "café.txt": byte 0xE9 is not UTF-8; Swift would read the argument as "caf\u{FFFD}.txt".
    let script = """
      set -e
      mkdir -p "$1/lat"
      printf 'KEY=%s\\n' "$2" > "$1/lat/caf$(printf '\\351').txt"
      "$0" scan -q "$1/lat/caf$(printf '\\351').txt"
      """
    let r = f.s.exec("/bin/sh", ["-c", script, Sandbox.binary, f.s.dir.path, f.live.key])
    #expect(r.status == 3, "\(r.stderr)")
    #expect(r.lines == [f.live.id])
  }

  @Test func withoutAVaultStatusesAreAbsent() throws {
    let f = try Fixture()
    let home = f.s.dir.path + "/empty-home"
    try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    let noVault = ["IVKEYS_VAULT": "", "IVKEYS_SECRET_FILE": "", "HOME": home]
    let r = f.s.run("scan", f.repo, env: noVault)
    #expect(r.status == 3, "\(r.stderr)")
    #expect(Self.rows(r).map { $0[3] } == ["-", "-", "-"])
    #expect(
      Self.rows(r).map { $0[0] } == [
        "\(f.repo)/app/config.py:3:12", "\(f.repo)/logo.png:1:5", "\(f.repo)/old.env:2:5",
      ])
    let j = f.s.run("scan", "--json", f.repo, env: noVault)
    #expect(j.status == 3)
    let list = try #require(try j.json() as? [[String: Any]])
    #expect(list.count == 3)
    #expect(list.allSatisfy { $0["status"] is NSNull })
    // Nothing was created at the default location.
    #expect(!FileManager.default.fileExists(atPath: home + "/.local/share/ivkeys"))
    Self.expectNoSecret(r, [f.live.key, f.revoked.key])
  }

  @Test func aVaultNamedButMissingIsAnError() throws {
    let f = try Fixture()
    let missing = f.s.dir.path + "/nowhere/vault.db"
    for r in [f.s.run("scan", f.repo, env: ["IVKEYS_VAULT": missing]), f.s.run("scan", "--vault", missing, f.repo)] {
      #expect(r.status == 1)
      #expect(r.stdout.isEmpty)
      #expect(r.stderr.contains("ivkeys: error: no vault at \(missing)"))
      #expect(r.stderr.contains("ivkeys: hint: "))
    }
  }

  @Test func aMissingPathIsAUsageErrorAndPrintsNothing() throws {
    let f = try Fixture()
    let r = f.s.run("scan", f.repo, f.repo + "/no-such-file")
    #expect(r.status == 2)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.hasPrefix("ivkeys: error: '\(f.repo)/no-such-file': no such file or directory"))
    let twice = f.s.run("scan", "-", "-", stdin: "")
    #expect(twice.status == 2)
    #expect(f.s.run("scan").status == 2)
  }

  @Test func controlCharactersInFileNamesAreEscaped() throws {
    let f = try Fixture()
    try f.write("evil\u{1b}[2Jname.txt", "k=\(f.live.key)\n")
    let r = f.s.run("scan", f.repo + "/evil\u{1b}[2Jname.txt")
    #expect(r.status == 3)
    #expect(!r.stdout.contains("\u{1b}"))
    #expect(r.stdout.contains("evil\\x1b[2Jname.txt:1:3"))
  }

  @Test func aFileNamedAfterAKeyDoesNotPrintTheSecret() throws {
    let f = try Fixture()
    try f.write("leaks/\(f.live.key).txt", "k=\(f.live.key)\n")
    let r = f.s.run("scan", f.repo + "/leaks")
    #expect(r.status == 3)
    #expect(r.stdout.contains("/leaks/sk_live_\(f.live.id)_….txt:1:3"))
    Self.expectNoSecret(r, [f.live.key])
    let j = f.s.run("scan", "--json", f.repo + "/leaks")
    Self.expectNoSecret(j, [f.live.key])
  }

  @Test func anUnreadableFileIsAWarningAndTheRestIsScanned() throws {
    let f = try Fixture()
    // /proc/self/mem is a regular file whose first page cannot be read (EIO), even for root.
    guard FileManager.default.fileExists(atPath: "/proc/self/mem") else { return }
    let r = f.s.run("scan", "/proc/self/mem", f.repo + "/app")
    #expect(r.status == 3)
    #expect(r.stderr.contains("ivkeys: warning: cannot read '/proc/self/mem': "))
    #expect(Self.rows(r).count == 1)
    // With nothing found, what could not be read fails the gate: exit 1, not "no keys".
    let alone = f.s.run("scan", "/proc/self/mem", f.repo + "/clean-dir-that-is-missing-no")
    #expect(alone.status == 2, "a missing path is still a usage error")
    let incomplete = f.s.run("scan", "/proc/self/mem")
    #expect(incomplete.status == 1)
    #expect(incomplete.stderr.contains("ivkeys: error: the scan is incomplete: 1 file or directory could not be read"))
  }
}
