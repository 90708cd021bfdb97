import CSQLite

/// The `keys` table.
extension SQLiteStore {
  /// A key's effective status as of `?1`, in SQL, so `list --status` filters on what `show`
  /// prints. It states `KeyPolicy.effectiveStatus` (a test runs both over the same cases): the
  /// checks run in verify's order: revoked and expired stay, a rotation grace that ended
  /// (rotating, or suspended and rotated) revokes, suspended stays, then expiry.
  static let effectiveStatusSQL = """
    CASE WHEN status IN ('revoked', 'expired') THEN status
    WHEN status IN ('rotating', 'suspended') AND grace_until IS NOT NULL AND grace_until <= ?1 THEN 'revoked'
    WHEN status = 'suspended' THEN status
    WHEN expires_at IS NOT NULL AND expires_at <= ?1 THEN 'expired'
    ELSE status END
    """

  static let insertKeySQL = """
    INSERT INTO keys (id, env, type, company, linked_companies, name, digest, scopes, allowed_ips, expires_at,
      rate_limit, metadata, tags, contact, status, created_at, created_by, rotated_from, secret_version, seal)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?)
    """

  func insertKey(_ k: NewKeyRow) throws(IVKeysError) {
    let sealer = try requireSealer()
    if keyInsert == nil { keyInsert = try db.statement(Self.insertKeySQL) }
    try keyInsert!.run(
      [
        .text(k.id), .text(k.env.rawValue), .text(k.type.rawValue), .text(k.company), .text(k.linkedCompaniesJSON),
        .text(k.name), .blob(k.digest), .text(k.scopesJSON), .text(k.allowedIPsJSON), .optional(k.expiresAt),
        .optional(k.rateLimit), .text(k.metadataJSON), .text(k.tagsJSON), .optional(k.contact), .int(k.createdAt),
        .text(k.createdBy), .optional(k.rotatedFrom), .int(Int64(k.secretVersion)), .blob(Self.newKeySeal(k, sealer)),
      ])
  }

  func keys(idPrefix prefix: String, now: Timestamp, limit: Int) throws(IVKeysError) -> [KeyRecord] {
    // `{` follows `z`, the last base62 digit: every id starting with the prefix sorts below it.
    let sql = "SELECT \(KeyColumn.selectList) FROM keys WHERE id >= ?2 AND id < ?3 ORDER BY id LIMIT ?4"
    var found = [KeyRecord]()
    try db.statement(sql).forEachRow([.int(now), .text(prefix), .text(prefix + "{"), .int(Int64(limit))]) { row in
      found.append(KeyRecord(row: row, sealer: sealer))
    }
    return found
  }

  func forEachKey(
    _ query: KeyQuery, now: Timestamp, _ body: (KeyRecord) throws(IVKeysError) -> Void
  ) throws(IVKeysError) {
    var values: [SQLValue] = [.int(now)]
    let clauses = query.conditions.map { Self.clause($0, &values) }
    let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
    let order = Self.orderSQL(query.order)
    let statement = try db.statement("SELECT \(KeyColumn.selectList) FROM keys\(whereSQL) ORDER BY \(order)")
    try db.readTransaction { () throws(IVKeysError) in
      // One message buffer for the whole listing: each row's seal is checked in it.
      var scratch = SealMessage(table: "", primaryKey: "")
      try statement.forEachRow(values) { row throws(IVKeysError) in
        try body(KeyRecord(row: row, sealer: sealer, scratch: &scratch))
      }
    }
  }

  /// The SQL of one condition; its values are appended to `values` and named by number. `?1` is
  /// the current time. Only fixed text from here is interpolated, never a value.
  static func clause(_ c: KeyQuery.Condition, _ values: inout [SQLValue]) -> String {
    func param(_ v: SQLValue) -> String {
      values.append(v)
      return "?\(values.count)"
    }
    func statuses(_ list: [KeyStatus]) -> String { list.map { param(.text($0.rawValue)) }.joined(separator: ", ") }
    switch c {
    case .servesCompany(let company):
      let p = param(.text(company))
      return "(company = \(p) OR EXISTS (SELECT 1 FROM json_each(keys.linked_companies) WHERE value = \(p)))"
    case .ownedBy(let company): return "company = \(param(.text(company)))"
    case .env(let e): return "env = \(param(.text(e.rawValue)))"
    case .type(let t): return "type = \(param(.text(t.rawValue)))"
    case .tag(let t): return "EXISTS (SELECT 1 FROM json_each(keys.tags) WHERE value = \(param(.text(t))))"
    case .grantsScope(let s):
      let exact = param(.text(s))
      var wildcard = "'*'"
      if let colon = s.firstIndex(of: ":") { wildcard = param(.text(s[..<colon] + ":*")) }
      return "EXISTS (SELECT 1 FROM json_each(keys.scopes) WHERE value IN (\(exact), \(wildcard), '*'))"
    case .effectiveStatus(let list): return "(\(effectiveStatusSQL)) IN (\(statuses(list)))"
    case .effectiveStatusIsNot(let s): return "(\(effectiveStatusSQL)) <> \(param(.text(s.rawValue)))"
    case .storedStatus(let list): return "status IN (\(statuses(list)))"
    case .effectiveStatusDiffersFromStored: return "(\(effectiveStatusSQL)) <> status"
    case .expiresAfter(let t): return "expires_at IS NOT NULL AND expires_at > \(param(.int(t)))"
    case .expiresBy(let t): return "expires_at IS NOT NULL AND expires_at <= \(param(.int(t)))"
    case .createdBy(let t): return "created_at <= \(param(.int(t)))"
    case .secretVersionBelow(let v): return "secret_version < \(param(.int(Int64(v))))"
    case .lastActivityBefore(let t): return "coalesce(last_used_at, created_at) < \(param(.int(t)))"
    }
  }

  /// The ORDER BY list of an order; ties always go in creation order (`rowid`). The sorter holds
  /// what it sorts on disk past its cache, so a sorted listing still streams. SQLite puts NULL
  /// first ascending and last descending: never-used keys lead `last_used_at` as they should,
  /// and `expires_at` sorts keys without an expiry as the latest.
  static func orderSQL(_ order: KeyQuery.Order) -> String {
    switch order {
    case .creation: return "rowid"
    case .expiry: return "expires_at, rowid"
    case .sorted(let sort):
      let direction = sort.descending ? " DESC" : ""
      let terms: [String]
      switch sort.field {
      case .id: terms = ["id"]
      case .name: terms = ["name"]
      case .company: terms = ["company"]
      case .env: terms = ["env"]
      case .type: terms = ["type"]
      case .status: terms = ["(\(effectiveStatusSQL))"]
      case .createdAt: terms = ["created_at"]
      case .expiresAt: terms = ["expires_at IS NULL", "expires_at"]
      case .lastUsedAt: terms = ["last_used_at"]
      case .requestCount: terms = ["request_count"]
      case .errorCount: terms = ["error_count"]
      }
      return terms.map { $0 + direction }.joined(separator: ", ") + ", rowid"
    }
  }

  func authKey(id: String) throws(IVKeysError) -> StoredAuthKey? {
    let sealer = try requireSealer()
    return try db.statement(Self.sealedKeySQL).first([.text(id)]) { row -> StoredAuthKey in
      // A version outside Int's range is no version the file holds: the digest then matches nothing.
      let version = row.int(SealedKeyColumn.secretVersion)
      return StoredAuthKey(
        env: row.text(SealedKeyColumn.env), type: row.text(SealedKeyColumn.type),
        company: row.text(SealedKeyColumn.company), linkedCompaniesJSON: row.text(SealedKeyColumn.linkedCompanies),
        scopesJSON: row.text(SealedKeyColumn.scopes), allowedIPsJSON: row.text(SealedKeyColumn.allowedIPs),
        expiresAt: row.optionalInt(SealedKeyColumn.expiresAt), rateLimit: row.optionalText(SealedKeyColumn.rateLimit),
        status: row.text(SealedKeyColumn.status), graceUntil: row.optionalInt(SealedKeyColumn.graceUntil),
        digest: row.blob(SealedKeyColumn.digest), secretVersion: Int(clamping: version),
        sealIntact: sealer.verify(Self.keySealMessage(row), row.optionalBlob(SealedKeyColumn.seal)))
    }
  }

  /// A point lookup costs SQLite no round trip: one at a time is as cheap.
  var batchesLookups: Bool { false }

  func authKeys(ids: Set<String>) throws(IVKeysError) -> [String: StoredAuthKey] {
    var found = [String: StoredAuthKey]()
    for id in ids { if let k = try authKey(id: id) { found[id] = k } }
    return found
  }

  func keyExists(id: String) throws(IVKeysError) -> Bool {
    try db.scalarInt("SELECT 1 FROM keys WHERE id = ?", [.text(id)]) != nil
  }

  func keyCount() throws(IVKeysError) -> Int64 { try db.scalarInt("SELECT count(*) FROM keys") ?? 0 }

  func effectiveStatuses(of ids: Set<String>, now: Timestamp) throws(IVKeysError) -> [String: KeyStatus] {
    let statement = try db.statement("SELECT \(Self.effectiveStatusSQL) FROM keys WHERE id = ?2")
    var found = [String: KeyStatus]()
    try db.readTransaction { () throws(IVKeysError) in
      for id in ids {
        let status = try statement.first([.int(now), .text(id)]) { row in KeyStatus(rawValue: row.text(0)) }
        if let status = status ?? nil { found[id] = status }
      }
    }
    return found
  }

  func updateKey(_ r: KeyRecord) throws(IVKeysError) {
    try requireKeySealed(r.id)
    try db.run(
      """
      UPDATE keys SET name = ?, scopes = ?, allowed_ips = ?, expires_at = ?, metadata = ?, tags = ?,
        rate_limit = ?, contact = ?, linked_companies = ?, status = ?, status_reason = ? WHERE id = ?
      """,
      [
        .text(r.name), .text(r.scopesJSON), .text(r.allowedIPsJSON), .optional(r.expiresAt), .text(r.metadataJSON),
        .text(r.tagsJSON), .optional(r.rateLimit), .optional(r.contact), .text(r.linkedCompaniesJSON),
        .text(r.storedStatus.rawValue), .optional(r.statusReason), .text(r.id),
      ])
    try resealKey(r.id)
  }

  func setStatus(id: String, _ status: KeyStatus, reason: String?) throws(IVKeysError) {
    // Revoking is final and narrows access: it is how a damaged key is put out of use, so it
    // needs no intact seal (the other columns no longer matter once it is revoked).
    if status != .revoked { try requireKeySealed(id) }
    try db.run(
      "UPDATE keys SET status = ?, status_reason = ? WHERE id = ?",
      [.text(status.rawValue), .optional(reason), .text(id)])
    try resealKey(id)
  }

  func markReplaced(
    id: String, replacedBy: String, graceUntil: Timestamp, status: KeyStatus, reason: String
  ) throws(IVKeysError) {
    try requireKeySealed(id)
    try db.run(
      "UPDATE keys SET status = ?, status_reason = ?, replaced_by = ?, grace_until = ? WHERE id = ?",
      [.text(status.rawValue), .text(reason), .text(replacedBy), .int(graceUntil), .text(id)])
    try resealKey(id)
  }

  func clearReplacement(id: String, status: KeyStatus, reason: String?) throws(IVKeysError) {
    try requireKeySealed(id)
    try db.run(
      "UPDATE keys SET status = ?, status_reason = ?, replaced_by = NULL, grace_until = NULL WHERE id = ?",
      [.text(status.rawValue), .optional(reason), .text(id)])
    try resealKey(id)
  }
}

extension KeyRecord {
  /// The record in a row selected with `KeyColumn.selectList`. A stored value outside its
  /// enum (only a hand-edited vault has one) reads as the most restrictive choice. With a
  /// sealer, a row that does not match its seal is marked `damaged`.
  init(row: Row, sealer: RowSealer?) {
    var scratch = SealMessage(table: "", primaryKey: "")
    self.init(row: row, sealer: sealer, scratch: &scratch)
  }

  /// The same, building the seal message in `scratch`.
  init(row: Row, sealer: RowSealer?, scratch: inout SealMessage) {
    self.init(columns: row)
    if let sealer {
      SQLiteStore.keySealMessage(row, into: &scratch) { KeyColumn($0).rawValue }
      let p = sqlite3_column_blob(row.handle, KeyColumn.seal.rawValue)
      let n = Int(sqlite3_column_bytes(row.handle, KeyColumn.seal.rawValue))
      if !sealer.verify(scratch, stored: UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : n)) { markDamaged() }
    }
  }

  /// The fields of a row selected with `KeyColumn`'s order, on either engine; no seal checked.
  init<R: StoredRow>(columns row: R) {
    id = row.text(KeyColumn.id.rawValue)
    env = KeyEnvironment(rawValue: row.text(KeyColumn.env.rawValue)) ?? .live
    type = KeyType(rawValue: row.text(KeyColumn.type.rawValue)) ?? .regular
    company = row.text(KeyColumn.company.rawValue)
    linkedCompaniesJSON = row.text(KeyColumn.linkedCompanies.rawValue)
    name = row.text(KeyColumn.name.rawValue)
    scopesJSON = row.text(KeyColumn.scopes.rawValue)
    allowedIPsJSON = row.text(KeyColumn.allowedIPs.rawValue)
    expiresAt = row.optionalInt(KeyColumn.expiresAt.rawValue)
    rateLimit = row.optionalText(KeyColumn.rateLimit.rawValue)
    metadataJSON = row.text(KeyColumn.metadata.rawValue)
    tagsJSON = row.text(KeyColumn.tags.rawValue)
    contact = row.optionalText(KeyColumn.contact.rawValue)
    storedStatus = KeyStatus(rawValue: row.text(KeyColumn.status.rawValue)) ?? .revoked
    statusReason = row.optionalText(KeyColumn.statusReason.rawValue)
    createdAt = row.int(KeyColumn.createdAt.rawValue)
    createdBy = row.text(KeyColumn.createdBy.rawValue)
    rotatedFrom = row.optionalText(KeyColumn.rotatedFrom.rawValue)
    replacedBy = row.optionalText(KeyColumn.replacedBy.rawValue)
    graceUntil = row.optionalInt(KeyColumn.graceUntil.rawValue)
    lastUsedAt = row.optionalInt(KeyColumn.lastUsedAt.rawValue)
    requestCount = row.int(KeyColumn.requestCount.rawValue)
    errorCount = row.int(KeyColumn.errorCount.rawValue)
    lastIP = row.optionalText(KeyColumn.lastIP.rawValue)
    secretVersion = Int(clamping: row.int(KeyColumn.secretVersion.rawValue))
    status = KeyStatus(rawValue: row.text(KeyColumn.effectiveStatus.rawValue)) ?? storedStatus
    if status != storedStatus {
      if status == .expired { statusReason = "expired at \(Time.rfc3339(expiresAt ?? 0))" }
      if status == .revoked { statusReason = "rotation grace ended" }
    }
  }

  /// Marks a record whose row does not match its seal.
  mutating func markDamaged() {
    damaged = true
    statusReason = "changed outside ivkeys: the row does not match its seal"
  }
}
