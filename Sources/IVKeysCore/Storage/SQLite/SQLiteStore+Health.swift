import CSQLite

/// What `doctor` and `backup` ask of the file itself.
extension SQLiteStore {
  func integrityProblems(limit: Int) throws(IVKeysError) -> [String] {
    // "If any errors are found, then strings are returned as multiple rows with a single column
    // per row. If no errors are found, a single row with the value 'ok' is returned."
    var problems = [String]()
    try db.statement("PRAGMA integrity_check(\(max(1, limit)))").forEachRow { row in problems.append(row.text(0)) }
    return problems
  }

  func auditIsAppendOnly() throws(IVKeysError) -> Bool {
    let triggers = try db.scalarInt(
      """
      SELECT count(*) FROM sqlite_master
      WHERE type = 'trigger' AND name IN ('audit_no_update', 'audit_no_delete') AND tbl_name = 'audit'
      """)
    return triggers == 2
  }

  func keysWithoutCreationEntry() throws(IVKeysError) -> Int64 {
    try db.scalarInt(
      """
      SELECT count(*) FROM keys
      WHERE id NOT IN (SELECT key_id FROM audit WHERE event = ? AND key_id IS NOT NULL)
      """, [.text(AuditEvent.keyCreated.rawValue)]) ?? 0
  }

  func revokedKeysWithoutRevocationEntry() throws(IVKeysError) -> Int64 {
    try db.scalarInt(
      """
      SELECT count(*) FROM keys
      WHERE status = 'revoked' AND id NOT IN (SELECT key_id FROM audit WHERE event = ? AND key_id IS NOT NULL)
      """, [.text(AuditEvent.keyRevoked.rawValue)]) ?? 0
  }

  func staleRotations(now: Timestamp) throws(IVKeysError) -> Int64 {
    try db.scalarInt(
      """
      SELECT count(*) FROM keys
      WHERE status IN ('rotating', 'suspended') AND grace_until IS NOT NULL AND grace_until <= ?
      """,
      [.int(now)]) ?? 0
  }

  func refuseFileBackup() throws(IVKeysError) {}

  /// Copies the vault with SQLite's online backup API, while other processes keep working:
  /// "the backup ... is a consistent snapshot of the source database". The copy uses a rollback
  /// journal, so it is one self-contained file.
  func copy(to path: String) throws(IVKeysError) -> any VaultStore {
    let copy = try Database(path: path)
    guard let backup = sqlite3_backup_init(copy.handle, "main", db.handle, "main") else {
      throw .sqlite(copy.error(sqlite3_errcode(copy.handle), sql: nil))
    }
    // "sqlite3_backup_step(B, -1) copies all remaining pages"; busy or locked are retried.
    var rc: Int32
    repeat {
      rc = sqlite3_backup_step(backup, -1)
      if rc == SQLITE_BUSY || rc == SQLITE_LOCKED { sqlite3_sleep(50) }
    } while rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED
    let finish = sqlite3_backup_finish(backup)
    guard rc == SQLITE_DONE, finish == SQLITE_OK else {
      throw .sqlite(copy.error(rc == SQLITE_DONE ? finish : rc, sql: nil))
    }
    // One self-contained file: a rollback journal instead of a WAL beside it.
    _ = try copy.scalarText("PRAGMA journal_mode = DELETE")
    return SQLiteStore(database: copy)
  }
}
