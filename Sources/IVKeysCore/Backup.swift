#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSQLite

/// What `backup` made.
public struct BackupResult: Sendable {
  public let path: String
  public let keys: Int64
  public let auditEntries: Int64
  public let audit: AuditVerification
}

extension Vault {
  /// Copies the vault to `destination` with SQLite's online backup API, while other processes
  /// keep working: "the backup ... is a consistent snapshot of the source database". The file is
  /// created with O_EXCL and mode 0600; `force` replaces an existing one. The copy is then
  /// opened and checked (integrity_check and the audit chain); a copy that fails is removed.
  public func backup(to destination: String, force: Bool) throws(IVKeysError) -> BackupResult {
    // The same file under another name (./vault.db, a link) is the vault itself: never replace it.
    var mine = stat(), theirs = stat()
    for suffix in ["", "-wal", "-shm"] where stat(db.path + suffix, &mine) == 0 && stat(destination, &theirs) == 0
      && mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino
    {
      throw .usage("\(destination) is the vault's own file\(suffix.isEmpty ? "" : " (\(suffix))")", hint: "give another path for the backup")
    }
    if force && FileSystem.exists(destination) {
      var st = stat()
      guard lstat(destination, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
        throw .conflict("\(destination) is not a regular file; refusing to replace it")
      }
      unlink(destination)
      unlink(destination + "-wal")
      unlink(destination + "-shm")
    }
    try FileSystem.createExclusive(
      destination, what: "the backup",
      exists: .conflict("\(destination) already exists; refusing to overwrite it", hint: "choose another name, or pass --force to replace it"))
    func discard() {
      unlink(destination)
      unlink(destination + "-wal")
      unlink(destination + "-shm")
    }
    do throws(IVKeysError) {
      let copy = try Database(path: destination)
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
      // One self-contained file: fold the copy's WAL in before it is closed.
      try copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
      chmod(destination, 0o600)
      let check = try copy.scalarText("PRAGMA integrity_check") ?? ""
      guard check == "ok" else { throw .vault("the backup failed its integrity check: \(check)") }
      let verified = try Vault(db: copy, secret: secret, actor: actor).verifyAudit()
      guard verified.intact else {
        throw .vault("the backup's audit chain does not verify: \(verified.message)",
                                hint: "run 'ivkeys audit verify' on the vault itself")
      }
      let keys = try copy.scalarInt("SELECT count(*) FROM keys") ?? 0
      return BackupResult(path: destination, keys: keys, auditEntries: verified.entries, audit: verified)
    } catch {
      discard()
      throw error
    }
  }
}
