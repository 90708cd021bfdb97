import Foundation
import Testing

@testable import IVKeysCore

@Suite("hardening found in review")
struct HardeningTests {
  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func aLooseVaultModeIsTightenedOnOpen() throws {
    let s = try Sandbox()
    chmod(s.vault, 0o644)
    let r = s.run("list", "-q")
    #expect(r.status == 0)
    #expect(r.stderr.contains("ivkeys: warning: \(s.vault) was mode 644; it is now 600"))
    #expect(s.mode(s.vault) == 0o600)
    #expect(!s.run("list", "-q").stderr.contains("warning"))
  }

  @Test(.timeLimit(.minutes(1)))
  func aFIFOInPlaceOfTheSecretDoesNotHang() throws {
    let s = try Sandbox()
    let fifo = s.dir.path + "/fifo"
    #expect(mkfifo(fifo, 0o600) == 0)
    let r = s.run("list", "--secret-file", fifo)
    #expect(r.status == 1)
    #expect(r.stderr.contains("not a regular file"))
  }

  @Test func theVaultAndSecretCannotBeOneFile() throws {
    let s = try Sandbox(initialize: false)
    let r = s.run("init", "--vault", s.dir.path + "/x", "--secret-file", s.dir.path + "/x")
    #expect(r.status == 2)
    #expect(r.stderr.contains("cannot be the same file"))
    #expect(!FileManager.default.fileExists(atPath: s.dir.path + "/x"))
  }

  @Test func datesPastYear9999AreRefused() throws {
    let s = try Sandbox()
    for d in ["9999-12-31T23:59:59-23:59", "10000-01-01"] {
      let r = s.run("create", "--company", "a", "--name", "n", "--scope", "jobs:read", "--expires", d)
      #expect(r.status == 2, "\(d)")
    }
    #expect(s.keyCount == 0)
  }

  @Test func resumeRecordsAnOptionalReason() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    #expect(s.run("suspend", k.id, "--reason", "check").status == 0)
    #expect(s.run("resume", k.id, "--reason", "checked: fine").status == 0)
    let entries = try #require(try s.run("audit", "--event", "key.resumed", "--json").json() as? [[String: Any]])
    #expect((entries.first?["detail"] as? [String: Any])?["reason"] as? String == "checked: fine")
  }

  @Test func listFiltersOnOneScope() throws {
    let s = try Sandbox()
    let r = s.run("list", "--scope", "jobs:read,jobs:write")
    #expect(r.status == 2)
    #expect(r.stderr.contains("one scope at a time"))
  }

  @Test func helpComesFromTheBinaryInEveryForm() throws {
    let s = try Sandbox(initialize: false)
    let top = s.run("--help")
    #expect(top.status == 0)
    for name in [
      "init", "create", "list", "show", "update", "rotate", "suspend", "resume", "revoke", "scopes", "admin", "audit",
    ] {
      #expect(top.stdout.contains("  \(name)"), "--help lacks \(name)")
      let a = s.run("help", name)
      let b = s.run(name, "--help")
      let c = s.run(name, "-h")
      #expect(a.status == 0 && b.status == 0 && c.status == 0)
      #expect(a.stdout == b.stdout && b.stdout == c.stdout)
      #expect(a.stdout.contains("usage: ivkeys \(name)"))
    }
    #expect(s.run("help", "scopes", "add").stdout.contains("--description"))
    #expect(s.run("list", "--version").stdout.hasPrefix("ivkeys "))
    #expect(s.run("--version").status == 0)
  }
}
