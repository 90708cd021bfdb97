import Foundation
import Testing

@testable import IVKeysCore

/// `audit verify`, `audit head` and `audit export`, and tampering through the sqlite3 shell.
@Suite("the audit chain")
struct AuditChainTests {
  /// Runs SQL through the sqlite3 shell, as someone with write access to the vault but not the
  /// secret would.
  func shell(_ s: Sandbox, _ sql: String) throws { try s.tamper(sql) }

  func populated() throws -> Sandbox {
    let s = try Sandbox()
    for i in 0..<3 { _ = try s.createKey([], company: "c\(i)") }
    let k = try s.createKey()
    #expect(s.run("suspend", k.id, "--reason", "r").status == 0)
    #expect(s.run("resume", k.id).status == 0)
    return s  // 7 entries
  }

  func verify(_ s: Sandbox, _ extra: [String] = []) throws -> (Int32, [String: Any]) {
    let r = s.run(["audit", "verify", "--json"] + extra)
    return (r.status, try #require(try r.json() as? [String: Any]))
  }

  @Test func anIntactChainVerifiesAndHeadNamesTheLastEntry() throws {
    let s = try populated()
    let head = s.run("audit", "head")
    #expect(head.status == 0)
    let parts = head.stdout.split(separator: " ")
    #expect(parts.count == 2 && parts[0] == "7" && parts[1].count == 65)  // 64 hex digits and a newline
    let (status, v) = try verify(s, ["--expect-head", head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
    #expect(status == 0)
    #expect(v["intact"] as? Bool == true)
    #expect(v["entries"] as? Int == 7)
    #expect(v["head_seq"] as? Int == 7)
    let json = try #require(try s.run("audit", "head", "--json").json() as? [String: Any])
    #expect(json["seq"] as? Int == 7)
    #expect(s.run("audit", "verify").stdout.hasPrefix("ok: "))
    // An older head still verifies: the log only grew since.
    let old = try #require(try s.run("audit", "--json").json() as? [[String: Any]])[2]
    #expect(try verify(s, ["--expect-head", "3 \(old["hash"] as! String)"]).0 == 0)
    #expect(s.run("audit", "verify", "--expect-head", "not-a-hash").status == 2)
  }

  @Test func anEditedDetailIsDetected() throws {
    let s = try populated()
    try shell(
      s, "DROP TRIGGER audit_no_update; UPDATE audit SET detail = '{\"reason\":\"nothing to see\"}' WHERE seq = 5;")
    let (status, v) = try verify(s)
    #expect(status == 3)
    #expect(v["intact"] as? Bool == false)
    #expect(v["bad_seq"] as? Int == 5)
    #expect(v["problem"] as? String == "modified")
    #expect(s.run("audit", "verify").stdout.contains("broken at entry 5"))
  }

  @Test func aDeletedMiddleEntryIsDetected() throws {
    let s = try populated()
    try shell(s, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 4;")
    let (status, v) = try verify(s)
    #expect(status == 3)
    #expect(v["bad_seq"] as? Int == 4)
    #expect(v["problem"] as? String == "missing")
  }

  @Test func renumberingOverADeletionIsDetected() throws {
    let s = try populated()
    try shell(
      s,
      """
      DROP TRIGGER audit_no_delete; DROP TRIGGER audit_no_update;
      DELETE FROM audit WHERE seq = 4;
      UPDATE audit SET seq = seq - 1 WHERE seq > 4;
      """)
    let (status, v) = try verify(s)
    #expect(status == 3)
    #expect(v["bad_seq"] as? Int == 4)
  }

  @Test func twoSwappedEntriesAreDetected() throws {
    let s = try populated()
    try shell(
      s,
      """
      DROP TRIGGER audit_no_update;
      UPDATE audit SET seq = 1000 WHERE seq = 3;
      UPDATE audit SET seq = 3 WHERE seq = 4;
      UPDATE audit SET seq = 4 WHERE seq = 1000;
      """)
    let (status, v) = try verify(s)
    #expect(status == 3)
    #expect(v["bad_seq"] as? Int == 3)
  }

  @Test func anInsertedEntryIsDetected() throws {
    let s = try populated()
    try shell(
      s,
      """
      DROP TRIGGER audit_no_update;
      UPDATE audit SET seq = seq + 1000 WHERE seq >= 5;
      UPDATE audit SET seq = seq - 999 WHERE seq >= 1000;
      INSERT INTO audit (seq, at, event, actor, os_user, detail, prev_hash, hash)
        SELECT 5, at, 'admin.added', actor, os_user, '{"user":"mallory"}', hash, hash FROM audit WHERE seq = 4;
      """)
    let (status, v) = try verify(s)
    #expect(status == 3)
    #expect(v["bad_seq"] as? Int == 5)
  }

  @Test func deletedLastEntriesAreOnlyDetectedAgainstAKeptHead() throws {
    let s = try populated()
    let head = s.run("audit", "head").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    try shell(s, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq >= 6;")
    // Without a kept head, a shorter chain is a valid chain: the limit the man page states.
    #expect(try verify(s).0 == 0)
    let (status, v) = try verify(s, ["--expect-head", head])
    #expect(status == 3)
    #expect(v["problem"] as? String == "truncated")
    #expect(v["bad_seq"] as? Int == 6)
    // The hash alone works too.
    #expect(try verify(s, ["--expect-head", String(head.split(separator: " ")[1])]).0 == 3)
  }

  @Test func theFirstEntryAnInsertedStartAndAnUppercasedHashAreDetected() throws {
    let a = try populated()
    try shell(a, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 1;")
    #expect(try verify(a).1["bad_seq"] as? Int == 1)
    let b = try populated()
    try shell(
      b,
      "INSERT INTO audit (seq, at, event, actor, os_user, detail, prev_hash, hash) SELECT 0, at, event, actor, os_user, detail, prev_hash, hash FROM audit WHERE seq = 1;"
    )
    let (sb, vb) = try verify(b)
    #expect(sb == 3 && vb["bad_seq"] as? Int == 0)
    let c = try populated()
    try shell(c, "DROP TRIGGER audit_no_update; UPDATE audit SET hash = upper(hash) WHERE seq = 7;")
    #expect(try verify(c).1["bad_seq"] as? Int == 7)
    let d = try populated()
    try shell(
      d,
      "DROP TRIGGER audit_no_update; UPDATE audit SET prev_hash = '\(String(repeating: "0", count: 64))' WHERE seq = 3;"
    )
    #expect(try verify(d).1["bad_seq"] as? Int == 3)
    // A log with nothing left is not an intact log.
    let e = try populated()
    try shell(e, "DROP TRIGGER audit_no_delete; DELETE FROM audit;")
    #expect(try verify(e).0 == 3)
  }

  @Test func doctorNoticesAHistoryCutShort() throws {
    let s = try populated()
    // Keep only the first entry: the chain that remains is valid, but the keys have no history.
    try shell(
      s,
      "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq > 1; CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'x'); END;"
    )
    #expect(try verify(s).0 == 0)
    let checks = try #require(try s.run("doctor", "--json").json() as? [[String: Any]])
    #expect(checks.first { $0["check"] as? String == "audit covers keys" }?["ok"] as? Bool == false)
    // doctor changes nothing: a loose mode is reported, not fixed.
    guard Engine.isSQLite else { return }
    chmod(s.vault, 0o644)
    #expect(s.run("doctor").status == 3)
    #expect(s.mode(s.vault) == 0o644)
  }

  @Test func exportWritesJSONLinesAndRFC4180CSV() throws {
    let s = try Sandbox()
    let r = s.run(
      "create", "--company", "acme", "--name", "a \"quoted\", name\nwith a newline", "--scope", "jobs:read", "-q")
    #expect(r.status == 0)
    let jsonl = s.run("audit", "export")
    #expect(jsonl.status == 0)
    let objects = jsonl.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    #expect(objects.count == 2)
    #expect(objects.map { $0["event"] as? String } == ["vault.initialized", "key.created"])
    let csv = s.run("audit", "export", "--format", "csv", "--event", "key.*")
    #expect(csv.status == 0)
    #expect(csv.stdout.hasPrefix("seq,at,event,actor,os_user,key_id,company,ip,detail,prev_hash,hash\r\n"))
    // Parse it back with a strict RFC 4180 reader.
    let records = ExportEscapingTests.parseCSV(csv.stdout)
    #expect(records.count == 2)
    #expect(records.allSatisfy { $0.count == 11 })
    let detail = try #require(try JSONSerialization.jsonObject(with: Data(records[1][8].utf8)) as? [String: Any])
    #expect(detail["name"] as? String == "a \"quoted\", name\nwith a newline")
    #expect(records[1][2] == "key.created")
    #expect(records[1][7] == "", "an absent ip is an empty field")
    #expect(s.run("audit", "export", "--format", "xml").status == 2)
    #expect(s.run("audit", "export", "--json").status == 2)
  }

  @Test func doctorReportsEachCheckAndFailsOnAProblem() throws {
    let s = try populated()
    let ok = s.run("doctor")
    #expect(ok.status == 0, "\(ok.stdout)")
    for name in [
      Engine.isSQLite ? "vault files" : "vault server", Engine.isSQLite ? "backup leftovers" : "secret file",
      "secret file", "integrity", "schema", "secret fingerprint", "sealed schema",
      "seals", "audit chain", "rotation graces",
    ] {
      #expect(ok.stdout.contains(name))
    }
    let json = try #require(try s.run("doctor", "--json").json() as? [[String: Any]])
    #expect(json.count == (Engine.isSQLite ? 12 : 11) && json.allSatisfy { $0["ok"] as? Bool == true })
    let k = try s.createKey()
    #expect(s.run("rotate", k.id, "--grace", "1h", "-q").status == 0)
    try s.backdate(k.id, .graceUntil)
    // On PostgreSQL the trigger is switched off, which changes the schema as dropping it would.
    try shell(
      s,
      Engine.isSQLite
        ? "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = 2;"
        : "ALTER TABLE audit DISABLE TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = 2;")
    let bad = s.run("doctor", "--json")
    #expect(bad.status == 3)
    let checks = try #require(try bad.json() as? [[String: Any]])
    let failed = checks.filter { $0["ok"] as? Bool == false }.compactMap { $0["check"] as? String }
    #expect(failed == ["sealed schema", "append-only audit", "audit chain", "rotation graces"])
    let schema = checks.first { $0["check"] as? String == "sealed schema" }?["message"] as? String ?? ""
    #expect(
      schema.contains(
        Engine.isSQLite ? "trigger audit_no_update was dropped" : "trigger audit_no_update on audit was changed"),
      "\(schema)")
    // With a secret that does not match, every check still has its line.
    let other = s.dir.path + "/other-secret"
    _ = FileManager.default.createFile(
      atPath: other, contents: Data(repeating: 0x42, count: 40), attributes: [.posixPermissions: 0o600])
    let wrong = try #require(
      try s.run(["doctor", "--json"], env: ["IVKEYS_SECRET_FILE": other]).json() as? [[String: Any]])
    #expect(wrong.count == (Engine.isSQLite ? 12 : 11))
    #expect(wrong.first { $0["check"] as? String == "secret fingerprint" }?["ok"] as? Bool == false)
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func backupMakesAPrivateVerifiedCopyAndRefusesToOverwrite() throws {
    let s = try populated()
    let dest = s.dir.path + "/backup.db"
    let r = s.run("backup", dest)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(s.mode(dest) == 0o600)
    #expect(!FileManager.default.fileExists(atPath: dest + "-wal"), "one self-contained file")
    // A backup put in place as a vault works, and goes back to WAL mode on first use.
    let restored = s.dir.path + "/restored.db"
    try FileManager.default.copyItem(atPath: dest, toPath: restored)
    #expect(
      s.run(
        ["create", "--company", "r", "--name", "after restore", "--scope", "jobs:read", "-q"],
        env: ["IVKEYS_VAULT": restored]
      ).status == 0)
    #expect(try Database(path: restored).scalarText("PRAGMA journal_mode") == "wal")
    // The copy is a working vault with the same keys and chain.
    let copy = s.run(["audit", "verify", "--json"], env: ["IVKEYS_VAULT": dest])
    #expect(copy.status == 0)
    #expect((try copy.json() as? [String: Any])?["entries"] as? Int == 7)
    #expect(s.run(["list", "-q"], env: ["IVKEYS_VAULT": dest]).lines.count == 4)
    let again = s.run("backup", dest)
    #expect(again.status == 1)
    #expect(again.stderr.contains("already exists"))
    #expect(s.run("backup", dest, "--force").status == 0)
    #expect(s.run("backup", s.vault).status == 2)
    // The vault under another name is still the vault: --force must not replace it.
    let alias = s.dir.path + "/alias.db"
    try FileManager.default.createSymbolicLink(atPath: alias, withDestinationPath: s.vault)
    let r2 = s.run("backup", alias, "--force")
    #expect(r2.status == 2)
    #expect(r2.stderr.contains("is the vault"))
    #expect(s.run("backup", s.dir.path + "/vault/../vault/vault.db", "--force").status == 2)
    #expect(s.run("audit", "verify").status == 0)
    #expect(s.keyCount == 4)
    // Nor the secret file, whatever --force says.
    let onSecret = s.run("backup", s.secret, "--force")
    #expect(onSecret.status == 2)
    #expect(s.run("list", "-q").status == 0, "the secret is intact")
    // Nor a file that is not an SQLite database.
    let text = s.dir.path + "/notes.txt"
    try Data("notes".utf8).write(to: URL(fileURLWithPath: text))
    #expect(s.run("backup", text, "--force").status == 1)
    #expect(try String(contentsOfFile: text, encoding: .utf8) == "notes")
    // A new copy that fails its checks leaves the previous backup in place.
    let before = try Data(contentsOf: URL(fileURLWithPath: dest))
    try shell(s, "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = 2;")
    let failed = s.run("backup", dest, "--force")
    #expect(failed.status == 1)
    #expect(try Data(contentsOf: URL(fileURLWithPath: dest)) == before)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: s.dir.path).allSatisfy { !$0.hasPrefix(".ivkeys-backup") })
  }
}
