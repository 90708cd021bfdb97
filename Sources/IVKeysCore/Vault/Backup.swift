import Glibc

/// What `backup` made.
public struct BackupResult: Sendable {
  public let path: String
  public let keys: Int64
  public let auditEntries: Int64
  public let audit: AuditVerification
}

extension Vault {
  /// Copies the vault to `destination` while other processes keep working (the store's `copy`:
  /// SQLite's online backup API).
  ///
  /// The copy is written to a new file beside `destination` (O_EXCL, mode 0600), checked
  /// (integrity_check and the audit chain), and only then renamed into place: a copy that fails
  /// leaves `destination` as it was. An existing `destination` is replaced only with `force`, only
  /// if it is an SQLite file, and never if it is the vault or the secret under any name. The copy
  /// uses a rollback journal, so it is one self-contained file.
  ///
  /// Temporary files that killed backups left in that directory are removed first
  /// (`BackupLeftovers`), each passed to `removedLeftover`.
  public func backup(
    to destination: String, force: Bool, secretPath: String, removedLeftover: (String) -> Void = { _ in }
  ) throws(IVKeysError) -> BackupResult {
    try store.refuseFileBackup()
    try checkBackupDestination(destination, force: force, secretPath: secretPath)
    let temporary = try createBackupFile(for: destination, removedLeftover: removedLeftover)
    func discard() {
      unlink(temporary)
      unlink(temporary + "-journal")
    }
    do throws(IVKeysError) {
      let result: BackupResult
      do {
        let copy = try store.copy(to: temporary)
        let check = try copy.integrityProblems(limit: 100)
        guard check == ["ok"] else {
          throw .vault("the backup failed its integrity check: \(check.joined(separator: "; "))")
        }
        let verified = try Vault(
          store: copy, secretFile: secretFile, version: secret, secretPath: secretPath, actor: actor
        ).verifyAudit()
        guard verified.intact else {
          throw .vault(
            "the backup's audit chain does not verify: \(verified.message)",
            hint: "run 'ivkeys audit verify' on the vault itself; the existing backup was kept")
        }
        result = BackupResult(
          path: destination, keys: try copy.keyCount(), auditEntries: verified.entries, audit: verified)
      }
      chmod(temporary, 0o600)
      guard rename(temporary, destination) == 0 else {
        throw .io("cannot move the backup into place at \(destination): \(Errno.current)")
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

  /// Refuses a destination that is the vault or the secret under any name, or that exists
  /// (without `force`), or that is not an SQLite file (even with it).
  private func checkBackupDestination(_ destination: String, force: Bool, secretPath: String) throws(IVKeysError) {
    var target = stat()
    var link = stat()
    // lstat: a dangling symbolic link exists too, and is not replaced without --force.
    guard lstat(destination, &link) == 0 else { return }
    _ = stat(destination, &target)
    var other = stat()
    for (file, name) in [
      (path, "the vault"), (path + "-wal", "the vault's WAL"), (path + "-shm", "the vault's -shm"),
      (secretPath, "the secret file"),
    ]
    where stat(file, &other) == 0 && other.st_dev == target.st_dev && other.st_ino == target.st_ino {
      throw .usage("\(destination) is \(name)", hint: "give another path for the backup")
    }
    guard force else {
      throw .conflict(
        "\(destination) already exists; refusing to overwrite it",
        hint: "choose another name, or pass --force to replace it")
    }
    guard (target.st_mode & S_IFMT) == S_IFREG, FileSystem.isSQLiteFile(destination) else {
      throw .conflict("\(destination) is not an SQLite file; refusing to replace it even with --force")
    }
  }

  /// Creates the new, empty file the copy is written to, beside `destination`. Errors name the
  /// destination and its directory: the temporary name means nothing to the user.
  private func createBackupFile(for destination: String, removedLeftover: (String) -> Void) throws(IVKeysError)
    -> String
  {
    let directory = FileSystem.directory(of: destination)
    var dirStat = stat()
    guard stat(directory, &dirStat) == 0, (dirStat.st_mode & S_IFMT) == S_IFDIR else {
      throw .io(
        "cannot write the backup \(destination): the directory \(directory) does not exist",
        hint: "create it first (mkdir -p \(directory)), or give a path in an existing directory")
    }
    guard Glibc.access(directory, W_OK) == 0 else {
      throw .io(
        "cannot write the backup \(destination): the directory \(directory) is not writable (\(Errno.current))",
        hint: "choose a directory you can write to")
    }
    for path in BackupLeftovers.removeStale(in: directory) { removedLeftover(path) }
    let temporary = directory + "/" + BackupLeftovers.temporaryName(now: Time.now())
    do {
      try FileSystem.createExclusive(
        temporary, what: "the backup",
        exists: .conflict("\(temporary) already exists", hint: "remove it; it is left from an interrupted backup"))
    } catch {
      if case .conflict = error { throw error }
      throw .io(
        "cannot write the backup \(destination) in \(directory): \(error.description)",
        hint: "check the directory's permissions and free space")
    }
    return temporary
  }
}
