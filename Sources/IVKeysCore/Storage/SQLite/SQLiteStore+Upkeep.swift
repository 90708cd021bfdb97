import CSQLite
import Glibc

/// A long-running writer's upkeep (`serve`), each part on a thread of its own: commits that do
/// not wait for the disk, one fdatasync for many of them, and checkpoints that do not stop the
/// writer.
extension SQLiteStore {
  /// Commits stop syncing (`synchronous = NORMAL`, which in WAL mode does not sync at COMMIT);
  /// `SQLiteWALSync.sync` syncs the WAL instead, for every commit before it at once. What the
  /// writer has answered for is on disk exactly as with `synchronous = FULL`; what it has not may
  /// be lost to a power cut, as then. NORMAL, not OFF: SQLite still syncs a restarted WAL's new
  /// header before frames overwrite the old ones ("an out-of-order write following a WAL restart
  /// could result in database corruption" with OFF, wal.c), one sync a restart. The WAL file
  /// keeps up to 64 MiB when restarted, rather than being cut to nothing and grown again.
  func deferCommitSyncs() throws(IVKeysError) -> (any CommitSyncing)? {
    guard !db.isReadOnly else { return nil }
    // The WAL file exists once the connection has read the vault, as opening it did.
    let fd = open(db.path + "-wal", O_RDWR | O_CLOEXEC)
    guard fd >= 0 else { throw .io("cannot open \(db.path)-wal: \(Errno.current)") }
    do {
      try db.execute("PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 67108864")
    } catch {
      close(fd)
      throw error
    }
    return SQLiteWALSync(fd: fd, path: db.path + "-wal")
  }

  func openCheckpointer() throws(IVKeysError) -> (any Checkpointing)? {
    guard !db.isReadOnly else { return nil }
    let other = try Database(path: db.path)
    other.keepWAL()
    try other.execute("PRAGMA wal_autocheckpoint = 0; PRAGMA synchronous = FULL")
    return SQLiteCheckpointer(db: other, writer: db)
  }
}

/// fdatasync of the vault's WAL through a descriptor of its own: every frame written before the
/// call, by any connection, is on disk when it returns.
final class SQLiteWALSync: CommitSyncing {
  private let fd: Int32
  private let path: String

  init(fd: Int32, path: String) {
    self.fd = fd
    self.path = path
  }

  deinit { close(fd) }

  var failureIsFinal: Bool { true }

  func sync() throws(IVKeysError) {
    guard fdatasync(fd) == 0 else { throw .io("cannot sync \(path): \(Errno.current)") }
  }
}

/// A second connection that checkpoints. A PASSIVE checkpoint takes no writer's lock: the writer
/// goes on committing while the frames are copied. But SQLite restarts the WAL from its
/// beginning only when every frame is copied as a transaction begins, which a writer committing
/// a group every millisecond never lets happen; so once the WAL passes 16 MiB the writer itself,
/// between two groups, copies the frames the last PASSIVE checkpoint left (a few) and restarts
/// it (`restart`). This connection syncs as SQLite's default (FULL) does, and the writer's
/// checkpoint as NORMAL does: the vault file is synced before the WAL it was copied from may be
/// overwritten.
final class SQLiteCheckpointer: Checkpointing {
  static let restartFrames: Int32 = 4096
  private let db: Database
  /// The writer's connection, used only on its thread (`restart`).
  private let writer: Database

  init(db: Database, writer: Database) {
    self.db = db
    self.writer = writer
  }

  func checkpoint() -> Result<Bool, IVKeysError> {
    var frames: Int32 = 0
    var copied: Int32 = 0
    db.setBusyTimeout(0)
    let rc = sqlite3_wal_checkpoint_v2(db.handle, nil, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied)
    // SQLITE_BUSY (a reader or the writer in the way) is for next time; an I/O error is not.
    if rc & 0xff == SQLITE_IOERR { return .failure(.sqlite(db.error(rc, sql: "PRAGMA wal_checkpoint"))) }
    return .success(rc == SQLITE_OK && frames > Self.restartFrames)
  }

  func restart() -> Result<Bool, IVKeysError> {
    writer.setBusyTimeout(0)
    defer { writer.setBusyTimeout(SQLiteStore.busyTimeout) }
    let rc = sqlite3_wal_checkpoint_v2(writer.handle, nil, SQLITE_CHECKPOINT_RESTART, nil, nil)
    if rc & 0xff == SQLITE_IOERR { return .failure(.sqlite(writer.error(rc, sql: "PRAGMA wal_checkpoint(RESTART)"))) }
    return .success(rc == SQLITE_OK)
  }

  func finish(walBytes: Int64) {
    var st = stat()
    guard stat(db.path + "-wal", &st) == 0, Int64(st.st_size) > walBytes else { return }
    db.setBusyTimeout(SQLiteStore.busyTimeout)
    _ = sqlite3_wal_checkpoint_v2(db.handle, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
  }
}
