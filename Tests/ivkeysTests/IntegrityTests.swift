import Foundation
import Testing

@testable import IVKeysCore

/// The attacks of issue 10, as someone who can write the vault file but lacks the secret would
/// make them: SQL through the sqlite3 shell, then `verify`, `doctor` and `list`.
@Suite("sealed state", .enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests tampers with the server"))
struct IntegrityTests {
  /// Runs SQL through the sqlite3 shell.
  @discardableResult
  func sqlite3(_ s: Sandbox, _ sql: String) -> RunResult {
    let r = s.exec("/usr/bin/sqlite3", [s.vault, sql])
    #expect(r.status == 0, "sqlite3 failed: \(sql): \(r.stderr)")
    return r
  }

  func verify(_ s: Sandbox, _ key: String, env: String, company: String = "acme", scope: String = "jobs:read")
    -> RunResult
  {
    s.run(["verify", "--json", "--env", env, "--company", company, "--scope", scope], stdin: key)
  }

  func doctor(_ s: Sandbox) throws -> (Int32, [String: [String: Any]]) {
    let r = s.run("doctor", "--json")
    let checks = try #require(try r.json() as? [[String: Any]])
    var byName = [String: [String: Any]]()
    for c in checks { byName[c["check"] as? String ?? ""] = c }
    return (r.status, byName)
  }

  @Test func theRevokedTestKeyMadeLiveWithOneUpdateIsRefusedAndNamed() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--env", "test"], scope: "jobs:read")
    #expect(s.run("revoke", k.id, "--reason", "done").status == 0)
    let before = s.auditCount
    sqlite3(
      s,
      """
      UPDATE keys SET status='active', scopes='["*"]', env='live', company='globex', expires_at=NULL
      WHERE id='\(k.id)'
      """)
    for env in ["live", "test"] {
      let r = verify(s, k.key, env: env, company: "globex", scope: "jobs:write")
      #expect(r.status == 1, "\(r.stdout)")
      #expect(r.stdout.isEmpty, "no decision is printed")
      #expect(r.stderr.contains("ivkeys: error: the vault was changed outside ivkeys: key \(k.id)"))
      #expect(r.stderr.contains("hint: run 'ivkeys doctor'"))
      #expect(!r.stderr.contains(k.key))
    }
    // Each refusal recorded what it found, and no decision.
    let events = try s.events().suffix(Int(s.auditCount - before))
    #expect(events.allSatisfy { $0 == "vault.tamper_detected" } && events.count == 2, "\(events)")
    let (status, checks) = try doctor(s)
    #expect(status == 3)
    #expect(checks["seals"]?["ok"] as? Bool == false)
    #expect((checks["seals"]?["message"] as? String)?.contains("keys \(k.id)") == true)
    #expect(checks["audit chain"]?["ok"] as? Bool == true)
    // list and show say so, in both formats.
    let row = try #require(try s.run("list", "--json").json() as? [[String: Any]]).first { $0["id"] as? String == k.id }
    #expect(row?["status"] as? String == "damaged")
    #expect(row?["damaged"] as? Bool == true)
    #expect(s.run("show", k.id).stdout.contains("damaged"))
    #expect(s.run("list").stdout.contains("damaged"))
    // Nothing seals the change in: an update of the key is refused, a revocation is not.
    let update = s.run("update", k.id, "--name", "x")
    #expect(update.status == 1 && update.stderr.contains("changed outside ivkeys"))
    #expect(s.run("revoke", k.id, "--reason", "tampered").status == 0)
    #expect(verify(s, k.key, env: "live", company: "globex", scope: "jobs:write").status == 10)
  }

  @Test func aTriggerThatSwallowsAuditEntriesStopsVerifyAndDoctorNamesIt() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    #expect(verify(s, k.key, env: "live").status == 0)
    sqlite3(s, "CREATE TRIGGER quiet BEFORE INSERT ON audit BEGIN SELECT RAISE(IGNORE); END;")
    let before = s.auditCount
    let r = verify(s, k.key, env: "live")
    #expect(r.status == 1)
    #expect(r.stderr.contains("the vault was changed outside ivkeys: its schema"))
    #expect(s.auditCount == before)
    // Every command that writes refuses; reading still works.
    #expect(s.run("create", "--company", "acme", "--name", "n", "--scope", "jobs:read").status == 1)
    #expect(s.run("list").status == 0)
    let (status, checks) = try doctor(s)
    #expect(status == 3)
    #expect((checks["sealed schema"]?["message"] as? String)?.contains("trigger quiet was added") == true)
    // Dropping what was added restores the schema ivkeys sealed.
    sqlite3(s, "DROP TRIGGER quiet;")
    #expect(verify(s, k.key, env: "live").status == 0)
    #expect(try doctor(s).1["sealed schema"]?["ok"] as? Bool == true)
  }

  /// verify compares SQLite's schema cookie with the sealed one and hashes the schema only when it
  /// moved: a VACUUM moves it without changing the schema, and is no tampering.
  @Test func aVacuumIsNoTampering() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    sqlite3(s, "VACUUM;")
    #expect(verify(s, k.key, env: "live").status == 0)
    #expect(try doctor(s).0 == 0)
  }

  /// Setting the cookie back by hand hides a change from the cheap check; a trigger that swallows
  /// audit entries still cannot make verify allow a request without its entry, and doctor,
  /// which compares the whole schema, names it.
  @Test func aSchemaCookieSetBackStillFailsClosed() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let cookie = sqlite3(s, "PRAGMA schema_version;").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    sqlite3(
      s,
      "CREATE TRIGGER quiet BEFORE INSERT ON audit BEGIN SELECT RAISE(IGNORE); END; PRAGMA schema_version = \(cookie);")
    let r = verify(s, k.key, env: "live")
    #expect(r.status == 1 && r.stdout.isEmpty)
    #expect(r.stderr.contains("was not written"), "\(r.stderr)")
    #expect((try doctor(s).1["sealed schema"]?["message"] as? String)?.contains("trigger quiet was added") == true)
  }

  /// Setting the schema back below the sealed version (seal columns dropped, user_version lowered)
  /// would have the next migration seal whatever was changed meanwhile: it is refused instead.
  @Test func aSchemaSetBackBelowItsSealsIsNeverResealed() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    #expect(s.run("revoke", k.id, "--reason", "done").status == 0)
    sqlite3(
      s,
      """
      ALTER TABLE keys DROP COLUMN seal; ALTER TABLE keys DROP COLUMN secret_version;
      ALTER TABLE admins DROP COLUMN seal; ALTER TABLE scopes DROP COLUMN seal;
      DELETE FROM meta WHERE name IN ('secret_version', 'schema_fingerprint'); ALTER TABLE meta DROP COLUMN seal;
      DROP TABLE secret_versions; PRAGMA user_version = 4;
      UPDATE keys SET status = 'active' WHERE id = '\(k.id)';
      INSERT INTO admins (user, added_at, added_by) VALUES ('mallory', 0, 'mallory');
      """)
    let r = verify(s, k.key, env: "live")
    #expect(r.status == 1 && r.stderr.contains("set back to version 4"), "\(r.stderr)")
    #expect(s.run("create", "--company", "acme", "--name", "n", "--scope", "jobs:read").status == 1)
    #expect(sqlite3(s, "PRAGMA user_version;").stdout.hasPrefix("4"), "nothing was migrated or sealed")
    let (status, checks) = try doctor(s)
    #expect(status == 3)
    #expect((checks["sealed schema"]?["message"] as? String)?.contains("set back") == true)
  }

  /// A trigger given a name SQLite reserves (through writable_schema) is still part of the schema.
  @Test func aTriggerWithAReservedNameIsStillSeen() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    sqlite3(
      s,
      """
      PRAGMA writable_schema = ON;
      INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql) VALUES ('trigger', 'sqlite_stat9', 'audit', 0,
        'CREATE TRIGGER sqlite_stat9 BEFORE INSERT ON audit BEGIN SELECT RAISE(IGNORE); END');
      """)
    #expect(verify(s, k.key, env: "live").status == 1)
    #expect(s.run("create", "--company", "acme", "--name", "n", "--scope", "jobs:read").status == 1)
    #expect(
      (try doctor(s).1["sealed schema"]?["message"] as? String)?.contains("trigger sqlite_stat9 was added") == true)
  }

  @Test func aNoOpReplacementOfTheAppendOnlyTriggersFailsDoctor() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    sqlite3(
      s,
      """
      DROP TRIGGER audit_no_update;
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT 1; END;
      DROP TRIGGER audit_no_delete;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT 1; END;
      """)
    let (status, checks) = try doctor(s)
    #expect(status == 3)
    let message = checks["sealed schema"]?["message"] as? String ?? ""
    #expect(
      message.contains("trigger audit_no_update was changed") && message.contains("trigger audit_no_delete was changed")
    )
    #expect(verify(s, k.key, env: "live").status == 1)
    // A view, an index or a table added is named too.
    sqlite3(
      s,
      """
      DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;
      CREATE VIEW v AS SELECT id FROM keys; CREATE INDEX i ON audit (event); CREATE TABLE t (x);
      """)
    let named = try doctor(s).1["sealed schema"]?["message"] as? String ?? ""
    for part in [
      "view v was added", "index i was added", "table t was added", "trigger audit_no_update was dropped",
      "trigger audit_no_delete was dropped",
    ] {
      #expect(named.contains(part), "\(part) in \(named)")
    }
  }

  @Test func anInsertedAdministratorIsNoAdministrator() throws {
    let s = try Sandbox()
    sqlite3(s, "INSERT INTO admins (user, added_at, added_by) VALUES ('mallory', 0, 'mallory')")
    let list = try #require(try s.run("admin", "list", "--json").json() as? [[String: Any]])
    #expect(list.first { $0["user"] as? String == "mallory" }?["damaged"] as? Bool == true)
    let (status, checks) = try doctor(s)
    #expect(status == 3)
    #expect((checks["seals"]?["message"] as? String)?.contains("admins mallory") == true)
    // An inserted scope is no scope either.
    sqlite3(s, "INSERT INTO scopes (name, description, added_at, added_by) VALUES ('vault:own', 'x', 0, 'x')")
    let r = s.run("create", "--company", "acme", "--name", "n", "--scope", "vault:own")
    #expect(r.status == 1 && r.stderr.contains("changed outside ivkeys"))
  }

  @Test func noByteFlipInAKeyRowAllowsARefusedKey() throws {
    let s = try Sandbox()
    let revoked = try s.createKey(["--env", "test"])
    #expect(s.run("revoke", revoked.id, "--reason", "x").status == 0)
    let other = try s.createKey(company: "acme", scope: "jobs:read")
    let columns = [
      "id", "env", "type", "company", "linked_companies", "name", "digest", "scopes", "allowed_ips", "expires_at",
      "rate_limit", "status", "grace_until", "rotated_from", "replaced_by", "secret_version", "seal",
    ]
    var rng = SystemRandomNumberGenerator()
    let db = try s.database()
    for column in columns {
      for (key, env, company, scope) in [
        (revoked, "test", "acme", "jobs:read"), (other, "live", "globex", "jobs:read"),
        (other, "live", "acme", "jobs:write"),
      ] {
        // Flip one random bit of one byte of the stored value (NULL becomes a one-byte value).
        let stored = try db.statement("SELECT CAST(\(column) AS BLOB) FROM keys WHERE id = ?").first([.text(key.id)]) {
          $0.blob(0)
        }
        var bytes = stored ?? []
        if bytes.isEmpty {
          bytes = [0x31]
        } else {
          bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
        }
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        // As text where the column holds text, so CHECK constraints see the flipped value.
        let cast = ["digest", "seal"].contains(column) ? "X'\(hex)'" : "CAST(X'\(hex)' AS TEXT)"
        let saved = try db.statement("SELECT quote(\(column)) FROM keys WHERE id = ?").first([.text(key.id)]) {
          $0.text(0)
        }
        let flip = s.exec("/usr/bin/sqlite3", [s.vault, "UPDATE keys SET \(column) = \(cast) WHERE id = '\(key.id)'"])
        let r = verify(s, key.key, env: env, company: company, scope: scope)
        #expect(r.status != 0, "a flip in \(column) allowed a refused request: \(r.stdout)")
        if flip.status == 0 {
          // Put the value back (under its possibly flipped id) for the next column.
          let condition = column == "id" ? "id = CAST(X'\(hex)' AS TEXT)" : "id = '\(key.id)'"
          _ = s.exec(
            "/usr/bin/sqlite3", [s.vault, "UPDATE keys SET \(column) = \(saved ?? "NULL") WHERE \(condition)"])
        }
      }
    }
    // Restored, every key is as it was: doctor's seals pass again.
    #expect(try doctor(s).1["seals"]?["ok"] as? Bool == true)
  }

  @Test func absurdStoredValuesCrashNoCommand() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--expires-in", "30d", "--tag", "t", "--contact", "a@example.com"])
    let min = Int64.min
    let max = Int64.max
    for sql in [
      "UPDATE keys SET expires_at = \(min), created_at = \(max), grace_until = \(min), last_used_at = \(max)",
      "UPDATE keys SET expires_at = \(max), created_at = \(min), scopes = 'not json', allowed_ips = '[1,2]', metadata = '[]', tags = '{', linked_companies = 'x', rate_limit = '0/s'",
      "UPDATE keys SET expires_at = 1.5, request_count = -1, secret_version = \(max)",
    ] {
      sqlite3(s, sql + " WHERE id = '\(k.id)'")
      for resealed in [false, true] {
        if resealed { try s.reseal(k.id) }
        for args in [
          ["list"], ["list", "--json"], ["show", k.id], ["show", k.id, "--json"], ["expiring", "--within", "100000d"],
          ["expiring", "--json", "--include-expired"], ["rotation-due"], ["rotation-due", "--json"], ["usage", k.id],
          ["notify", "--dry-run", "--within", "100000d"], ["sweep", "--dry-run"], ["doctor"], ["audit", "verify"],
          ["secret", "list"], ["list", "--status", "expired"],
        ] {
          let r = s.run(args)
          #expect(r.status >= 0 && r.status <= 3, "\(args) after \(sql): \(r.status) \(r.stderr)")
          // A damaged row's lists are written parsed; a resealed one is trusted as ivkeys wrote it.
          if args.contains("--json") && r.status == 0 && !resealed {
            #expect((try? r.json()) != nil, "\(args) printed invalid JSON: \(r.stdout)")
          }
        }
        let v = verify(s, k.key, env: "live")
        #expect(v.status != 0 && v.status >= 1 && v.status <= 12, "verify: \(v.status) \(v.stderr)")
      }
    }
  }
}
