import CSQLite

/// A prepared statement. Finalized in `deinit` (GRDB's `Statement` does the same).
public final class Statement {
  let handle: OpaquePointer
  let sql: String
  unowned let database: Database
  /// How many parameters the SQL has: "the index of the largest (rightmost) parameter"
  /// (`sqlite3_bind_parameter_count`), so `?1 … ?1` counts once.
  let parameterCount: Int

  init(database: Database, sql: String) throws(IVKeysError) {
    var stmt: OpaquePointer?
    let rc = sqlite3_prepare_v3(database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
    guard rc == SQLITE_OK, let stmt else { throw .sqlite(database.error(rc, sql: sql)) }
    self.handle = stmt
    self.sql = sql
    self.database = database
    self.parameterCount = Int(sqlite3_bind_parameter_count(stmt))
  }

  deinit { sqlite3_finalize(handle) }

  /// Resets the statement and binds `values` to parameters 1…n. Every parameter is bound each
  /// time, so earlier bindings are overwritten rather than cleared: a count that differs from the
  /// statement's parameters is refused (SQLite would bind NULL to a missing one, silently).
  public func bind(_ values: [SQLValue]) throws(IVKeysError) {
    guard values.count == parameterCount else {
      throw .sqlite(
        SQLiteError(
          code: SQLITE_RANGE,
          message: "\(values.count) values given for \(parameterCount) parameters", sql: sql))
    }
    sqlite3_reset(handle)
    for (i, v) in values.enumerated() {
      let index = Int32(i + 1)
      let rc: Int32
      switch v {
      case .null: rc = sqlite3_bind_null(handle, index)
      case let .int(x): rc = sqlite3_bind_int64(handle, index, x)
      case let .text(s): rc = sqlite3_bind_text(handle, index, s, -1, ivkeys_sqlite_transient())
      case let .blob(b):
        rc = b.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), ivkeys_sqlite_transient()) }
      }
      guard rc == SQLITE_OK else { throw .sqlite(database.error(rc, sql: sql)) }
    }
  }

  /// Resets the statement so it can run again (bindings stay).
  public func reset() { sqlite3_reset(handle) }

  /// Steps once: true when a row is available.
  public func step() throws(IVKeysError) -> Bool {
    let rc = sqlite3_step(handle)
    switch rc {
    case SQLITE_ROW: return true
    case SQLITE_DONE: return false
    default:
      let e = database.error(rc, sql: sql)
      sqlite3_reset(handle)
      throw .sqlite(e)
    }
  }

  /// Runs a statement that returns no rows.
  public func run(_ values: [SQLValue] = []) throws(IVKeysError) {
    try bind(values)
    _ = try step()
    sqlite3_reset(handle)
  }

  /// Calls `body` for each row.
  public func forEach(_ values: [SQLValue] = [], _ body: (Row) throws(IVKeysError) -> Void) throws(IVKeysError) {
    try bind(values)
    defer { sqlite3_reset(handle) }
    while try step() { try body(Row(handle: handle)) }
  }

  /// The first row mapped by `body`, or nil.
  public func first<T>(_ values: [SQLValue] = [], _ body: (Row) throws(IVKeysError) -> T) throws(IVKeysError) -> T? {
    try bind(values)
    defer { sqlite3_reset(handle) }
    return try step() ? try body(Row(handle: handle)) : nil
  }
}
