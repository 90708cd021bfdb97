/// Reading the `audit` table (the append is in `SQLiteStore.swift`, beside the tail it follows).
extension SQLiteStore {
  /// An entry straight from SQLite's column bytes: the chain is recomputed without a copy.
  struct AuditRowView: StoredAuditEntry {
    let row: Row

    var seq: Int64 { row.int(AuditColumn.seq) }

    func withField<R>(_ field: AuditField, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
      let column = AuditColumn(field)
      if row.isNull(column) { return body(nil) }
      return row.withText(column) { body($0) }
    }

    func withPrevHash<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R { row.withText(AuditColumn.prevHash, body) }
    func withHash<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R { row.withText(AuditColumn.hash, body) }
  }

  func walkAudit(_ body: (any StoredAuditEntry) throws(IVKeysError) -> Bool) throws(IVKeysError) {
    let statement = try db.statement("SELECT \(AuditColumn.selectList) FROM audit ORDER BY seq")
    try statement.bind([])
    defer { statement.reset() }
    while try statement.step() {
      guard try body(AuditRowView(row: Row(handle: statement.handle))) else { return }
    }
  }

  func auditEntries(_ filter: AuditFilter, _ body: (AuditRecord) throws(IVKeysError) -> Void) throws(IVKeysError) {
    var clauses = [String]()
    var values = [SQLValue]()
    if let k = filter.keyID {
      clauses.append("key_id = ?")
      values.append(.text(k))
    }
    if let c = filter.company {
      clauses.append("company = ?")
      values.append(.text(c))
    }
    if let a = filter.actor {
      // The OS user, the person behind sudo, or a claimed name: any of the names an entry carries.
      clauses.append("(actor = ? OR os_user = ? OR instr(actor, ?) > 0 OR instr(actor, ?) > 0)")
      values += [.text(a), .text(a), .text("(sudo \(a))"), .text("(claims \(a))")]
    }
    if let s = filter.since {
      clauses.append("at >= ?")
      values.append(.text(Time.rfc3339(s)))
    }
    if let u = filter.until {
      clauses.append("at <= ?")
      values.append(.text(Time.rfc3339(u)))
    }
    if !filter.events.isEmpty {
      var any = [String]()
      for e in filter.events {
        if e == "*" {
          any.append("1")
        } else if e.hasSuffix(".*") {
          any.append("substr(event, 1, ?) = ?")
          values.append(.int(Int64(e.utf8.count - 1)))
          values.append(.text(String(e.dropLast())))
        } else {
          any.append("event = ?")
          values.append(.text(e))
        }
      }
      clauses.append("(" + any.joined(separator: " OR ") + ")")
    }
    let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
    let columns = AuditColumn.selectList
    var sql = "SELECT \(columns) FROM audit\(whereSQL) ORDER BY seq"
    if let limit = filter.limit {
      sql = "SELECT * FROM (SELECT \(columns) FROM audit\(whereSQL) ORDER BY seq DESC LIMIT ?) ORDER BY seq"
      values.append(.int(Int64(limit)))
    }
    let statement = try db.statement(sql)
    try db.readTransaction { () throws(IVKeysError) in
      try statement.forEachRow(values) { row throws(IVKeysError) in
        try body(
          AuditRecord(
            seq: row.int(AuditColumn.seq), at: row.text(AuditColumn.at), event: row.text(AuditColumn.event),
            actor: row.text(AuditColumn.actor), osUser: row.text(AuditColumn.osUser),
            keyID: row.optionalText(AuditColumn.keyID), company: row.optionalText(AuditColumn.company),
            ip: row.optionalText(AuditColumn.ip), detail: row.text(AuditColumn.detail),
            prevHash: row.text(AuditColumn.prevHash), hash: row.text(AuditColumn.hash)))
      }
    }
  }

  func firstAuditEntry() throws(IVKeysError) -> AuditRow? {
    try db.statement("SELECT \(AuditColumn.selectList) FROM audit ORDER BY seq LIMIT 1").first { row in
      AuditRow(
        seq: row.int(AuditColumn.seq), at: row.text(AuditColumn.at), event: row.text(AuditColumn.event),
        actor: row.text(AuditColumn.actor), osUser: row.text(AuditColumn.osUser),
        keyID: row.optionalText(AuditColumn.keyID), company: row.optionalText(AuditColumn.company),
        ip: row.optionalText(AuditColumn.ip), detail: row.text(AuditColumn.detail),
        prevHash: row.text(AuditColumn.prevHash), hash: row.text(AuditColumn.hash))
    }
  }

  func auditHasEvent(_ event: String) throws(IVKeysError) -> Bool {
    try db.scalarInt("SELECT 1 FROM audit WHERE event = ? LIMIT 1", [.text(event)]) != nil
  }
}
