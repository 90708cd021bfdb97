/// The `keys` table (with each key's usage totals from `key_usage`).
extension PGStore {
  /// A key's effective status as of `$1`: `SQLiteStore.effectiveStatusSQL` (which states
  /// `KeyPolicy.effectiveStatus`) in PostgreSQL's words; a test runs both over the same keys.
  static let effectiveStatusSQL = """
    CASE WHEN k.status IN ('revoked', 'expired') THEN k.status
    WHEN k.status IN ('rotating', 'suspended') AND k.grace_until IS NOT NULL AND k.grace_until <= $1::bigint THEN 'revoked'
    WHEN k.status = 'suspended' THEN k.status
    WHEN k.expires_at IS NOT NULL AND k.expires_at <= $1::bigint THEN 'expired'
    ELSE k.status END
    """

  /// A column of `KeyColumn`'s order: the key's own, its usage, or its effective status.
  static func sql(_ c: KeyColumn) -> String {
    switch c {
    case .requestCount: return "coalesce(u.request_count, 0)"
    case .errorCount: return "coalesce(u.error_count, 0)"
    case .lastUsedAt: return "u.last_used_at"
    case .lastIP: return "u.last_ip"
    case .effectiveStatus: return effectiveStatusSQL
    default: return "k." + c.sql
    }
  }

  static let keySelect =
    "SELECT \(KeyColumn.allCases.map(sql).joined(separator: ", ")) FROM keys k LEFT JOIN key_usage u ON u.key_id = k.id"

  static let keyInsert = PGConnection.Insert(
    table: "keys",
    columns: [
      ("id", "text"), ("env", "text"), ("type", "text"), ("company", "text"), ("linked_companies", "text"),
      ("name", "text"), ("digest", "bytea"), ("scopes", "text"), ("allowed_ips", "text"), ("expires_at", "bigint"),
      ("rate_limit", "text"), ("metadata", "text"), ("tags", "text"), ("contact", "text"), ("status", "text"),
      ("created_at", "bigint"), ("created_by", "text"), ("rotated_from", "text"), ("secret_version", "bigint"),
      ("seal", "bytea"),
    ], suffix: "")

  /// Queued, like an audit entry; sealed from the values it is inserted with.
  func insertKey(_ k: NewKeyRow) throws(IVKeysError) {
    let sealer = try requireSealer()
    try queue(
      Self.keyInsert,
      [
        k.id, k.env.rawValue, k.type.rawValue, k.company, k.linkedCompaniesJSON, k.name, PG.bytea(k.digest),
        k.scopesJSON, k.allowedIPsJSON, PG.int(k.expiresAt), k.rateLimit, k.metadataJSON, k.tagsJSON, k.contact,
        KeyStatus.active.rawValue, PG.int(k.createdAt), k.createdBy, k.rotatedFrom, PG.int(Int64(k.secretVersion)),
        PG.bytea(SQLiteStore.newKeySeal(k, sealer)),
      ], what: "new keys were not written (a trigger on the keys table swallowed them)")
  }

  /// Whether a row selected with `keySelect` matches its seal.
  static func keyRowIntact(_ row: PGRow, _ sealer: RowSealer) -> Bool {
    var m = SealMessage(table: SealedTable.keys.rawValue, primaryKey: row.text(KeyColumn.id.rawValue))
    for (c, kind) in zip(SealedKeyColumn.allCases.dropFirst().dropLast(), sealed(.keys).kinds) {
      append(&m, row, KeyColumn(c).rawValue, kind)
    }
    return sealer.verify(m, row.optionalBlob(KeyColumn.seal.rawValue))
  }

  /// Records from a query, each checked against its seal when the secret is at hand.
  private func records(_ result: PGResult) -> [KeyRecord] {
    result.rows.map { row in
      var r = KeyRecord(columns: row)
      if let sealer, !Self.keyRowIntact(row, sealer) { r.markDamaged() }
      return r
    }
  }

  func keys(idPrefix prefix: String, now: Timestamp, limit: Int) throws(IVKeysError) -> [KeyRecord] {
    // `{` follows `z`, the last base62 digit: every id starting with the prefix sorts below it.
    let result = try pg { () throws(PGConnection.Failure) in
      try db.query(
        Self.keySelect + " WHERE k.id >= $2 AND k.id < $3 ORDER BY k.id LIMIT $4::bigint",
        [PG.int(now), prefix, prefix + "{", PG.int(limit)])
    }
    return records(result)
  }

  func forEachKey(
    _ query: KeyQuery, now: Timestamp, _ body: (KeyRecord) throws(IVKeysError) -> Void
  ) throws(IVKeysError) {
    var values: [String?] = [PG.int(now)]
    let clauses = query.conditions.map { Self.clause($0, &values) }
    let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
    let sql = Self.keySelect + whereSQL + " ORDER BY " + Self.orderSQL(query.order)
    // A cursor: a listing of 100,000 keys is read 2,000 rows at a time, on one snapshot.
    try forEachBatch(sql, values) { batch throws(IVKeysError) in for r in records(batch) { try body(r) } }
  }

  /// The SQL of one condition; its values are appended to `values` and named by number. `$1` is
  /// the current time. Only fixed text from here is interpolated, never a value.
  static func clause(_ c: KeyQuery.Condition, _ values: inout [String?]) -> String {
    func param(_ v: String?) -> String {
      values.append(v)
      return "$\(values.count)"
    }
    func int(_ v: Int64) -> String { param(String(v)) + "::bigint" }
    func statuses(_ list: [KeyStatus]) -> String { list.map { param($0.rawValue) }.joined(separator: ", ") }
    switch c {
    case .servesCompany(let company):
      let p = param(company)
      return "(k.company = \(p) OR k.linked_companies::jsonb ? \(p))"
    case .ownedBy(let company): return "k.company = \(param(company))"
    case .env(let e): return "k.env = \(param(e.rawValue))"
    case .type(let t): return "k.type = \(param(t.rawValue))"
    case .tag(let t): return "k.tags::jsonb ? \(param(t))"
    case .grantsScope(let s):
      let exact = param(s)
      var wildcard = "'*'"
      if let colon = s.firstIndex(of: ":") { wildcard = param(s[..<colon] + ":*") }
      return "k.scopes::jsonb ?| ARRAY[\(exact), \(wildcard), '*']::text[]"
    case .effectiveStatus(let list): return "(\(effectiveStatusSQL)) IN (\(statuses(list)))"
    case .effectiveStatusIsNot(let s): return "(\(effectiveStatusSQL)) <> \(param(s.rawValue))"
    case .storedStatus(let list): return "k.status IN (\(statuses(list)))"
    case .effectiveStatusDiffersFromStored: return "(\(effectiveStatusSQL)) <> k.status"
    case .expiresAfter(let t): return "k.expires_at IS NOT NULL AND k.expires_at > \(int(t))"
    case .expiresBy(let t): return "k.expires_at IS NOT NULL AND k.expires_at <= \(int(t))"
    case .createdBy(let t): return "k.created_at <= \(int(t))"
    case .secretVersionBelow(let v): return "k.secret_version < \(int(Int64(v)))"
    case .lastActivityBefore(let t): return "coalesce(u.last_used_at, k.created_at) < \(int(t))"
    }
  }

  /// The ORDER BY list, as SQLite orders: NULL first ascending and last descending, text byte by
  /// byte (the columns are `COLLATE "C"`), ties in creation order.
  static func orderSQL(_ order: KeyQuery.Order) -> String {
    switch order {
    case .creation: return "k.created_seq"
    case .expiry: return "k.expires_at NULLS FIRST, k.created_seq"
    case .sorted(let sort):
      let direction = sort.descending ? " DESC NULLS LAST" : " NULLS FIRST"
      let terms: [String]
      switch sort.field {
      case .id: terms = ["k.id"]
      case .name: terms = ["k.name"]
      case .company: terms = ["k.company"]
      case .env: terms = ["k.env"]
      case .type: terms = ["k.type"]
      case .status: terms = ["(\(effectiveStatusSQL)) COLLATE \"C\""]
      case .createdAt: terms = ["k.created_at"]
      case .expiresAt: terms = ["k.expires_at IS NULL", "k.expires_at"]
      case .lastUsedAt: terms = ["u.last_used_at"]
      case .requestCount: terms = [sql(.requestCount)]
      case .errorCount: terms = [sql(.errorCount)]
      }
      return terms.map { $0 + direction }.joined(separator: ", ") + ", k.created_seq"
    }
  }

  func authKey(id: String) throws(IVKeysError) -> StoredAuthKey? {
    try authKeys(ids: [id])[id]
  }

  var batchesLookups: Bool { true }

  /// One query for all of them.
  func authKeys(ids: Set<String>) throws(IVKeysError) -> [String: StoredAuthKey] {
    let sealer = try requireSealer()
    let sql =
      ids.count == 1
      ? Self.sealedRowSQL(.keys) + Self.primaryKeyCondition(.keys)
      : Self.sealedRowSQL(.keys) + " WHERE k.id = ANY($1::text[])"
    let result = try pg { () throws(PGConnection.Failure) in
      try db.query(sql, [ids.count == 1 ? ids.first! : PG.textArray(Array(ids))])
    }
    var found = [String: StoredAuthKey]()
    for row in result.rows {
      func c(_ column: SealedKeyColumn) -> Int32 { column.rawValue }
      found[row.text(c(.id))] = StoredAuthKey(
        env: row.text(c(.env)), type: row.text(c(.type)), company: row.text(c(.company)),
        linkedCompaniesJSON: row.text(c(.linkedCompanies)), scopesJSON: row.text(c(.scopes)),
        allowedIPsJSON: row.text(c(.allowedIPs)), expiresAt: row.optionalInt(c(.expiresAt)),
        rateLimit: row.optionalText(c(.rateLimit)), status: row.text(c(.status)),
        graceUntil: row.optionalInt(c(.graceUntil)), digest: row.blob(c(.digest)),
        secretVersion: Int(clamping: row.int(c(.secretVersion))), sealIntact: Self.rowIntact(.keys, row, sealer))
    }
    return found
  }

  func keyExists(id: String) throws(IVKeysError) -> Bool {
    try pg { () throws(PGConnection.Failure) in try db.query("SELECT 1 FROM keys WHERE id = $1", [id]).count > 0 }
  }

  func keyCount() throws(IVKeysError) -> Int64 {
    try pg { () throws(PGConnection.Failure) in try db.query("SELECT count(*) FROM keys").first?.int(0) ?? 0 }
  }

  func effectiveStatuses(of ids: Set<String>, now: Timestamp) throws(IVKeysError) -> [String: KeyStatus] {
    guard !ids.isEmpty else { return [:] }
    let list = Array(ids)
    let result = try pg { () throws(PGConnection.Failure) in
      try db.query(
        "SELECT k.id, \(Self.effectiveStatusSQL) FROM keys k WHERE k.id = ANY($2::text[])",
        [PG.int(now), PG.textArray(list)])
    }
    var found = [String: KeyStatus]()
    for row in result.rows { if let s = KeyStatus(rawValue: row.text(1)) { found[row.text(0)] = s } }
    return found
  }

  func updateKey(_ r: KeyRecord) throws(IVKeysError) {
    try requireKeySealed(r.id)
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        """
        UPDATE keys SET name = $1, scopes = $2, allowed_ips = $3, expires_at = $4::bigint, metadata = $5, tags = $6,
          rate_limit = $7, contact = $8, linked_companies = $9, status = $10, status_reason = $11 WHERE id = $12
        """,
        [
          r.name, r.scopesJSON, r.allowedIPsJSON, PG.int(r.expiresAt), r.metadataJSON, r.tagsJSON, r.rateLimit,
          r.contact, r.linkedCompaniesJSON, r.storedStatus.rawValue, r.statusReason, r.id,
        ])
    }
    try resealRow(.keys, r.id)
  }

  func setStatus(id: String, _ status: KeyStatus, reason: String?) throws(IVKeysError) {
    // Revoking needs no intact seal, as on SQLite (`SQLiteStore.setStatus`).
    if status != .revoked { try requireKeySealed(id) }
    try pg { () throws(PGConnection.Failure) in
      try db.query("UPDATE keys SET status = $1, status_reason = $2 WHERE id = $3", [status.rawValue, reason, id])
    }
    try resealRow(.keys, id)
  }

  func markReplaced(
    id: String, replacedBy: String, graceUntil: Timestamp, status: KeyStatus, reason: String
  ) throws(IVKeysError) {
    try requireKeySealed(id)
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        "UPDATE keys SET status = $1, status_reason = $2, replaced_by = $3, grace_until = $4::bigint WHERE id = $5",
        [status.rawValue, reason, replacedBy, PG.int(graceUntil), id])
    }
    try resealRow(.keys, id)
  }

  func clearReplacement(id: String, status: KeyStatus, reason: String?) throws(IVKeysError) {
    try requireKeySealed(id)
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        "UPDATE keys SET status = $1, status_reason = $2, replaced_by = NULL, grace_until = NULL WHERE id = $3",
        [status.rawValue, reason, id])
    }
    try resealRow(.keys, id)
  }
}

extension PG {
  /// A `text[]` literal: each element quoted, `"` and `\` escaped.
  static func textArray(_ items: [String]) -> String {
    "{"
      + items.map { "\"" + $0.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\"" }
      .joined(separator: ",") + "}"
  }
}
