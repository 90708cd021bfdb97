import Foundation
import Testing

@testable import IVKeysCore

@Suite("list, show, update, rotate, suspend, resume, revoke")
struct LifecycleTests {
  @Test func showFindsAKeyByIdPrefixOrWholeKey() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    for ref in [k.id, String(k.id.prefix(6)), String(k.id.prefix(10))] {
      let r = s.run("show", ref, "--json")
      #expect(r.status == 0, "\(ref): \(r.stderr)")
      #expect((try r.json() as? [String: Any])?["id"] as? String == k.id)
    }
    let whole = s.run("show", k.key, "-q")
    #expect(whole.status == 0)
    #expect(whole.stdout == k.id + "\n")
    #expect(whole.stderr.contains("ivkeys: warning: a whole key on the command line is visible in ps"))
    #expect(!whole.stderr.contains(k.key))

    let short = s.run("show", String(k.id.prefix(5)))
    #expect(short.status == 2)
    #expect(short.stderr.contains("at least 6"))
    let missing = s.run("show", "zzzzzzzzzz")
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("no key with id zzzzzzzzzz"))
    var badKey = Array(k.key)
    badKey[60] = badKey[60] == "a" ? "b" : "a"
    let bad = s.run("show", String(badKey))
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("checksum"))
    #expect(!bad.stderr.contains(String(badKey)))
  }

  @Test func anAmbiguousPrefixListsTheCandidates() throws {
    let s = try Sandbox()
    // Insert two ids with a shared prefix straight into the vault so the test does not depend on luck.
    for id in ["AAAAAA" + String(repeating: "1", count: 26), "AAAAAA" + String(repeating: "2", count: 26)] {
      try s.edit(
        """
        INSERT INTO keys (id, env, type, company, name, digest, scopes, status, created_at, created_by)
        VALUES (?, 'live', 'regular', 'acme', 'twin', ?, '["jobs:read"]', 'active', 0, 'test')
        """, [.text(id), .blob([0])])
    }
    let r = s.run("show", "AAAAAA")
    #expect(r.status == 1)
    #expect(r.stderr.contains("matches more than one key"))
    #expect(r.stderr.contains("AAAAAA" + String(repeating: "1", count: 26)))
    #expect(r.stderr.contains("AAAAAA" + String(repeating: "2", count: 26)))
    #expect(s.run("show", "AAAAAA1").status == 0)
  }

  @Test func listFiltersAndStreamsEveryFormat() throws {
    let s = try Sandbox()
    let live = try s.createKey(["--tag", "backend", "--expires-in", "3d"], company: "acme", scope: "candidates:write")
    let test = try s.createKey(["--env", "test", "--tag", "ci"], company: "acme", scope: "jobs:read")
    let other = try s.createKey([], company: "globex", scope: "*")
    let ats = s.run(
      "create", "--company", "lever", "--name", "ats", "--type", "ats", "--link-company", "acme",
      "--scope", "analytics:read", "-q")
    #expect(ats.status == 0)
    func ids(_ args: String...) -> Set<String> { Set(s.run(["list", "-q"] + args).lines) }
    #expect(ids().count == 4)
    #expect(ids("--company", "globex") == [other.id])
    #expect(ids("--company", "acme").count == 3, "own keys and ATS keys linked to acme")
    #expect(ids("--env", "test") == [test.id])
    #expect(ids("--tag", "backend") == [live.id])
    #expect(ids("--scope", "candidates:write") == [live.id, other.id], "exact or through a wildcard")
    #expect(ids("--type", "ats").count == 1)
    #expect(ids("--expiring-within", "7d") == [live.id])
    #expect(ids("--expiring-within", "1d").isEmpty)
    #expect(s.run("suspend", test.id, "--reason", "r").status == 0)
    #expect(ids("--status", "suspended") == [test.id])
    #expect(ids("--status", "active").count == 3)

    let json = s.run("list", "--json")
    let arr = try #require(try json.json() as? [[String: Any]])
    #expect(arr.count == 4)
    #expect(arr.allSatisfy { $0["key"] == nil })
    let none = s.run("list", "--company", "nobody", "--json")
    #expect(try none.json() as? [Any] != nil && (try none.json() as? [Any])!.isEmpty)
    let table = s.run("list", "--no-color")
    #expect(table.lines.first?.hasPrefix("ID") == true)
    #expect(table.lines.count == 5)
    #expect(!table.stdout.contains("\u{1b}["), "no color when stdout is not a terminal")
  }

  @Test func tablesEscapeControlCharacters() throws {
    let s = try Sandbox()
    let evil = "evil\u{1b}[2J\u{1b}]0;pwned\u{07}name\nsecond line"
    let r = s.run("create", "--company", "acme", "--name", evil, "--scope", "jobs:read", "--json")
    #expect(r.status == 0)
    let id = try #require((try r.json() as? [String: Any])?["id"] as? String)
    for out in [s.run("list").stdout, s.run("show", id).stdout] {
      #expect(!out.contains("\u{1b}"))
      #expect(!out.contains("\u{07}"))
      #expect(out.contains("evil\\x1b[2J"))
    }
    let audit = s.run("audit").stdout
    #expect(audit.contains("key.created"))
    #expect(!audit.contains("\u{1b}") && !audit.contains("\u{07}") && !audit.contains("name\nsecond"))
    // JSON keeps the name as given.
    let json = s.run("show", id, "--json")
    #expect((try json.json() as? [String: Any])?["name"] as? String == evil)
  }

  @Test func updateChangesEverySettingAndAuditsBeforeAndAfter() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--allow-ip", "10.0.0.0/8", "--tag", "old", "--meta", "a=1", "--rate-limit", "10/s"])
    let r = s.run(
      "update", k.id, "--name", "renamed", "--add-scope", "jobs:write,candidates:read", "--remove-scope", "jobs:read",
      "--allow-ip", "192.0.2.0/24", "--remove-ip", "10.0.0.0/8", "--expires", "2099-06-01T12:00:00Z", "--meta", "b=2",
      "--unset-meta", "a", "--tag", "new", "--untag", "old", "--rate-limit", "5/h", "--contact", "x@example.com",
      "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let o = try #require(try r.json() as? [String: Any])
    #expect(o["name"] as? String == "renamed")
    #expect(o["scopes"] as? [String] == ["jobs:write", "candidates:read"])
    #expect(o["allowed_ips"] as? [String] == ["192.0.2.0/24"])
    #expect(o["expires_at"] as? String == "2099-06-01T12:00:00Z")
    #expect(o["metadata"] as? [String: String] == ["b": "2"])
    #expect(o["tags"] as? [String] == ["new"])
    #expect(o["rate_limit"] as? String == "5/h")
    #expect(o["contact"] as? String == "x@example.com")

    let entries = try #require(try s.run("audit", "--key", k.id, "--json").json() as? [[String: Any]])
    #expect(entries.map { $0["event"] as? String } == ["key.created", "key.scopes_changed", "key.config_changed"])
    let scopes = try #require(entries[1]["detail"] as? [String: Any])
    #expect(scopes["before"] as? [String] == ["jobs:read"])
    #expect(scopes["after"] as? [String] == ["jobs:write", "candidates:read"])
    let config = try #require(entries[2]["detail"] as? [String: [String: Any]])
    #expect(config["name"]?["before"] as? String == "test key")
    #expect(config["name"]?["after"] as? String == "renamed")
    #expect(config["allowed_ips"]?["before"] as? [String] == ["10.0.0.0/8"])
    #expect(config["rate_limit"]?["after"] as? String == "5/h")
    #expect(config["expires_at"]?["before"] is NSNull)
    #expect(Set(config.keys) == ["name", "allowed_ips", "expires_at", "rate_limit", "metadata", "tags", "contact"])

    let clear = s.run("update", k.id, "--clear-ips", "--no-expiry", "--no-rate-limit", "--json")
    let c = try #require(try clear.json() as? [String: Any])
    #expect(c["allowed_ips"] as? [String] == [])
    #expect(c["expires_at"] is NSNull)
    #expect(c["rate_limit"] is NSNull)

    // A change that changes nothing writes nothing.
    let audits = s.auditCount
    let same = s.run("update", k.id, "--tag", "new")
    #expect(same.status == 0)
    #expect(same.stderr.contains("nothing changed"))
    #expect(s.auditCount == audits)
  }

  @Test func updateRefusesImpossibleChangesWithoutWriting() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let keys = s.keyCount
    let audits = s.auditCount
    let cases: [([String], Int32, String)] = [
      (["update", k.id], 2, "needs at least one change"),
      (["update", k.id, "--remove-scope", "jobs:write"], 1, "does not have the scope jobs:write"),
      (["update", k.id, "--remove-scope", "jobs:read"], 1, "at least one scope"),
      (["update", k.id, "--untag", "nope"], 1, "no tag nope"),
      (["update", k.id, "--unset-meta", "nope"], 1, "no metadata nope"),
      (["update", k.id, "--remove-ip", "10.0.0.1"], 1, "does not allow 10.0.0.1"),
      (["update", k.id, "--link-company", "acme"], 1, "apply only to ATS keys"),
      (["update", k.id, "--expires", "2001-01-01"], 2, "in the past"),
      (
        ["update", k.id, "--expires", "2099-01-01", "--no-expiry"], 2,
        "--expires and --no-expiry cannot be used together"
      ),
      (["update", k.id, "--rate-limit", "1/s", "--no-rate-limit"], 2, "cannot be used together"),
      (["update", k.id, "--add-scope", "jobs:delete"], 2, "not in the scope catalog"),
    ]
    for (args, status, message) in cases {
      let r = s.run(args)
      #expect(r.status == status, "\(args): \(r.stderr)")
      #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
      #expect(r.stderr.hasPrefix("ivkeys: error: "))
    }
    #expect(s.keyCount == keys && s.auditCount == audits)
  }

  @Test func rotateMakesANewKeyWithEverySettingAndAGrace() throws {
    let s = try Sandbox()
    let old = try s.createKey([
      "--allow-ip", "10.0.0.0/8", "--tag", "t", "--meta", "k=v", "--rate-limit", "7/m",
      "--contact", "a@b.co", "--expires", "2099-01-01", "--env", "test",
    ])
    let r = s.run("rotate", old.id, "--grace", "2h", "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let new = try #require(try r.json() as? [String: Any])
    let newKey = try #require(new["key"] as? String)
    #expect(newKey.hasPrefix("sk_test_"))
    #expect(newKey != old.key)
    #expect(new["rotated_from"] as? String == old.id)
    let before = try #require(try s.run("show", old.id, "--json").json() as? [String: Any])
    for field in [
      "env", "type", "company", "name", "scopes", "allowed_ips", "expires_at", "rate_limit", "tags", "contact",
    ] {
      #expect("\(before[field] ?? "nil")" == "\(new[field] ?? "nil")", "\(field) not inherited")
    }
    #expect(new["metadata"] as? [String: String] == ["k": "v"])
    let oldNow = try #require(try s.run("show", old.id, "--json").json() as? [String: Any])
    #expect(oldNow["status"] as? String == "rotating")
    #expect(oldNow["replaced_by"] as? String == new["id"] as? String)
    let grace = try #require(oldNow["grace_until"] as? String)
    let created = try #require(new["created_at"] as? String)
    #expect(grace > created)
    #expect(try s.events().suffix(2) == ["key.created", "key.rotated"])

    let again = s.run("rotate", old.id)
    #expect(again.status == 1)
    #expect(again.stderr.contains("already rotated"))

    // --grace 0 revokes the old key at once.
    let k2 = try s.createKey()
    let r2 = s.run("rotate", k2.id, "--grace", "0", "-q")
    #expect(r2.status == 0)
    #expect(r2.stdout.hasPrefix("sk_live_"))
    #expect((try s.run("show", k2.id, "--json").json() as? [String: Any])?["status"] as? String == "revoked")
    #expect(try s.events().suffix(3) == ["key.created", "key.rotated", "key.revoked"])
  }

  @Test func aRotatingKeyPastItsGraceShowsAsRevokedAndAnExpiredKeyAsExpired() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--expires-in", "10d"])
    let rotated = s.run("rotate", k.id, "--grace", "1h", "--json")
    let newID = try #require((try rotated.json() as? [String: Any])?["id"] as? String)
    let e = try s.createKey(["--expires-in", "1h"])
    try s.backdate(k.id, .graceUntil)
    try s.backdate(e.id, .expiresAt)
    #expect((try s.run("show", k.id, "--json").json() as? [String: Any])?["status"] as? String == "revoked")
    #expect((try s.run("show", e.id, "--json").json() as? [String: Any])?["status"] as? String == "expired")
    // Past its grace the old key is revoked for every command, not only for show.
    #expect(s.run("update", k.id, "--name", "x").stderr.contains("its rotation grace ended"))
    // Revoking it again is a no-op, as for any revoked key.
    #expect(s.run("revoke", k.id, "--reason", "x").status == 0)
    #expect(s.run("list", "--expiring-within", "30d", "-q").lines == [newID], "the replacement, not the revoked key")
    #expect(Set(s.run("list", "--status", "expired", "-q").lines) == [e.id])
    #expect(s.run("suspend", e.id, "--reason", "x").status == 1)
  }

  @Test func suspendResumeRevokeRecordReasonsAndRevokedIsFinal() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    #expect(s.run("suspend", k.id).status == 2, "a reason is required")
    let sus = s.run("suspend", k.id, "--reason", "incident 42", "--json")
    #expect(sus.status == 0)
    #expect((try sus.json() as? [String: Any])?["status_reason"] as? String == "incident 42")
    // Asking for the state a key is already in changes nothing and is no error, as in bulk.
    let again = s.run("suspend", k.id, "--reason", "again")
    #expect(again.status == 0 && again.stderr == "ivkeys: key \(k.id) is already suspended\n", "\(again.stderr)")
    #expect(s.run("resume", k.id, "-q").stdout == k.id + "\n")
    let active = s.run("resume", k.id)
    #expect(active.status == 0 && active.stderr == "ivkeys: key \(k.id) is already active\n", "\(active.stderr)")
    let rev = s.run("revoke", k.id, "--reason", "leaked")
    #expect(rev.status == 0)
    let resume = s.run("resume", k.id)
    #expect(resume.status == 1)
    #expect(resume.stderr.contains("revoked; revocation is final"))
    let twice = s.run("revoke", k.id, "--reason", "twice")
    #expect(twice.status == 0 && twice.stderr == "ivkeys: key \(k.id) is already revoked\n", "\(twice.stderr)")
    #expect(s.run("update", k.id, "--name", "x").status == 1)
    #expect(s.run("rotate", k.id).status == 1)
    let entries = try #require(
      try s.run("audit", "--key", k.id, "--event", "key.suspended,key.resumed,key.revoked", "--json").json()
        as? [[String: Any]])
    #expect(entries.map { $0["event"] as? String } == ["key.suspended", "key.resumed", "key.revoked"])
    #expect((entries[0]["detail"] as? [String: Any])?["reason"] as? String == "incident 42")
    #expect((entries[2]["detail"] as? [String: Any])?["reason"] as? String == "leaked")
  }
}
