/// Whole tables, for `vault copy` (`VaultTables`). A key's usage columns are read from and
/// written to `key_usage`.
extension PGStore {
  static let keyUsageColumns: Set<String> = ["request_count", "error_count", "last_used_at", "last_ip"]

  /// A column of `table` in a SELECT (keys joined with their usage).
  private static func select(_ table: VaultTables.Table, _ column: String) -> String {
    guard table.name == "keys" else { return "\"\(column)\"" }
    switch column {
    case "request_count", "error_count": return "coalesce(u.\(column), 0)"
    case "last_used_at", "last_ip": return "u.\(column)"
    default: return "k.\"\(column)\""
    }
  }

  func exportRows(_ table: VaultTables.Table, _ body: ([SealValue]) throws(IVKeysError) -> Void) throws(IVKeysError) {
    let columns = table.columns.map { Self.select(table, $0.name) }.joined(separator: ", ")
    let sql =
      table.name == "keys"
      ? "SELECT \(columns) FROM keys k LEFT JOIN key_usage u ON u.key_id = k.id ORDER BY k.created_seq"
      : "SELECT \(columns) FROM \(table.name) ORDER BY 1"
    try forEachRow(sql, []) { row throws(IVKeysError) in
      var values = [SealValue]()
      values.reserveCapacity(table.columns.count)
      for (i, c) in table.columns.enumerated() {
        let index = Int32(i)
        if row.isNull(index) {
          values.append(.null)
          continue
        }
        switch c.kind {
        case .text: values.append(.text(row.text(index)))
        case .int: values.append(.int(row.int(index)))
        case .blob: values.append(.blob(row.blob(index)))
        }
      }
      try body(values)
    }
  }

  func importRows(_ table: VaultTables.Table, _ rows: [[SealValue]]) throws(IVKeysError) {
    var own = [(offset: Int, element: (name: String, kind: VaultTables.Kind))]()
    var usage = [(offset: Int, element: (name: String, kind: VaultTables.Kind))]()
    for c in table.columns.enumerated() {
      if table.name == "keys" && Self.keyUsageColumns.contains(c.element.name) {
        usage.append(c)
      } else {
        own.append(c)
      }
    }
    let suffix =
      table.name == "meta" ? "ON CONFLICT (name) DO UPDATE SET value = excluded.value, seal = excluded.seal" : ""
    let insert = PGConnection.Insert(
      table: table.name, columns: own.map { ("\"\($0.element.name)\"", Self.type($0.element.kind)) }, suffix: suffix)
    let usageInsert = PGConnection.Insert(
      table: "key_usage",
      columns: [("key_id", "text")] + usage.map { ($0.element.name, Self.type($0.element.kind)) }, suffix: "")
    for row in rows {
      try queue(
        insert, own.map { Self.parameter(row[$0.offset]) }, what: "rows of \(table.name) were not copied")
      guard !usage.isEmpty, let id = own.first.map({ Self.parameter(row[$0.offset]) }) else { continue }
      try queue(
        usageInsert, [id] + usage.map { Self.parameter(row[$0.offset]) }, what: "usage of keys was not copied")
    }
    try pg { () throws(PGConnection.Failure) in try db.flush() }
  }

  static func type(_ kind: VaultTables.Kind) -> String {
    switch kind {
    case .text: return "text"
    case .int: return "bigint"
    case .blob: return "bytea"
    }
  }

  static func parameter(_ v: SealValue) -> String? {
    switch v {
    case .null: return nil
    case .int(let i): return String(i)
    case .text(let t): return t
    case .blob(let b): return PG.bytea(b)
    // A float in an integer column is only in a hand-edited SQLite row: the copy refuses it.
    case .real(let d): return String(d)
    }
  }

  func rowCount(_ table: VaultTables.Table) throws(IVKeysError) -> Int64 {
    try pg { () throws(PGConnection.Failure) in try db.query("SELECT count(*) FROM \(table.name)").first?.int(0) ?? 0 }
  }
}
