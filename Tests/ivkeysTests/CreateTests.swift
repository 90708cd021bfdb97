import Foundation
import Testing

@testable import IVKeysCore

@Suite("create")
struct CreateTests {
  @Test func createPrintsTheKeyOnceAndStoresEverySetting() throws {
    let s = try Sandbox()
    let r = s.run(
      "create", "--company", "acme", "--name", "Prod backend", "--preset", "candidate-portal",
      "--allow-ip", "10.0.0.0/8", "--allow-ip", "2001:db8::/32,192.0.2.7", "--expires", "2099-01-01",
      "--rate-limit", "100/m", "--meta", "owner=alice", "--meta", "ticket=OPS-1,OPS-2", "--tag", "backend",
      "--contact", "ops@acme.example", "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let obj = try #require(try r.json() as? [String: Any])
    let key = try #require(obj["key"] as? String)
    #expect(key.count == 90)
    #expect(key.hasPrefix("sk_live_\(obj["id"] as? String ?? "?")_"))
    #expect(
      obj["scopes"] as? [String] == ["candidates:read", "candidates:write", "interviews:read", "interviews:write"])
    #expect(obj["allowed_ips"] as? [String] == ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"])
    #expect(obj["expires_at"] as? String == "2099-01-01T00:00:00Z")
    #expect(obj["rate_limit"] as? String == "100/m")
    #expect(obj["metadata"] as? [String: String] == ["owner": "alice", "ticket": "OPS-1,OPS-2"])
    #expect(obj["tags"] as? [String] == ["backend"])
    #expect(obj["contact"] as? String == "ops@acme.example")
    #expect(obj["status"] as? String == "active")
    #expect(obj["type"] as? String == "regular")
    #expect(obj["env"] as? String == "live")
    #expect(obj["linked_companies"] as? [String] == [])
    #expect(obj["request_count"] as? Int == 0)
    #expect(obj["last_used_at"] is NSNull)
    // SPEC's field list, exactly.
    let fields = [
      "id", "env", "type", "company", "linked_companies", "name", "scopes", "allowed_ips", "expires_at",
      "rate_limit", "metadata", "tags", "contact", "status", "status_reason", "created_at", "created_by",
      "rotated_from", "replaced_by", "grace_until", "last_used_at", "request_count", "error_count", "last_ip",
      "damaged", "key",
    ]
    #expect(Set(obj.keys) == Set(fields))

    // show never prints the key again.
    let shown = s.run("show", obj["id"] as! String, "--json")
    #expect(shown.status == 0)
    #expect(!shown.stdout.contains(key))
    let shownObj = try #require(try shown.json() as? [String: Any])
    #expect(shownObj["key"] == nil)
    #expect(shownObj["name"] as? String == "Prod backend")

    let audit = s.run("audit", "--event", "key.created", "--json")
    let entries = try #require(try audit.json() as? [[String: Any]])
    #expect(entries.count == 1)
    let detail = try #require(entries[0]["detail"] as? [String: Any])
    #expect(
      detail["scopes"] as? [String] == ["candidates:read", "candidates:write", "interviews:read", "interviews:write"])
    #expect(entries[0]["actor"] as? String != nil)
    #expect(!audit.stdout.contains(key))
  }

  @Test func tableOutputShowsTheKeyAndHintsToStoreIt() throws {
    let s = try Sandbox()
    let r = s.run("create", "--company", "acme", "--name", "n", "--scope", "jobs:read")
    #expect(r.status == 0)
    #expect(r.lines.first?.hasPrefix("ID") == true)
    #expect(r.stdout.contains("sk_live_"))
    #expect(r.stderr.contains("ivkeys: hint: this is the only time the key is shown"))
  }

  @Test func quietPrintsOnlyTheKeys() throws {
    let s = try Sandbox()
    let r = s.run(
      "create", "--company", "acme", "--name", "ci", "--scope", "jobs:read", "--env", "test", "--count", "3", "-q")
    #expect(r.status == 0)
    #expect(r.lines.count == 3)
    #expect(r.lines.allSatisfy { $0.hasPrefix("sk_test_") && $0.count == 90 })
  }

  @Test func countMakesAnArrayOfDistinctKeysInOneGo() throws {
    let s = try Sandbox()
    let r = s.run(
      "create", "--company", "acme", "--name", "ci", "--scope", "jobs:read", "--env", "test", "--count", "25", "--json")
    #expect(r.status == 0)
    let arr = try #require(try r.json() as? [[String: Any]])
    #expect(arr.count == 25)
    #expect(Set(arr.compactMap { $0["key"] as? String }).count == 25)
    #expect(Set(arr.compactMap { $0["id"] as? String }).count == 25)
    #expect(s.keyCount == 25)
    #expect(try s.events().filter { $0 == "key.created" }.count == 25)
    // --count 1 with --json still gives an array: the shape follows the flag, not the number.
    let one = s.run("create", "--company", "acme", "--name", "ci", "--scope", "jobs:read", "--count", "1", "--json")
    #expect(try one.json() is [[String: Any]])
  }

  @Test func highPrivilegeKeysWithoutShortExpiryAreWarnedAbout() throws {
    let s = try Sandbox()
    let noExpiry = s.run("create", "--company", "acme", "--name", "w", "--scope", "jobs:write", "-q")
    #expect(noExpiry.status == 0)
    #expect(noExpiry.stderr.contains("ivkeys: warning: this key has write or wildcard scopes and no expiry"))
    let far = s.run(
      "create", "--company", "acme", "--name", "w", "--preset", "full-integration", "--expires-in", "180d", "-q")
    #expect(far.stderr.contains("ivkeys: warning:") && far.stderr.contains("more than 90 days"))
    let near = s.run("create", "--company", "acme", "--name", "w", "--scope", "jobs:*", "--expires-in", "30d", "-q")
    #expect(!near.stderr.contains("warning"))
    let readOnly = s.run("create", "--company", "acme", "--name", "r", "--scope", "jobs:read", "-q")
    #expect(!readOnly.stderr.contains("warning"))
  }

  @Test func aKeyInFreeTextIsRefusedAndNeverEchoed() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let keys = s.keyCount
    let audits = s.auditCount
    for args in [
      ["revoke", k.id, "--reason", "leaked: \(k.key)"], ["update", k.id, "--name", "copy \(k.key)"],
      ["update", k.id, "--meta", "k=\(k.key)"], ["create", "--company", "a", "--name", k.key, "--scope", "jobs:read"],
    ] {
      let r = s.run(args)
      #expect(r.status == 2, "\(args)")
      #expect(r.stderr.contains("contains an API key"))
      #expect(!r.stderr.contains(k.key) && !r.stdout.contains(k.key))
    }
    for ref in [" \(k.key)", "Bearer \(k.key)", k.key + "x", String(k.key.dropLast())] {
      let r = s.run("show", ref)
      #expect(!r.stderr.contains(String(k.key.dropFirst(41).prefix(20))), "secret digits echoed for \(ref.count) chars")
    }
    #expect(s.run("show", "Bearer \(k.key)", "-q").stdout == k.id + "\n")
    #expect(s.keyCount == keys && s.auditCount == audits)
  }

  @Test func atsKeysNeedAnAdministratorAndLinks() throws {
    let s = try Sandbox()
    let r = s.run(
      "create", "--company", "greenhouse", "--name", "ATS", "--type", "ats", "--link-company", "acme,globex",
      "--scope", "candidates:read", "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let obj = try #require(try r.json() as? [String: Any])
    #expect(obj["type"] as? String == "ats")
    #expect(obj["linked_companies"] as? [String] == ["acme", "globex"])
    #expect(s.run("list", "--company", "globex", "-q").lines == [obj["id"] as! String])

    // Make the OS user a non-administrator: add another admin, remove ourselves.
    #expect(s.run("admin", "add", "alice").status == 0)
    let me = try #require(s.run("admin", "list", "-q").lines.first { $0 != "alice" })
    #expect(s.run("admin", "remove", me).status == 0)
    let keys = s.keyCount
    let audits = s.auditCount
    let denied = s.run(
      "create", "--company", "greenhouse", "--name", "ATS", "--type", "ats", "--link-company", "acme",
      "--scope", "candidates:read")
    #expect(denied.status == 1)
    #expect(denied.stderr.contains("only a vault administrator may create an ATS key"))
    #expect(s.keyCount == keys && s.auditCount == audits)
    let relink = s.run("update", obj["id"] as! String, "--link-company", "initech")
    #expect(relink.status == 1)
    #expect(relink.stderr.contains("administrator"))
    // Rotating makes a new ATS key, so it takes an administrator too.
    let rotate = s.run("rotate", obj["id"] as! String)
    #expect(rotate.status == 1)
    #expect(rotate.stderr.contains("only a vault administrator may rotate an ATS key"))
    #expect(!rotate.stdout.contains("sk_live_"))
    #expect(s.keyCount == keys && s.auditCount == audits)
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func vaultFilesNeverHoldAKeyOrItsSecret() throws {
    let s = try Sandbox()
    // Hold a connection open so the last ivkeys process does not checkpoint and delete the WAL:
    // both files are then searched.
    let holder = try s.database()
    _ = try holder.scalarInt("SELECT count(*) FROM keys")
    let r = s.run("create", "--company", "acme", "--name", "n", "--scope", "jobs:read", "--count", "20", "-q")
    let single = try s.createKey()
    let rotated = s.run("rotate", single.id, "-q")
    let keys = r.lines + [single.key, rotated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)]
    #expect(keys.count == 22)
    #expect(FileManager.default.fileExists(atPath: s.vault + "-wal"))
    let bytes = s.vaultBytes()
    #expect(bytes.count > 0)
    for k in keys {
      #expect(k.count == 90)
      #expect(bytes.range(of: Data(k.utf8)) == nil, "the whole key is in the vault")
      let secretPart = String(k.dropFirst(41).prefix(43))  // after "sk_live_", 32 id digits and "_"
      #expect(secretPart.count == 43)
      #expect(bytes.range(of: Data(secretPart.utf8)) == nil, "the secret part is in the vault")
    }
    let secretFile = try Data(contentsOf: URL(fileURLWithPath: s.secret))
    let secretText = secretFile.prefix(while: { $0 != 0x0a })
    #expect(bytes.range(of: secretText) == nil, "the server secret is in the vault")
    // What is stored instead is HMAC-SHA256(server secret, whole key): a known answer per key.
    #expect(s.keyCount == 22)
    let secretKey = Array(secretText)
    for k in keys {
      let id = String(k.dropFirst(8).prefix(32))
      let stored = try #require(
        try holder.statement("SELECT digest FROM keys WHERE id = ?").first([.text(id)]) { $0.blob(0) })
      #expect(stored == Crypto.hmacSHA256(key: secretKey, message: Array(k.utf8)))
    }
  }
}
