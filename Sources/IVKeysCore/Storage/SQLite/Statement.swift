import CSQLite

/// A prepared statement. Finalized in `deinit` (GRDB's `Statement` does the same).
final class Statement {
  let handle: OpaquePointer
  let sql: String
  unowned let database: Database
  /// How many parameters the SQL has: "the index of the largest (rightmost) parameter"
  /// (`sqlite3_bind_parameter_count`), so `?1 … ?1` counts once.
  let parameterCount: Int
  /// The bytes of the text and blob parameters of the last `bind`, which SQLite reads in place
  /// (SQLITE_STATIC). With SQLITE_TRANSIENT SQLite copied each one into memory it allocated and
  /// freed it at the next bind: a malloc and a free per text parameter per run (plus a copy of
  /// every small Swift string into a C string, and a strlen). Measured with callgrind: binding
  /// the two INSERTs of a bulk create went from about 26,000 to 8,400 instructions a key.
  /// SQLite: "If the fifth argument is the special value SQLITE_STATIC, then SQLite assumes that
  /// the information is in static, unmanaged space and does not need to be freed." It must stay
  /// valid "until either the prepared statement is finalized or the same SQL parameter is bound
  /// to something else": the arena lives as long as the statement, and only the next `bind`,
  /// which rebinds every parameter before any step, writes over it.
  private var arena: UnsafeMutableRawPointer
  private var arenaCapacity = 256

  init(database: Database, sql: String) throws(IVKeysError) {
    var stmt: OpaquePointer?
    let rc = sqlite3_prepare_v3(database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
    guard rc == SQLITE_OK, let stmt else { throw .sqlite(database.error(rc, sql: sql)) }
    self.handle = stmt
    self.sql = sql
    self.database = database
    self.parameterCount = Int(sqlite3_bind_parameter_count(stmt))
    self.arena = UnsafeMutableRawPointer.allocate(byteCount: arenaCapacity, alignment: 8)
  }

  deinit {
    sqlite3_finalize(handle)
    arena.deallocate()
  }

  /// Resets the statement and binds `values` to parameters 1…n. Every parameter is bound each
  /// time, so earlier bindings are overwritten rather than cleared: a count that differs from the
  /// statement's parameters is refused (SQLite would bind NULL to a missing one, silently).
  func bind(_ values: [SQLValue]) throws(IVKeysError) {
    guard values.count == parameterCount else {
      throw .sqlite(
        SQLiteError(
          code: SQLITE_RANGE,
          message: "\(values.count) values given for \(parameterCount) parameters", sql: sql))
    }
    sqlite3_reset(handle)
    var needed = 0
    for v in values {
      switch v {
      case .null, .int: break
      case .text(let s): needed += s.utf8.count
      case .blob(let b): needed += b.count
      }
    }
    if needed > arenaCapacity {
      // Nothing reads the old arena any more: the statement is reset and every parameter is
      // bound again below, before the next step.
      arena.deallocate()
      arenaCapacity = Swift.max(needed, 2 * arenaCapacity)
      arena = UnsafeMutableRawPointer.allocate(byteCount: arenaCapacity, alignment: 8)
    }
    var offset = 0
    for (i, v) in values.enumerated() {
      let index = Int32(i + 1)
      let rc: Int32
      switch v {
      case .null: rc = sqlite3_bind_null(handle, index)
      case .int(let x): rc = sqlite3_bind_int64(handle, index, x)
      case .text(var s):
        let at = arena + offset
        let n = s.withUTF8 { bytes in
          if let base = bytes.baseAddress { at.copyMemory(from: base, byteCount: bytes.count) }
          return bytes.count
        }
        offset += n
        // A zero-length text still has an address in the arena, so it binds '' and not NULL.
        rc = sqlite3_bind_text(handle, index, at.assumingMemoryBound(to: CChar.self), Int32(n), nil)
      case .blob(let b):
        let at = arena + offset
        b.withUnsafeBytes { if let base = $0.baseAddress { at.copyMemory(from: base, byteCount: $0.count) } }
        offset += b.count
        // Likewise an empty blob binds a zero-length blob, not NULL.
        rc = sqlite3_bind_blob(handle, index, at, Int32(b.count), nil)
      }
      guard rc == SQLITE_OK else { throw .sqlite(database.error(rc, sql: sql)) }
    }
  }

  /// Resets the statement so it can run again (bindings stay).
  func reset() { sqlite3_reset(handle) }

  /// Steps once: true when a row is available.
  func step() throws(IVKeysError) -> Bool {
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
  func run(_ values: [SQLValue] = []) throws(IVKeysError) {
    try bind(values)
    _ = try step()
    sqlite3_reset(handle)
  }

  /// Calls `body` for each row.
  func forEachRow(_ values: [SQLValue] = [], _ body: (Row) throws(IVKeysError) -> Void) throws(IVKeysError) {
    try bind(values)
    defer { sqlite3_reset(handle) }
    while try step() { try body(Row(handle: handle)) }
  }

  /// The first row mapped by `body`, or nil.
  func first<T>(_ values: [SQLValue] = [], _ body: (Row) throws(IVKeysError) -> T) throws(IVKeysError) -> T? {
    try bind(values)
    defer { sqlite3_reset(handle) }
    return try step() ? try body(Row(handle: handle)) : nil
  }
}
