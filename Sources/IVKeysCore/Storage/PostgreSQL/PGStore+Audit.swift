/// Reading the `audit` table (the append is in `PGStore.swift`).
extension PGStore {
  /// An entry of a fetched batch.
  struct AuditRowView: StoredAuditEntry {
    let row: PGRow

    var seq: Int64 { row.int(AuditColumn.seq.rawValue) }

    func withField<R>(_ field: AuditField, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
      let column = AuditColumn(field).rawValue
      if row.isNull(column) { return body(nil) }
      return row.withBytes(column) { body($0) }
    }

    func withPrevHash<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
      row.withBytes(AuditColumn.prevHash.rawValue, body)
    }
    func withHash<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R { row.withBytes(AuditColumn.hash.rawValue, body) }
  }

  func walkAudit(_ body: (any StoredAuditEntry) throws(IVKeysError) -> Bool) throws(IVKeysError) {
    var done = false
    try forEachBatch("SELECT \(AuditColumn.selectList) FROM audit ORDER BY seq", []) { batch throws(IVKeysError) in
      for row in batch.rows where !done {
        if try !body(AuditRowView(row: row)) { done = true }
      }
    }
  }

  static func auditRow(_ row: PGRow) -> AuditRow {
    func c(_ column: AuditColumn) -> Int32 { column.rawValue }
    return AuditRow(
      seq: row.int(c(.seq)), at: row.text(c(.at)), event: row.text(c(.event)), actor: row.text(c(.actor)),
      osUser: row.text(c(.osUser)), keyID: row.optionalText(c(.keyID)), company: row.optionalText(c(.company)),
      ip: row.optionalText(c(.ip)), detail: row.text(c(.detail)), prevHash: row.text(c(.prevHash)),
      hash: row.text(c(.hash)))
  }

  func auditEntries(_ filter: AuditFilter, _ body: (AuditRecord) throws(IVKeysError) -> Void) throws(IVKeysError) {
    var clauses = [String]()
    var values = [String?]()
    func param(_ v: String) -> String {
      values.append(v)
      return "$\(values.count)"
    }
    if let k = filter.keyID { clauses.append("key_id = \(param(k))") }
    if let c = filter.company { clauses.append("company = \(param(c))") }
    if let a = filter.actor {
      // The OS user, the person behind sudo, or a claimed name: any of the names an entry carries.
      let p = param(a)
      clauses.append(
        "(actor = \(p) OR os_user = \(p) OR strpos(actor, \(param("(sudo \(a))"))) > 0 OR strpos(actor, \(param("(claims \(a))"))) > 0)"
      )
    }
    if let s = filter.since { clauses.append("at >= \(param(Time.rfc3339(s)))") }
    if let u = filter.until { clauses.append("at <= \(param(Time.rfc3339(u)))") }
    if !filter.events.isEmpty {
      var any = [String]()
      for e in filter.events {
        if e == "*" {
          any.append("true")
        } else if e.hasSuffix(".*") {
          any.append("starts_with(event, \(param(String(e.dropLast()))))")
        } else {
          any.append("event = \(param(e))")
        }
      }
      clauses.append("(" + any.joined(separator: " OR ") + ")")
    }
    let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
    let columns = AuditColumn.selectList
    var sql = "SELECT \(columns) FROM audit\(whereSQL) ORDER BY seq"
    if let limit = filter.limit {
      sql =
        "SELECT * FROM (SELECT \(columns) FROM audit\(whereSQL) ORDER BY seq DESC LIMIT \(param(String(limit)))::bigint) a ORDER BY seq"
    }
    try forEachBatch(sql, values) { batch throws(IVKeysError) in
      for row in batch.rows {
        let r = Self.auditRow(row)
        try body(
          AuditRecord(
            seq: r.seq, at: r.at, event: r.event, actor: r.actor, osUser: r.osUser, keyID: r.keyID, company: r.company,
            ip: r.ip, detail: r.detail, prevHash: r.prevHash, hash: r.hash))
      }
    }
  }

  func firstAuditEntry() throws(IVKeysError) -> AuditRow? {
    try pg { () throws(PGConnection.Failure) in
      try db.query("SELECT \(AuditColumn.selectList) FROM audit ORDER BY seq LIMIT 1").first.map(Self.auditRow)
    }
  }

  func auditHasEvent(_ event: String) throws(IVKeysError) -> Bool {
    try pg { () throws(PGConnection.Failure) in
      try db.query("SELECT 1 FROM audit WHERE event = $1 LIMIT 1", [event]).count > 0
    }
  }
}
