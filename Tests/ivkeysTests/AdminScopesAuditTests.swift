import Foundation
import Testing

@testable import IVKeysCore

@Suite("admin, scopes and audit")
struct AdminScopesAuditTests {
  @Test func theInitUserIsTheFirstAdministratorAndTheLastCannotGo() throws {
    let s = try Sandbox()
    let admins = s.run("admin", "list", "-q").lines
    #expect(admins.count == 1)
    let me = admins[0]
    let last = s.run("admin", "remove", me)
    #expect(last.status == 1)
    #expect(last.stderr.contains("last administrator"))
    let added = s.run("admin", "add", "alice")
    #expect(added.status == 0)
    #expect(added.stderr.contains("ivkeys: warning: there is no OS user alice"))
    #expect(s.run("admin", "add", "alice").status == 1, "already an administrator")
    #expect(s.run("admin", "list", "-q").lines.sorted() == ["alice", me].sorted())
    #expect(s.run("admin", "remove", "bob").status == 1)
    #expect(s.run("admin", "add", "bad name").status == 2)
    #expect(s.run("admin", "remove", "alice").status == 0)
    #expect(try s.events() == ["vault.initialized", "admin.added", "admin.removed"])
    let json = try #require(try s.run("admin", "--json").json() as? [[String: Any]])
    #expect(json.first?["user"] as? String == me)
  }

  @Test func nonAdministratorsCannotManageAdministratorsOrScopes() throws {
    let s = try Sandbox()
    let me = s.run("admin", "list", "-q").lines[0]
    #expect(s.run("admin", "add", "alice").status == 0)
    #expect(s.run("admin", "remove", me).status == 0)
    let audits = s.auditCount
    #expect(s.run("admin", "add", "mallory").status == 1)
    #expect(s.run("scopes", "add", "reports:read", "--description", "d").status == 1)
    // A claimed actor name does not grant anything.
    #expect(s.run("admin", "add", "mallory", env: ["IVKEYS_ACTOR": "alice"]).status == 1)
    #expect(s.auditCount == audits)
  }

  @Test func scopesListPresetsAndAdd() throws {
    let s = try Sandbox()
    let list = s.run("scopes", "list", "-q").lines
    #expect(
      list.sorted() == [
        "analytics:read", "candidates:read", "candidates:write", "interviews:read", "interviews:write",
        "jobs:read", "jobs:write", "webhooks:read", "webhooks:write",
      ])
    #expect(s.run("scopes", "-q").lines == list, "'scopes' alone lists")
    let presets = try #require(try s.run("scopes", "presets", "--json").json() as? [[String: Any]])
    let byName = Dictionary(uniqueKeysWithValues: presets.map { ($0["name"] as! String, $0["scopes"] as! [String]) })
    #expect(byName["analytics-dashboard"] == ["analytics:read", "interviews:read", "jobs:read"])
    #expect(byName["full-integration"] == ["*"])
    #expect(byName["webhook-handler"] == ["webhooks:read", "webhooks:write", "interviews:read", "candidates:read"])
    #expect(
      byName["candidate-portal"] == ["candidates:read", "candidates:write", "interviews:read", "interviews:write"])

    #expect(s.run("create", "--company", "a", "--name", "n", "--scope", "reports:read").status == 2)
    #expect(s.run("scopes", "add", "reports:read", "--description", "read reports").status == 0)
    #expect(s.run("create", "--company", "a", "--name", "n", "--scope", "reports:read").status == 0)
    #expect(s.run("create", "--company", "a", "--name", "n", "--scope", "reports:*").status == 0)
    #expect(s.run("scopes", "add", "reports:read", "--description", "again").status == 1)
    #expect(s.run("scopes", "add", "Reports", "--description", "x").status == 2)
    #expect(s.run("scopes", "add", "reports:write").status == 2, "--description is required")
    #expect(try s.events().contains("scope.added"))
  }

  @Test func auditFiltersByKeyEventActorTimeAndLimit() throws {
    let s = try Sandbox()
    let a = try s.createKey([], company: "acme")
    let b = try s.createKey([], company: "globex")
    #expect(s.run("suspend", a.id, "--reason", "r", env: ["IVKEYS_ACTOR": "ci-bot"]).status == 0)
    func seqs(_ args: String...) -> [String] { s.run(["audit", "-q"] + args).lines }
    #expect(seqs().count == 4)
    #expect(seqs("--key", a.id).count == 2)
    #expect(seqs("--key", String(a.id.prefix(8))) == seqs("--key", a.id))
    #expect(seqs("--key", a.key) == seqs("--key", a.id))
    #expect(seqs("--company", "globex").count == 1)
    #expect(seqs("--event", "key.*").count == 3)
    #expect(seqs("--event", "vault.initialized,key.suspended").count == 2)
    #expect(seqs("--limit", "2") == ["3", "4"], "the newest two, oldest first")
    #expect(seqs("--since", "1h").count == 4)
    #expect(seqs("--until", "2000-01-01").isEmpty)
    #expect(seqs("--since", "2000-01-01T00:00:00Z").count == 4)
    let suspended = try #require(try s.run("audit", "--event", "key.suspended", "--json").json() as? [[String: Any]])
    let actor = try #require(suspended.first?["actor"] as? String)
    let osUser = try #require(suspended.first?["os_user"] as? String)
    #expect(actor == "\(osUser) (claims ci-bot)", "the claimed name stands beside the OS user, never in place of it")
    #expect(seqs("--actor", osUser).count == 4, "entries whose actor or OS user is that user")
    #expect(seqs("--actor", actor).count == 1)
    #expect(seqs("--actor", "ci-bot").count == 1, "a claimed name finds its entries too")
    #expect(s.run("audit", "--event", "key.craeted").stderr.contains("did you mean 'key.created'"))
    #expect(s.run("audit", "--limit", "0").status == 2)
    #expect(s.run("audit", "--since", "yesterday").status == 2)
    _ = b
  }

  @Test func auditEntriesFormAnHMACChainAndTheTableRejectsChanges() throws {
    let s = try Sandbox()
    _ = try s.createKey()
    let entries = try #require(try s.run("audit", "--json").json() as? [[String: Any]])
    #expect(entries.count == 2)
    #expect(entries[0]["prev_hash"] as? String == String(repeating: "0", count: 64))
    #expect(entries[1]["prev_hash"] as? String == entries[0]["hash"] as? String)
    #expect((entries[1]["hash"] as? String)?.count == 64)
    // Recompute every hash as the documented construction says, with an encoder written here:
    // HMAC-SHA256 keyed with HMAC-SHA256(secret, "ivkeys audit chain v1"), over the previous
    // hash in hex followed by each field as a presence byte, a 4-byte big-endian length and UTF-8.
    var secret = try Data(contentsOf: URL(fileURLWithPath: s.secret))
    if secret.last == 0x0a { secret.removeLast() }
    let chainKey = Crypto.hmacSHA256(key: Array(secret), message: Array("ivkeys audit chain v1".utf8))
    var prev = String(repeating: "0", count: 64)
    for e in entries {
      var message = Array(prev.utf8)
      let stored = try #require(
        try s.text("SELECT detail FROM audit WHERE seq = CAST(? AS INTEGER)", ["\(e["seq"] as! Int)"]))
      let fields: [String?] = [
        "\(e["seq"] as! Int)", e["at"] as? String, e["event"] as? String, e["actor"] as? String,
        e["os_user"] as? String, e["key_id"] as? String, e["company"] as? String, e["ip"] as? String, stored,
      ]
      for f in fields {
        guard let f else {
          message.append(0)
          continue
        }
        message.append(1)
        let n = UInt32(f.utf8.count)
        message += [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)]
        message += Array(f.utf8)
      }
      let expected = Crypto.hmacSHA256(key: chainKey, message: message).map { String(format: "%02x", $0) }.joined()
      #expect(e["hash"] as? String == expected, "entry \(e["seq"] ?? "?") is not chained as documented")
      prev = expected
    }

    #expect(throws: (any Error).self) { try s.edit("UPDATE audit SET actor = 'mallory' WHERE seq = 1") }
    #expect(throws: (any Error).self) { try s.edit("DELETE FROM audit WHERE seq = 2") }
    #expect(s.auditCount == 2)
  }
}
