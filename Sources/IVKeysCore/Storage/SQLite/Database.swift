import CSQLite
import Glibc

/// A connection to a vault file with a statement cache.
final class Database {
  let handle: OpaquePointer
  /// The busy handler's state, kept as long as the handler is installed.
  private var busyWait: BusyWait?
  private var cache: [String: Statement] = [:]
  let path: String

  /// Opens `path`. `create` allows SQLite to create the file.
  init(path: String, create: Bool = false, readOnly: Bool = false) throws(IVKeysError) {
    var db: OpaquePointer?
    var flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
    if create { flags |= SQLITE_OPEN_CREATE }
    flags |= SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
    let rc = sqlite3_open_v2(path, &db, flags, nil)
    guard rc == SQLITE_OK, let db else {
      let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
      let code = db.map { sqlite3_extended_errcode($0) } ?? rc
      sqlite3_close_v2(db)
      throw .sqlite(SQLiteError(code: code, message: message, sql: nil))
    }
    self.handle = db
    self.path = path
  }

  deinit {
    // "Applications should finalize all prepared statements ... prior to attempting to close."
    cache.removeAll()
    sqlite3_close_v2(handle)
  }

  func error(_ rc: Int32, sql: String?) -> SQLiteError {
    let code = sqlite3_extended_errcode(handle)
    return SQLiteError(code: code == 0 ? rc : code, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
  }

  /// A cached prepared statement for `sql`.
  func statement(_ sql: String) throws(IVKeysError) -> Statement {
    if let s = cache[sql] { return s }
    let s = try Statement(database: self, sql: sql)
    cache[sql] = s
    return s
  }

  /// Runs one or more statements without parameters (DDL, pragmas).
  func execute(_ sql: String) throws(IVKeysError) {
    var message: UnsafeMutablePointer<CChar>?
    let rc = sqlite3_exec(handle, sql, nil, nil, &message)
    if rc != SQLITE_OK {
      let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
      sqlite3_free(message)
      throw .sqlite(SQLiteError(code: sqlite3_extended_errcode(handle), message: text, sql: sql))
    }
  }

  /// Runs `sql` with `values`.
  func run(_ sql: String, _ values: [SQLValue] = []) throws(IVKeysError) {
    try statement(sql).run(values)
  }

  /// The first column of the first row as an integer, or nil.
  func scalarInt(_ sql: String, _ values: [SQLValue] = []) throws(IVKeysError) -> Int64? {
    try statement(sql).first(values) { row in row.optionalInt(0) } ?? nil
  }

  /// The first column of the first row as text, or nil.
  func scalarText(_ sql: String, _ values: [SQLValue] = []) throws(IVKeysError) -> String? {
    try statement(sql).first(values) { row in row.optionalText(0) } ?? nil
  }

  /// Keeps the WAL as it is when the last connection closes: no checkpoint, no deletion. The
  /// vault's writers checkpoint it themselves once it grows (`SQLiteStore.tidy`).
  func keepWAL() {
    _ = ivkeys_sqlite_persist_wal(handle)
    _ = ivkeys_sqlite_no_checkpoint_on_close(handle)
  }

  /// Sets the busy timeout in milliseconds (0: a locked vault is SQLITE_BUSY at once).
  ///
  /// Not `sqlite3_busy_timeout`: its handler sleeps 1, 2, 5, 10, 15, 20 and 25 ms in turn, so a
  /// lock held for 3 ms keeps the waiter asleep 5 ms more, and one held 9 ms for 9 more. The vault's
  /// transactions last well under a millisecond; this handler looks again every 100 µs for the
  /// first 10 ms, then every millisecond, until the timeout.
  func setBusyTimeout(_ ms: Int32) {
    guard ms > 0 else {
      sqlite3_busy_timeout(handle, 0)
      busyWait = nil
      return
    }
    let wait = BusyWait(milliseconds: Int64(ms))
    // Installed before the old one is released: the handler never points at a freed object.
    sqlite3_busy_handler(
      handle,
      { context, count in
        let wait = Unmanaged<BusyWait>.fromOpaque(context!).takeUnretainedValue()
        return wait.again(first: count == 0) ? 1 : 0
      }, Unmanaged.passUnretained(wait).toOpaque())
    busyWait = wait
  }

  /// Whether the connection is read-only (file permissions or flags).
  var isReadOnly: Bool { sqlite3_db_readonly(handle, "main") == 1 }

  /// Rows changed by the last statement.
  var changes: Int { Int(sqlite3_changes(handle)) }

  /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back on any throw and rethrowing
  /// the first error. IMMEDIATE takes the write lock up front: "a deferred transaction upgraded
  /// to a write can hit a SQLITE_BUSY that no busy timeout cures" (GRDB).
  func writeTransaction<T>(_ body: () throws(IVKeysError) -> T) throws(IVKeysError) -> T {
    try execute("BEGIN IMMEDIATE")
    do {
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      // The first error is the one reported; a failing ROLLBACK (already rolled back) is moot.
      if sqlite3_get_autocommit(handle) == 0 { sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
      throw error
    }
  }

  /// Runs `body` inside a read transaction so every query sees one snapshot.
  func readTransaction<T>(_ body: () throws(IVKeysError) -> T) throws(IVKeysError) -> T {
    // Inside a write transaction already: its snapshot is the one to read.
    guard sqlite3_get_autocommit(handle) != 0 else { return try body() }
    try execute("BEGIN DEFERRED")
    defer { sqlite3_exec(handle, "COMMIT", nil, nil, nil) }
    return try body()
  }
}

/// How long a connection waits for a lock another holds (`Database.setBusyTimeout`).
final class BusyWait {
  private let milliseconds: Int64
  private var started: Int64 = 0

  init(milliseconds: Int64) { self.milliseconds = milliseconds }

  /// Whether to try again, after a sleep; `first`: the first call of this wait.
  func again(first: Bool) -> Bool {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    let us = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    if first { started = us }
    let waited = us - started
    guard waited < milliseconds * 1000 else { return false }
    usleep(waited < 10_000 ? 100 : 1000)
    return true
  }
}
