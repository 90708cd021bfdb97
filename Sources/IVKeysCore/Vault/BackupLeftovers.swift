import Glibc

/// The temporary files of backups that did not finish. `backup DEST` writes its copy to
/// `.ivkeys-backup-<pid>-<time>` (and SQLite's `-journal` beside it) in DEST's directory and
/// renames it into place; a backup that is killed leaves that file, a whole or partial copy of
/// the vault. The next `backup` into the same directory removes it, and `doctor` reports any it
/// finds in the vault's directory.
public enum BackupLeftovers {
  /// The start of every temporary backup file's name.
  static let prefix = ".ivkeys-backup-"

  /// The name of a new temporary file for a backup by this process.
  static func temporaryName(now: Timestamp) -> String { "\(prefix)\(getpid())-\(now)" }

  /// The temporary backup files in `directory` whose backup is over: named as `temporaryName`
  /// makes them (or their `-journal`), regular files owned by this user, and made by a process
  /// that no longer exists (`kill(pid, 0)` fails with ESRCH). A file of a backup still running,
  /// or of another user, is never listed. Paths, sorted.
  public static func stale(in directory: String) -> [String] {
    guard let d = opendir(directory) else { return [] }
    defer { closedir(d) }
    var found = [String]()
    while let entry = readdir(d) {
      let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
        let bytes = raw.bindMemory(to: UInt8.self)
        return String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      guard let pid = creator(of: name), kill(pid, 0) != 0 && errno == ESRCH else { continue }
      let path = directory + "/" + name
      var st = stat()
      guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == geteuid() else { continue }
      found.append(path)
    }
    return found.sorted()
  }

  /// The process id in a temporary backup file's name, or nil when the name is not one.
  static func creator(of name: String) -> pid_t? {
    guard name.hasPrefix(prefix) else { return nil }
    var rest = name.dropFirst(prefix.count)
    if rest.hasSuffix("-journal") { rest = rest.dropLast("-journal".count) }
    let parts = rest.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
      let pid = pid_t(parts[0]), pid > 0
    else { return nil }
    return pid
  }

  /// Removes the stale temporary files in `directory` and returns those removed.
  static func removeStale(in directory: String) -> [String] {
    stale(in: directory).filter { unlink($0) == 0 }
  }
}

extension Doctor {
  /// Temporary files of interrupted backups in the vault's directory. `doctor` does not know
  /// where backups were written, so it looks beside the vault; `backup` cleans its own directory.
  static func checkBackupLeftovers(_ c: inout Context) {
    let directory = FileSystem.directory(of: c.vaultPath)
    let stale = BackupLeftovers.stale(in: directory)
    c.add(
      "backup leftovers", stale.isEmpty,
      stale.isEmpty
        ? "no temporary file of an interrupted backup in \(directory)"
        : "\(stale.count == 1 ? "a temporary file" : "\(stale.count) temporary files") of an interrupted backup, "
          + "a copy of the vault: \(stale.joined(separator: ", "))",
      hint: "remove \(stale.count == 1 ? "it" : "them") (rm), or run 'ivkeys backup' into \(directory), which does")
  }
}
