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
  /// keep working: "the backup ... is a consistent snapshot of the source database".
  ///
  /// The copy is written to a new file beside `destination` (O_EXCL, mode 0600), checked
  /// (integrity_check and the audit chain), and only then renamed into place: a copy that fails
  /// leaves `destination` as it was. An existing `destination` is replaced only with `force`, only
  /// if it is an SQLite file, and never if it is the vault or the secret under any name. The copy
  /// uses a rollback journal, so it is one self-contained file.
  public func backup(to destination: String, force: Bool, secretPath: String) throws(IVKeysError) -> BackupResult {
    var target = stat(), link = stat()
    // lstat: a dangling symbolic link exists too, and is not replaced without --force.
    let exists = lstat(destination, &link) == 0
    if exists {
      _ = stat(destination, &target)
      var other = stat()
      for (path, name) in [(db.path, "the vault"), (db.path + "-wal", "the vault's WAL"), (db.path + "-shm", "the vault's -shm"),
                           (secretPath, "the secret file")]
      where stat(path, &other) == 0 && other.st_dev == target.st_dev && other.st_ino == target.st_ino {
        throw .usage("\(destination) is \(name)", hint: "give another path for the backup")
      }
      guard force else {
        throw .conflict("\(destination) already exists; refusing to overwrite it", hint: "choose another name, or pass --force to replace it")
      }
      guard (target.st_mode & S_IFMT) == S_IFREG, FileSystem.isSQLiteFile(destination) else {
        throw .conflict("\(destination) is not an SQLite file; refusing to replace it even with --force")
      }
    }
    let temporary = FileSystem.directory(of: destination) + "/.ivkeys-backup-\(getpid())-\(Time.now())"
    try FileSystem.createExclusive(
      temporary, what: "the backup",
      exists: .conflict("\(temporary) already exists", hint: "remove it; it is left from an interrupted backup"))
    func discard() {
      unlink(temporary)
      unlink(temporary + "-journal")
    }
    do throws(IVKeysError) {
      let result: BackupResult
      do {
        let copy = try Database(path: temporary)
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
        let check = try copy.scalarText("PRAGMA integrity_check") ?? ""
        guard check == "ok" else { throw .vault("the backup failed its integrity check: \(check)") }
        let verified = try Vault(db: copy, secret: secret, actor: actor).verifyAudit()
        guard verified.intact else {
          throw .vault("the backup's audit chain does not verify: \(verified.message)",
                       hint: "run 'ivkeys audit verify' on the vault itself; the existing backup was kept")
        }
        let keys = try copy.scalarInt("SELECT count(*) FROM keys") ?? 0
        result = BackupResult(path: destination, keys: keys, auditEntries: verified.entries, audit: verified)
      }
      chmod(temporary, 0o600)
      guard rename(temporary, destination) == 0 else {
        throw .io("cannot move the backup into place at \(destination): \(String(cString: strerror(errno)))")
      }
      // Stale WAL files of a database that was replaced must not be read with the new one.
      unlink(destination + "-wal")
      unlink(destination + "-shm")
      let dirfd = Glibc.open(FileSystem.directory(of: destination), O_RDONLY | O_CLOEXEC)
      if dirfd >= 0 {
        fsync(dirfd)
        close(dirfd)
      }
      return result
    } catch {
      discard()
      throw error
    }
  }
}
