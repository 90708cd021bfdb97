import Foundation
import Testing

@testable import IVKeysCore

/// `ivkeys scan --git [RANGE]`: keys in a repository's history, each with the commit that added it.
@Suite("scan --git")
struct ScanHistoryTests {
  /// A repository whose history added a key, removed it, put another in a binary file on a
  /// branch, and a third only while resolving a merge conflict; with user settings that change
  /// git's output. Prints `NAME=SHA` for the commits the test checks.
  static let script = """
    set -e
    cd "$1"
    git init -q -b main .
    git config user.email t@example.com
    git config user.name t
    git config color.ui always
    git config diff.noprefix true
    git config log.showSignature true
    echo 'x = 1' > app.py
    git add app.py && git commit -q -m one
    printf 'x = 1\\nAPI_KEY = "%s"\\n' "$2" > app.py
    git commit -q -am 'add a key'
    echo "added=$(git rev-parse HEAD)"
    echo 'x = 1' > app.py
    git commit -q -am 'remove the key'
    git checkout -q -b side
    printf '\\000\\001PNG %s\\n' "$3" > logo.png
    echo side > conflict.txt
    git add logo.png conflict.txt && git commit -q -m 'side'
    echo "binary=$(git rev-parse HEAD)"
    git checkout -q main
    echo main > conflict.txt
    git add conflict.txt && git commit -q -m 'main side'
    git merge -q side >/dev/null 2>&1 || true
    printf 'resolved %s\\n' "$4" > conflict.txt
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
      let r = f.s.exec("/bin/sh", ["-c", ScanHistoryTests.script, "sh", dir, f.live.key, other.key, third.key])
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
    var found = [String: [String]]()
    for item in list {
      let id = try #require(item["key_id"] as? String)
      found[id] = [item["commit"] as? String ?? "", item["file"] as? String ?? "", "\(item["line"] ?? "")"]
    }
    // The removed key still counts: it is in history. The binary file and the merge resolution
    // are found too; the merge's line that came from a parent is not reported twice.
    #expect(found[repo.f.live.id] == [repo.commits["added"] ?? "?", "app.py", "2"])
    #expect(found[repo.other.id] == [repo.commits["binary"] ?? "?", "logo.png", "1"])
    #expect(found[repo.third.id] == [repo.commits["merge"] ?? "?", "conflict.txt", "1"])
    #expect(list.count == 3, "\(r.stdout)")
    ScanTests.expectNoSecret(r, [repo.f.live.key, repo.other.key, repo.third.key])

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
    // Only the merge and its side: the key added on main before them is outside.
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
