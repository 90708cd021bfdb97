import Foundation
import Testing

@testable import IVKeysCore

/// `ivkeys scan --git [RANGE]`: keys in a repository's history, each with the commit that added it.
@Suite("scan --git")
struct ScanHistoryTests {
  /// A repository whose root commit holds a key, whose history added another and removed it,
  /// put a third in a binary file and a text file on a branch, and a fourth only while resolving
  /// the merge conflict (keeping the branch's line too); with user settings that change git's
  /// output. Prints `NAME=SHA` for the commits the test checks.
  static let script = """
    set -e
    cd "$1"
    git init -q -b main .
    git config user.email t@example.com
    git config user.name t
    git config color.ui always
    git config diff.noprefix true
    git config log.showSignature true
    git config log.showRoot false
    printf 'x = 1\\nOLD = "%s"\\n' "$5" > app.py
    git add app.py && git commit -q -m one
    echo "root=$(git rev-parse HEAD)"
    printf 'x = 1\\nAPI_KEY = "%s"\\n' "$2" > app.py
    git commit -q -am 'add a key'
    echo "added=$(git rev-parse HEAD)"
    echo 'x = 1' > app.py
    git commit -q -am 'remove the key'
    git checkout -q -b side
    printf '\\000\\001PNG %s\\n' "$3" > logo.png
    printf 'side %s\\n' "$3" > conflict.txt
    git add logo.png conflict.txt && git commit -q -m 'side'
    echo "side=$(git rev-parse HEAD)"
    git checkout -q main
    echo main > conflict.txt
    git add conflict.txt && git commit -q -m 'main side'
    git merge -q side >/dev/null 2>&1 || true
    printf 'side %s\\nresolved %s\\n' "$3" "$4" > conflict.txt
    git add conflict.txt && git commit -q -m merge
    echo "merge=$(git rev-parse HEAD)"
    """

  final class Repository {
    let f: ScanTests.Fixture
    let other: (id: String, key: String)
    let third: (id: String, key: String)
    let commits: [String: String]
    var path: String { f.s.dir.path + "/history" }

    init() throws {
      f = try ScanTests.Fixture()
      other = try f.s.createKey(name: "second")
      third = try f.s.createKey(name: "third")
      let dir = f.s.dir.path + "/history"
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      let r = f.s.exec(
        "/bin/sh", ["-c", ScanHistoryTests.script, "sh", dir, f.live.key, other.key, third.key, f.revoked.key])
      guard r.status == 0 else { throw Sandbox.SandboxError.initFailed("git: \(r.stderr)") }
      var commits = [String: String]()
      for line in r.lines {
        let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
        if parts.count == 2 { commits[parts[0]] = parts[1] }
      }
      self.commits = commits
    }

    /// `ivkeys ARGS` run in the repository.
    func scan(_ args: [String]) -> RunResult {
      f.s.exec("/bin/sh", ["-c", "cd \"$1\" && shift && exec \"$0\" \"$@\"", Sandbox.binary, path] + args)
    }
  }

  @Test func eachKeyIsFoundInTheCommitThatAddedIt() throws {
    let repo = try Repository()
    let r = repo.scan(["scan", "--json", "--git"])
    #expect(r.status == 3, "\(r.stderr)")
    let list = try #require(try r.json() as? [[String: Any]])
    let found = list.map { item in
      "\(item["key_id"] ?? "") \(item["commit"] ?? "") \(item["file"] ?? ""):\(item["line"] ?? "")"
    }
    let c = repo.commits
    // The root commit's key (log.showRoot is false), and the removed one: still in history. The
    // binary file; the merge's own line, but not the line it kept from the branch, which is
    // found in the branch's commit alone.
    #expect(
      found.sorted()
        == [
          "\(repo.f.live.id) \(c["added"] ?? "?") app.py:2",
          "\(repo.f.revoked.id) \(c["root"] ?? "?") app.py:2",
          "\(repo.other.id) \(c["side"] ?? "?") conflict.txt:1",
          "\(repo.other.id) \(c["side"] ?? "?") logo.png:1",
          "\(repo.third.id) \(c["merge"] ?? "?") conflict.txt:2",
        ].sorted(), "\(r.stdout)")
    ScanTests.expectNoSecret(r, [repo.f.live.key, repo.other.key, repo.third.key, repo.f.revoked.key])

    let table = repo.scan(["scan", "--git"])
    #expect(table.status == 3)
    #expect(table.lines.first?.hasPrefix("COMMIT") == true)
    #expect(table.stdout.contains(String((repo.commits["added"] ?? "?").prefix(12)) + "  app.py:2:"))
    #expect(table.stderr.contains("scanned 6 commits"), "\(table.stderr)")
    ScanTests.expectNoSecret(table, [repo.f.live.key, repo.other.key, repo.third.key])
  }

  @Test func aRangeLimitsTheCommitsRead() throws {
    let repo = try Repository()
    let added = try #require(repo.commits["added"])
    // Only the commits after it: the keys of the root and of the commit itself are outside.
    let r = repo.scan(["scan", "-q", "--git", "\(added)..HEAD"])
    #expect(r.status == 3, "\(r.stderr)")
    #expect(Set(r.lines) == [repo.other.id, repo.third.id])
    let none = repo.scan(["scan", "--git", "HEAD..HEAD"])
    #expect(none.status == 0, "\(none.stderr)")
    #expect(none.stdout.isEmpty)
  }

  @Test func badRangesAndPlacesAreUsageErrors() throws {
    let repo = try Repository()
    let head = repo.f.s.run("audit", "head").stdout
    for (args, message) in [
      (["scan", "--git", "no-such-branch"], "bad revision 'no-such-branch'"),
      (["scan", "--git", "\(String(repeating: "ab", count: 20))..HEAD"], "Invalid revision range"),
      (["scan", "--git", "--", "-x"], "'-x' is not a commit range"),
      (["scan", "--git", "a", "b"], "--git takes at most one RANGE"),
      (["scan"], "'ivkeys scan' needs PATH... or --git"),
    ] {
      let r = repo.scan(args)
      #expect(r.status == 2, "\(args): \(r.stderr)")
      #expect(r.stderr.contains("ivkeys: error: ") && r.stderr.contains(message), "\(r.stderr)")
      #expect(r.stdout.isEmpty)
    }
    // Outside any repository.
    let elsewhere = repo.f.s.dir.path + "/elsewhere"
    try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
    let outside = repo.f.s.exec("/bin/sh", ["-c", "cd \"$1\" && exec \"$0\" scan --git", Sandbox.binary, elsewhere])
    #expect(outside.status == 2, "\(outside.stderr)")
    #expect(outside.stderr.contains("not a git repository"))
    #expect(repo.f.s.run("audit", "head").stdout == head)
  }
}
