import Foundation
import Testing

@testable import IVKeysCore

/// `ivkeys leak`: scans, records `key.leaked` with every location, acts, notifies the contact,
/// reports; more than one key to act on needs --yes; twice does nothing new; never the key.
@Suite("leak")
struct LeakCommandTests {
  /// A sandbox with two keys (one with a contact) written into a `repo` directory, and a fake
  /// sendmail that keeps each message.
  final class Fixture {
    let s: Sandbox
    let a: (id: String, key: String)
    let b: (id: String, key: String)
    let sendmail: String
    var repo: String { s.dir.path + "/repo" }

    init() throws {
      s = try Sandbox()
      a = try s.createKey(["--contact", "ops@example.com"], name: "billing")
      b = try s.createKey(["--env", "test"], name: "ci")
      sendmail = try NotifyTests.fakeSendmail(s)
      try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
      try "API_KEY = \"\(a.key)\"\n".write(toFile: repo + "/config.py", atomically: true, encoding: .utf8)
      try "# ci\nA=\(a.key)\nB=\(b.key)\n".write(toFile: repo + "/ci.env", atomically: true, encoding: .utf8)
    }

    func leak(_ extra: String..., stdin: String? = nil) -> RunResult {
      s.run(["leak", repo, "--sendmail", sendmail, "--from", "keys@example.com"] + extra, stdin: stdin)
    }

    func status(_ id: String) throws -> String {
      try (s.run("show", id, "--json").json() as? [String: Any])?["status"] as? String ?? "?"
    }

    /// The detail of each key.leaked entry, oldest first.
    func leakedEntries() throws -> [[String: Any]] {
      let r = s.run("audit", "--event", "key.leaked", "--json")
      return (try r.json() as? [[String: Any]] ?? []).compactMap { $0["detail"] as? [String: Any] }
    }

    /// Fails if a whole key appears anywhere a user or a contact could read.
    func expectNoKey(_ texts: [String]) {
      for t in texts { #expect(!t.contains(a.key) && !t.contains(b.key)) }
    }
  }

  @Test func reportOnlyRecordsWithLocationsNotifiesOnceAndLeavesKeysWorking() throws {
    let f = try Fixture()
    let r = f.leak("--json")
    #expect(r.status == 3, "\(r.stderr)")
    let rows = try #require(try r.json() as? [[String: Any]])
    #expect(rows.map { $0["key_id"] as? String } == [f.a.id, f.b.id])
    #expect(rows.allSatisfy { $0["outcome"] as? String == "reported" && $0["status"] as? String == "active" })
    #expect(rows[0]["notified"] as? String == "ops@example.com" && rows[1]["notified"] is NSNull)
    let entries = try f.leakedEntries()
    #expect(entries.count == 2)
    #expect(
      entries[0]["locations"] as? [String] == ["repo/ci.env:2", "repo/config.py:1"].map { f.s.dir.path + "/" + $0 })
    #expect(entries[0]["action"] is NSNull)
    let mail = NotifyTests.messages(f.s)
    #expect(mail.count == 1 && mail[0].contains("To: ops@example.com") && mail[0].contains("ci.env:2"))
    #expect(try f.status(f.a.id) == "active")
    f.expectNoKey([r.stdout, r.stderr] + mail)

    let again = f.leak("--json")
    #expect(again.status == 3)
    let second = try #require(try again.json() as? [[String: Any]])
    #expect(second.allSatisfy { $0["outcome"] as? String == "already_handled" })
    #expect(try f.leakedEntries().count == 2 && NotifyTests.messages(f.s).count == 1)
  }

  @Test func moreThanOneKeyNeedsYesAndDryRunChangesNothing() throws {
    let f = try Fixture()
    let before = f.s.auditCount
    let refused = f.leak("--action", "suspend")
    #expect(refused.status == 2 && refused.stderr.contains("needs --yes") && refused.stdout.isEmpty)
    let dry = f.leak("--action", "revoke", "--dry-run", "--json")
    #expect(dry.status == 3, "\(dry.stderr)")
    let rows = try #require(try dry.json() as? [[String: Any]])
    #expect(rows.allSatisfy { $0["outcome"] as? String == "would_revoke" })
    #expect(f.s.auditCount == before && NotifyTests.messages(f.s).isEmpty)
    #expect(try f.status(f.a.id) == "active" && f.status(f.b.id) == "active")
  }

  @Test(arguments: ["suspend", "revoke"])
  func suspendOrRevokeWithReasonThenTwiceDoesNothingNew(action: String) throws {
    let f = try Fixture()
    let r = f.leak("--action", action, "--yes", "--reason", "pushed to github")
    #expect(r.status == 3, "\(r.stderr)")
    let target = action == "suspend" ? "suspended" : "revoked"
    #expect(try f.status(f.a.id) == target && f.status(f.b.id) == target)
    #expect(r.stdout.contains(target))
    let shown = try #require(try f.s.run("show", f.a.id, "--json").json() as? [String: Any])
    #expect(shown["status_reason"] as? String == "pushed to github")
    #expect(try f.leakedEntries().map { $0["action"] as? String } == [action, action])
    #expect(NotifyTests.messages(f.s).count == 1)
    let events = try f.s.events()
    let audit = f.s.auditCount
    let again = f.leak("--action", action, "--yes", "--json")
    #expect(again.status == 3)
    let rows = try #require(try again.json() as? [[String: Any]])
    #expect(rows.allSatisfy { $0["outcome"] as? String == "already_handled" })
    #expect(f.s.auditCount == audit && NotifyTests.messages(f.s).count == 1)
    #expect(events.filter { $0 == "key.\(target)" }.count == 2)
    f.expectNoKey([r.stdout, r.stderr, again.stdout] + NotifyTests.messages(f.s))
  }

  @Test func rotatePrintsEachNewKeyOnceAndRevokesTheOld() throws {
    let f = try Fixture()
    let r = f.leak("--action", "rotate", "--yes", "--json")
    #expect(r.status == 3, "\(r.stderr)")
    let rows = try #require(try r.json() as? [[String: Any]])
    #expect(rows.allSatisfy { $0["outcome"] as? String == "rotated" && $0["status"] as? String == "revoked" })
    let newKey = try #require(rows[0]["new_key"] as? String)
    let newID = try #require(rows[0]["new_key_id"] as? String)
    #expect(newKey.contains(newID))
    let v = f.s.run("verify", "--env", "live", "--company", "acme", "--scope", "jobs:read", stdin: newKey)
    #expect(v.status == 0, "\(v.stdout)")
    #expect(try f.leakedEntries()[0]["replaced_by"] as? String == newID)
    let mail = NotifyTests.messages(f.s)
    #expect(mail.count == 1 && mail[0].contains(newID) && !mail[0].contains(newKey))
    f.expectNoKey([r.stdout, r.stderr] + mail)
    let again = f.leak("--action", "rotate", "--yes", "-q")
    #expect(again.status == 3 && again.stdout.isEmpty)
  }

  @Test func aKeyRevokedBeforeTheTransactionIsNotActedOnAndNoError() throws {
    let f = try Fixture()
    #expect(f.s.run("revoke", f.b.id, "--reason", "elsewhere").status == 0)
    let r = f.leak("--action", "revoke", "--json")  // one key left to act on: no --yes needed
    #expect(r.status == 3, "\(r.stderr)")
    let rows = try #require(try r.json() as? [[String: Any]])
    #expect(rows.map { $0["outcome"] as? String } == ["revoked", "not_live"])
    #expect(try f.s.events().filter { $0 == "key.revoked" }.count == 2)
  }

  @Test func concurrentRunsActOnceEach() throws {
    let f = try Fixture()
    let runs = (0..<4).map { _ in
      try? f.s.start(["leak", f.repo, "--action", "revoke", "--yes", "--sendmail", f.sendmail, "--json"]).0
    }
    for p in runs { p?.waitUntilExit() }
    #expect(runs.allSatisfy { $0?.terminationStatus == 3 })
    #expect(try f.s.events().filter { $0 == "key.revoked" }.count == 2)
    #expect(try f.leakedEntries().count == 2 && NotifyTests.messages(f.s).count == 1)
  }

  @Test func unknownKeysNothingFoundAndStdin() throws {
    let f = try Fixture()
    let other = try Sandbox()
    let k = try other.createKey()
    let r = f.s.run("leak", "-", "--sendmail", f.sendmail, "--json", stdin: "x \(k.key)\n")
    #expect(r.status == 3)
    let rows = try #require(try r.json() as? [[String: Any]])
    #expect(rows.first?["outcome"] as? String == "unknown" && rows.first?["locations"] as? [String] == ["-:1"])
    let clean = f.s.run("leak", "-", "--sendmail", f.sendmail, stdin: "nothing here\n")
    #expect(clean.status == 0 && clean.stdout.isEmpty)
    let bad = f.s.run("leak", f.repo, "--action", "delete")
    #expect(bad.status == 2 && bad.stderr.contains("expected suspend, rotate or revoke"))
  }

  @Test func anATSKeyNeedsAnAdministratorAndNothingChangesWithout() throws {
    let f = try Fixture()
    let ats = try f.s.createKey(["--type", "ats", "--link-company", "acme"], company: "lever")
    try "K=\(ats.key)\n".write(toFile: f.repo + "/ats.env", atomically: true, encoding: .utf8)
    let me = try #require(f.s.run("admin", "list", "-q").lines.first)
    #expect(f.s.run("admin", "add", "alice").status == 0 && f.s.run("admin", "remove", me).status == 0)
    let audit = f.s.auditCount
    let r = f.leak("--action", "suspend", "--yes")
    #expect(r.status == 1 && r.stderr.contains("only a vault administrator may suspend an ATS key"), "\(r.stderr)")
    #expect(f.s.auditCount == audit && NotifyTests.messages(f.s).isEmpty)
    #expect(try f.status(ats.id) == "active" && f.status(f.a.id) == "active")
  }

  @Test func aMessageThatCannotBeSentIsExitOneAndNotSentAgain() throws {
    let f = try Fixture()
    let failing = try NotifyTests.fakeSendmail(f.s, failing: true)
    let r = f.s.run("leak", f.repo, "--action", "revoke", "--yes", "--sendmail", failing)
    #expect(r.status == 1 && r.stderr.contains("was not sent") && r.stderr.contains("tell ops@example.com yourself"))
    #expect(try f.status(f.a.id) == "revoked")  // the action stands
    let again = f.leak("--action", "revoke", "--yes")
    #expect(again.status == 3 && NotifyTests.messages(f.s).isEmpty)
    #expect(!(try f.s.events()).contains("notification.sent"))
  }

  @Test func aRevokeRacingTheLeakIsNeitherAnErrorNorDoubled() throws {
    let f = try Fixture()
    let revokes = [f.a.id, f.b.id].map { id in try? f.s.start(["revoke", id, "--reason", "racing"]).0 }
    let leak = try f.s.start(["leak", f.repo, "--action", "revoke", "--yes", "--sendmail", f.sendmail]).0
    for p in revokes { p?.waitUntilExit() }
    leak.waitUntilExit()
    #expect(leak.terminationStatus == 3)
    #expect(revokes.allSatisfy { $0?.terminationStatus == 0 })
    #expect(try f.s.events().filter { $0 == "key.revoked" }.count == 2)
    #expect(try f.status(f.a.id) == "revoked" && f.status(f.b.id) == "revoked")
  }
}
