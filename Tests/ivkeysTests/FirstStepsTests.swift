import Foundation
import Testing

@testable import IVKeysCLI
@testable import IVKeysCore

/// What a new user tripped over, each pinned end to end: bare `ivkeys`, `help` of an unknown
/// command, counts, `verify` on a terminal, tables on a terminal, `audit` on a terminal,
/// `rotation-due --within`.
@Suite("first steps")
struct FirstStepsTests {
  /// Runs `ivkeys ARGS` on a terminal: script(1) gives it a pty for stdin, stdout and stderr,
  /// whose width is unknown (so `$COLUMNS` decides). stdout holds both streams, `\r\n` made `\n`.
  static func onTerminal(_ s: Sandbox, _ args: [String], env: [String: String] = [:], input: String = "")
    -> RunResult
  {
    let command = ([Sandbox.binary] + args).map(Completion.shellQuote).joined(separator: " ")
    let r = s.exec("/usr/bin/script", ["-qec", command, "/dev/null"], env: env, stdin: input)
    return RunResult(status: r.status, stdout: r.stdout.replacingOccurrences(of: "\r\n", with: "\n"), stderr: r.stderr)
  }

  @Test func bareIvkeysPrintsTheOverviewAsAUsageError() throws {
    let s = try Sandbox(initialize: false)
    let r = s.run([])
    #expect(r.status == 2)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.hasPrefix("ivkeys: administer InstaView API keys\n"), "\(r.stderr)")
    #expect(r.stderr.contains("usage: ivkeys COMMAND [options]"))
    #expect(r.stderr == Help.overview() + "\n")
  }

  @Test func helpOfAnUnknownCommandSaysWhatTheCommandItselfSays() throws {
    let s = try Sandbox(initialize: false)
    for words in [["lsit"], ["frobnicate"], ["scopes", "lsit"], ["admin", "ad"]] {
      let direct = s.run(words)
      let help = s.run(["help"] + words)
      #expect(help.status == 2 && direct.status == 2)
      #expect(help.stderr == direct.stderr, "help \(words): \(help.stderr) vs \(direct.stderr)")
    }
    #expect(
      s.run("help", "lsit").stderr == "ivkeys: error: unknown command 'lsit'\nivkeys: hint: did you mean 'list'?\n")
    #expect(s.run("help", "frobnicate").stderr.contains("ivkeys: hint: 'ivkeys --help' lists the commands"))
  }

  @Test func countsAreSingularOrPlural() throws {
    #expect(plural(1, "bad line") == "1 bad line")
    #expect(plural(2, "bad line") == "2 bad lines")
    #expect(plural(0, "key") == "0 keys")
    #expect(plural(Int64(1), "audit entry", "audit entries") == "1 audit entry")
    let s = try Sandbox()
    let one = s.run(["usage", "import", "-"], stdin: "not json\n")
    #expect(one.status == 0, "\(one.stderr)")
    #expect(one.stdout.contains("1 bad line\n") && one.stdout.contains("imported 0 requests;"), "\(one.stdout)")
    let two = s.run(["usage", "import", "-"], stdin: "not json\nnor this\n")
    #expect(two.stdout.contains("2 bad lines\n"), "\(two.stdout)")
    guard Engine.isSQLite else { return }  // PostgreSQL vaults are backed up with pg_dump.
    let backup = s.run("backup", s.dir.path + "/copy.db")
    #expect(backup.stdout.hasPrefix("backed up 0 keys and "), "\(backup.stdout)")
    #expect(!backup.stdout.contains(" 1 audit entries") && !backup.stdout.contains(" 1 keys"), "\(backup.stdout)")
  }

  @Test func verifyOnATerminalSaysWhereItReadsTheKeyFrom() throws {
    let s = try Sandbox()
    let notice = "ivkeys: reading the key from standard input (or use --key-file or IVKEYS_KEY)"
    let tty = Self.onTerminal(
      s, ["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read", "--no-color"])
    #expect(tty.stdout.contains(notice + "\n"), "\(tty.stdout)")
    #expect(tty.status == 10, "no key, so 401")
    let piped = s.run(["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read"], stdin: "")
    #expect(!piped.stderr.contains("reading the key"), "only a terminal is told: \(piped.stderr)")
  }

  @Test func aKeyAsABareArgumentIsRefusedLikeKeyAndNeverEchoed() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let audits = s.auditCount
    let bare = s.run(["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read", k.key])
    let option = s.run(["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read", "--key", k.key])
    #expect(bare.status == 2 && option.status == 2)
    #expect(bare.stdout.isEmpty)
    #expect(bare.stderr.contains("ivkeys: error: keys are never read from the command line"), "\(bare.stderr)")
    #expect(bare.stderr == option.stderr)
    #expect(!bare.stderr.contains(k.key))
    #expect(s.auditCount == audits, "nothing was decided")
  }

  @Test func tablesFitATerminalAndArePipedWhole() throws {
    let s = try Sandbox()
    let name = String(repeating: "a very long name ", count: 8)
    let k = try s.createKey(name: name)
    let tty = Self.onTerminal(s, ["list", "--no-color"], env: ["COLUMNS": "100"])
    let lines = tty.stdout.split(separator: "\n")
    #expect(lines.count == 2, "\(tty.stdout)")
    #expect(lines.allSatisfy { $0.unicodeScalars.count <= 100 }, "\(tty.stdout)")
    #expect(lines.last?.contains(k.id) == true, "ids are never cut: \(tty.stdout)")
    #expect(lines.last?.contains("…") == true)
    let piped = s.run("list")
    #expect(piped.stdout.contains(name.trimmingCharacters(in: .whitespaces)) && !piped.stdout.contains("…"))
  }

  @Test func fittingCutsTheWidestTextColumnsFirst() {
    // 32 + 40 + 10 and two gaps of 2 is 86: 26 too wide for 60.
    #expect(Table.fit([32, 40, 10], cuttable: [false, true, true], minimums: [2, 4, 6], to: 60) == [32, 14, 10])
    // Both text columns shrink once they are as wide as each other.
    #expect(Table.fit([10, 30, 30], cuttable: [false, true, true], minimums: [2, 4, 4], to: 44) == [10, 15, 15])
    // Never below a column's minimum, even when it cannot fit.
    #expect(Table.fit([32, 20], cuttable: [false, true], minimums: [2, 6], to: 20) == [32, 6])
    #expect(Table.fit([5, 5], cuttable: [true, true], minimums: [1, 1], to: 80) == [5, 5])
    var t = Table(headers: ["ID", "NAME"], useColor: false, width: 12)
    t.measure([Cell("abcdef"), Cell("a long name")])
    #expect(t.header() == "ID      NAME")
    #expect(t.render([Cell("abcdef"), Cell("a long name")]) == "abcdef  a l…")
  }

  @Test func auditOnATerminalShowsTheNewest50AndSaysSo() throws {
    let s = try Sandbox()
    _ = s.run("create", "--company", "acme", "--name", "n", "--scope", "jobs:read", "--count", "3", "-q")
    for i in 0..<50 { _ = s.run("update", try s.createKey().id, "--name", "renamed \(i)") }
    let all = s.run("audit", "-q").lines
    #expect(all.count > 50)
    let tty = Self.onTerminal(s, ["audit", "-q"])
    let footer = "ivkeys: showing the newest 50 of \(all.count) entries; use --limit N, or pipe the output for all"
    #expect(tty.stdout.hasSuffix(footer + "\n"), "\(tty.stdout.suffix(300))")
    #expect(tty.stdout.split(separator: "\n").dropLast().map(String.init) == Array(all.suffix(50)), "oldest first")
    let limited = Self.onTerminal(s, ["audit", "-q", "--limit", "3"])
    #expect(limited.stdout.split(separator: "\n").map(String.init) == Array(all.suffix(3)))
  }

  @Test func rotationDueWithinListsKeysBeforeTheyAreDue() throws {
    let s = try Sandbox()
    let reader = try s.createKey(scope: "jobs:read")  // rotated every 180 days
    let writer = try s.createKey(["--expires-in", "60d"], scope: "jobs:write")  // every 90 days
    #expect(s.run("rotation-due", "-q").lines.isEmpty)
    #expect(s.run("rotation-due", "--within", "100d", "-q").lines == [writer.id])
    #expect(s.run("rotation-due", "--within", "200d", "-q").lines == [writer.id, reader.id], "soonest due first")
    #expect(s.run("rotation-due", "--within", "100d", "--check").status == 3)
    #expect(s.run("rotation-due", "--check").status == 0)
    let json = try #require(try s.run("rotation-due", "--within", "100d", "--json").json() as? [[String: Any]])
    #expect((json.first?["overdue_seconds"] as? Int).map { $0 < 0 } == true, "not due yet: negative")
    let table = s.run("rotation-due", "--within", "100d")
    #expect(table.stdout.contains("due in "), "\(table.stdout)")
    #expect(s.run("rotation-due", "--within", "soon").status == 2)
  }
}
