import CSQLite

/// Whole tables, for `vault copy` (`VaultTables`).
extension SQLiteStore {
  func exportRows(_ table: VaultTables.Table, _ body: ([SealValue]) throws(IVKeysError) -> Void) throws(IVKeysError) {
    let columns = table.columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
    // Keys in creation order (rowid), the log by seq; the other tables (some WITHOUT ROWID) by
    // their first column.
    let order = table.name == "keys" ? "rowid" : "1"
    try db.statement("SELECT \(columns) FROM \(table.name) ORDER BY \(order)").forEachRow { row throws(IVKeysError) in
      var values = [SealValue]()
      values.reserveCapacity(table.columns.count)
      for i in 0..<Int32(table.columns.count) {
        switch sqlite3_column_type(row.handle, i) {
        case SQLITE_NULL: values.append(.null)
        case SQLITE_INTEGER: values.append(.int(row.int(i)))
        case SQLITE_FLOAT: values.append(.real(sqlite3_column_double(row.handle, i)))
        case SQLITE_BLOB: values.append(.blob(row.blob(i)))
        default: values.append(.text(row.text(i)))
        }
      }
      try body(values)
    }
  }

  /// Inserts rows as exported; a meta row the migrations made is replaced.
  func importRows(_ table: VaultTables.Table, _ rows: [[SealValue]]) throws(IVKeysError) {
    let columns = table.columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
    let marks = Array(repeating: "?", count: table.columns.count).joined(separator: ", ")
    let verb = table.name == "meta" ? "INSERT OR REPLACE" : "INSERT"
    let insert = try db.statement("\(verb) INTO \(table.name) (\(columns)) VALUES (\(marks))")
    for row in rows {
      try insert.run(
        row.map { v -> SQLValue in
          switch v {
          case .null: return .null
          case .int(let i): return .int(i)
          case .text(let t): return .text(t)
          case .blob(let b): return .blob(b)
          // Only a hand-edited row holds one, in a column whose seal then fails on the copy too.
          case .real(let d): return .text(String(d))
          }
        })
    }
  }

  func grantRoles() throws(IVKeysError) {
    throw .usage(
      "--roles is for a PostgreSQL vault: a SQLite vault's access is its file's mode",
      hint: "name a postgresql:// vault, or leave out --roles")
  }

  func rowCount(_ table: VaultTables.Table) throws(IVKeysError) -> Int64 {
    try db.scalarInt("SELECT count(*) FROM \(table.name)") ?? 0
  }
}
