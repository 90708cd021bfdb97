import Foundation
import Testing

@testable import IVKeysCore

@Suite("SQLite schema migrations")
struct MigrationTests {
  /// Turns a test vault back into a version-3 one: the keys table as migration 1 wrote it (status
  /// CHECK with IN), the rows copied with spread-out rowids so that keeping them is observable.
  func downgradeToVersion3(_ db: Database) throws {
    let first = SQLiteSchema.migrations[0]
    guard let start = first.range(of: "CREATE TABLE keys ("),
      let end = first.range(of: "\n);", range: start.upperBound..<first.endIndex)
    else { throw IVKeysError.vault("migration 1 has no keys table") }
    let oldTable = String(first[start.lowerBound..<end.upperBound]).replacingOccurrences(
      of: "CREATE TABLE keys (", with: "CREATE TABLE keys_v3 (")
    #expect(oldTable.contains("CHECK (status IN ('active', 'suspended', 'rotating', 'revoked', 'expired'))"))
    try db.writeTransaction { () throws(IVKeysError) in
      try db.execute(oldTable)
      try db.execute(
        """
        INSERT INTO keys_v3 (rowid, id, env, type, company, linked_companies, name, digest, scopes, allowed_ips,
          expires_at, rate_limit, metadata, tags, contact, status, status_reason, created_at, created_by,
          rotated_from, replaced_by, grace_until, last_used_at, request_count, error_count)
        SELECT rowid * 7 + 3, id, env, type, company, linked_companies, name, digest, scopes, allowed_ips,
          expires_at, rate_limit, metadata, tags, contact, status, status_reason, created_at, created_by,
          rotated_from, replaced_by, grace_until, last_used_at, request_count, error_count FROM keys;
        DROP TABLE keys;
        ALTER TABLE keys_v3 RENAME TO keys;
        CREATE INDEX keys_expires ON keys (expires_at) WHERE expires_at IS NOT NULL;
        ALTER TABLE admins DROP COLUMN seal;
        ALTER TABLE scopes DROP COLUMN seal;
        DELETE FROM meta WHERE name IN ('secret_version', 'schema_fingerprint');
        ALTER TABLE meta DROP COLUMN seal;
        DROP TABLE secret_versions;
        DROP TABLE usage_hourly;
        DROP TABLE working_hours;
        DROP TABLE alert_states;
        DROP TABLE request_budgets; DROP TABLE rate_windows;
        CREATE TABLE rate_windows (key_id TEXT PRIMARY KEY, window_start INTEGER NOT NULL, count INTEGER NOT NULL)
          WITHOUT ROWID;
        PRAGMA user_version = 3;
        """)
    }
  }

  /// Rewrites the audit chain, as only someone holding the secret can, so that the vault reads as
  /// created at schema version `version`: a vault created at a sealed version is never migrated
  /// from an older one (`Vault.refuseRolledBackSchema`).
  func rewriteHistoryAsCreatedAt(_ version: Int, _ v: Vault, _ db: Database) throws {
    let key = try #require(v.secretFile?.version(1)).auditKey
    var rows = [AuditRow]()
    try db.statement(
      "SELECT seq, at, event, actor, os_user, key_id, company, ip, detail, prev_hash, hash FROM audit ORDER BY seq"
    ).forEachRow { r in
      rows.append(
        AuditRow(
          seq: r.int(0), at: r.text(1), event: r.text(2), actor: r.text(3), osUser: r.text(4), keyID: r.optionalText(5),
          company: r.optionalText(6), ip: r.optionalText(7), detail: r.text(8), prevHash: r.text(9), hash: r.text(10)))
    }
    rows[0].detail = rows[0].detail.replacingOccurrences(
      of: "\"schema_version\":\(SQLiteSchema.currentVersion)", with: "\"schema_version\":\(version)")
    try db.execute("DROP TRIGGER audit_no_update")
    var previous = AuditChain.genesis
    for var row in rows {
      row.prevHash = previous
      row.hash = AuditChain.hash(key: key, prevHash: previous.utf8, entry: row)
      try db.run(
        "UPDATE audit SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?",
        [.text(row.detail), .text(row.prevHash), .text(row.hash), .int(row.seq)])
      previous = row.hash
    }
    try db.execute(
      """
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE is not allowed'); END;
      """)
  }

  /// Every key row with its rowid, in rowid order, as text.
  func keyRows(_ db: Database) throws -> [String] {
    var rows = [String]()
    try db.statement(
      "SELECT rowid, id, status, company, name, scopes, hex(digest), expires_at, created_at FROM keys ORDER BY rowid"
    ).forEachRow { row in
      rows.append((0..<9).map { row.optionalText($0) ?? "NULL" }.joined(separator: "|"))
    }
    return rows
  }

  @Test func migration4KeepsEveryKeyItsRowidAndTheAuditChain() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let batch = try v.createKeys(KeyDraft(company: "acme", name: "k", scopes: ["jobs:read"]), count: 5)
    _ = try v.changeStatus(batch.keys[1].id, .suspend, reason: "test")
    _ = try v.changeStatus(batch.keys[2].id, .revoke, reason: "test")
    let db = try v.testDB
    try downgradeToVersion3(db)
    try rewriteHistoryAsCreatedAt(3, v, db)
    let before = try keyRows(db)
    #expect(before.count == 5)
    #expect(before.first?.hasPrefix("10|") == true)  // rowid 1 * 7 + 3
    let head = try v.auditHead()

    // Opening for writing migrates.
    let migrated = try reopen(dir)
    let mdb = try migrated.testDB
    #expect(try mdb.scalarInt("PRAGMA user_version") == Int64(SQLiteSchema.currentVersion))
    #expect(SQLiteSchema.currentVersion == 7)
    // Migration 5 sealed every row of the old vault, in the same transaction.
    #expect(try migrated.store.brokenSeals(limit: 10).isEmpty)
    try migrated.store.checkSchemaSeal()
    #expect(try keyRows(mdb) == before)
    let sql = try mdb.scalarText("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'keys'") ?? ""
    #expect(sql.contains("status = 'active' OR status = 'suspended'"))
    #expect(!sql.contains("status IN"))
    #expect(try mdb.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name = 'keys_expires'") == 1)
    #expect(try mdb.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name = 'keys_new'") == 0)
    #expect(try mdb.scalarText("PRAGMA integrity_check") == "ok")
    // The history is kept, and the sealing is on it: one vault.sealed entry after the old head.
    let old = try #require(head)
    #expect(try migrated.verifyAudit(expectedHead: (seq: old.seq, hash: old.hash)).intact)
    #expect(try migrated.auditHead()?.seq == old.seq + 1)
    #expect(try migrated.store.auditHasEvent(AuditEvent.vaultSealed.rawValue))
    #expect(try migrated.verifyAudit().intact)
    // The keys still work: the migrated vault resolves them with their stored status.
    #expect(try migrated.resolve(batch.keys[0].id).status == .active)
    #expect(try migrated.resolve(batch.keys[1].id).status == .suspended)
    #expect(try migrated.resolve(batch.keys[2].id).status == .revoked)
    // A new key goes after the highest rowid, in creation order.
    let next = try migrated.createKeys(KeyDraft(company: "acme", name: "n", scopes: ["jobs:read"])).template
    #expect(try mdb.scalarInt("SELECT rowid FROM keys WHERE id = ?", [.text(next.id)]) == 5 * 7 + 3 + 1)
    #expect(try migrated.verifyAudit().intact)
  }

  @Test func theRewrittenStatusCheckStillRefusesAnUnknownStatus() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let key = try v.createKeys(KeyDraft(company: "acme", name: "k", scopes: ["jobs:read"])).template
    let db = try v.testDB
    for status in ["bogus", "Active", "", "active "] {
      do {
        try db.run("UPDATE keys SET status = ? WHERE id = ?", [.text(status), .text(key.id)])
        Issue.record("status '\(status)' must be refused")
      } catch {
        guard case .sqlite(let e) = error else {
          Issue.record("not an SQLite error: \(error)")
          continue
        }
        #expect(e.code == 275)  // SQLITE_CONSTRAINT_CHECK
      }
    }
    for status in KeyStatus.allCases {
      try db.run("UPDATE keys SET status = ? WHERE id = ?", [.text(status.rawValue), .text(key.id)])
    }
    #expect(throws: IVKeysError.self) {
      try db.run("UPDATE keys SET env = 'prod' WHERE id = ?", [.text(key.id)])
    }
  }
}
