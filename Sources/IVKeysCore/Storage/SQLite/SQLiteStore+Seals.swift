import CSQLite

/// Row seals (see `RowSeal.swift` for what a seal covers); the schema's fingerprint is in
/// `SQLiteStore+Schema.swift`.
extension SQLiteStore {
  // MARK: - Reading a sealed value

  /// Appends a column's stored value to a seal message straight from SQLite's buffer, typed by
  /// its storage class (an integer stored as text does not read as the integer), without a
  /// String or an Array between.
  static func appendSealValue(_ m: inout SealMessage, _ row: Row, _ i: Int32) {
    switch sqlite3_column_type(row.handle, i) {
    case SQLITE_NULL: m.append(.null)
    case SQLITE_INTEGER: m.append(.int(row.int(i)))
    case SQLITE_FLOAT: m.append(.real(sqlite3_column_double(row.handle, i)))
    case SQLITE_BLOB:
      let p = sqlite3_column_blob(row.handle, i)
      let n = Int(sqlite3_column_bytes(row.handle, i))
      m.appendBytes(tag: 4, UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : n))
    default:
      let p = sqlite3_column_text(row.handle, i)
      let n = Int(sqlite3_column_bytes(row.handle, i))
      m.appendBytes(tag: 3, UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : n))
    }
  }

  /// The seal message of a key's row, from the stored values; `column` says where each sealed
  /// column is in the row (`SealedKeyColumn` itself, or `KeyColumn`).
  static func keySealMessage(_ row: Row, _ column: (SealedKeyColumn) -> Int32 = { $0.rawValue }) -> SealMessage {
    var m = SealMessage(table: "", primaryKey: "")
    keySealMessage(row, into: &m, column)
    return m
  }

  /// The same, built in `m` (its buffer kept).
  static func keySealMessage(_ row: Row, into m: inout SealMessage, _ column: (SealedKeyColumn) -> Int32) {
    row.withText(column(.id)) { id in
      m.restart(table: SealedTable.keys.rawValue, primaryKey: UnsafeRawBufferPointer(id))
    }
    for c in SealedKeyColumn.allCases where c != .id && c != .seal { appendSealValue(&m, row, column(c)) }
  }

  /// The sealer, or an error: rows are written only with the secret at hand.
  func requireSealer() throws(IVKeysError) -> RowSealer {
    guard let sealer else {
      throw .secret("changing the vault needs its secret file, and this vault was opened without it")
    }
    return sealer
  }

  // MARK: - Keys

  static let sealedKeySQL = "SELECT \(SealedKeyColumn.selectList) FROM keys WHERE id = ?"

  /// Refuses to change a key whose row no longer matches its seal: a change would seal the
  /// tampering in.
  func requireKeySealed(_ id: String) throws(IVKeysError) {
    let sealer = try requireSealer()
    let intact = try db.statement(Self.sealedKeySQL).first([.text(id)]) { row in
      sealer.verify(Self.keySealMessage(row), row.optionalBlob(SealedKeyColumn.seal))
    }
    if intact == false { throw .tampered("key \(id)'s row does not match its seal") }
  }

  /// Seals a key's row as it now stands, after a change made by ivkeys.
  func resealKey(_ id: String) throws(IVKeysError) {
    let sealer = try requireSealer()
    guard
      let seal = try db.statement(Self.sealedKeySQL).first(
        [.text(id)],
        { row in
          sealer.seal(Self.keySealMessage(row))
        })
    else { return }
    try db.run("UPDATE keys SET seal = ? WHERE id = ?", [.blob(seal), .text(id)])
  }

  /// The seal of a new key's row, from the values it is inserted with, without reading it back:
  /// the columns in `SealedKeyColumn`'s order, each with the storage class its insert binds
  /// (a test checks the row read back matches).
  static func newKeySeal(_ k: NewKeyRow, _ sealer: RowSealer) -> [UInt8] {
    var m = SealMessage(table: SealedTable.keys.rawValue, primaryKey: k.id)
    for c in SealedKeyColumn.allCases where c != .id && c != .seal { m.append(newKeyValue(c, k)) }
    return sealer.seal(m)
  }

  /// A sealed column's value in a new key's row.
  static func newKeyValue(_ c: SealedKeyColumn, _ k: NewKeyRow) -> SealValue {
    func text(_ s: String?) -> SealValue { s.map { .text($0) } ?? .null }
    switch c {
    case .id: return .text(k.id)
    case .env: return .text(k.env.rawValue)
    case .type: return .text(k.type.rawValue)
    case .company: return .text(k.company)
    case .linkedCompanies: return .text(k.linkedCompaniesJSON)
    case .digest: return .blob(k.digest)
    case .scopes: return .text(k.scopesJSON)
    case .allowedIPs: return .text(k.allowedIPsJSON)
    case .expiresAt: return k.expiresAt.map { .int($0) } ?? .null
    case .rateLimit: return text(k.rateLimit)
    case .status: return .text(KeyStatus.active.rawValue)
    case .graceUntil, .replacedBy, .seal: return .null
    case .rotatedFrom: return text(k.rotatedFrom)
    case .secretVersion: return .int(Int64(k.secretVersion))
    }
  }

  // MARK: - Administrators, scopes, meta, secret versions

  /// Whether the row of `table` with this primary key matches its seal; nil when there is none.
  func rowSealIntact(_ table: SealedTable, _ primaryKey: String) throws(IVKeysError) -> Bool? {
    let sealer = try requireSealer()
    let sql = Self.sealedRowSQL(table) + " WHERE \(Self.primaryKeyColumn(table)) = ?"
    return try db.statement(sql).first([.text(primaryKey)]) { row in
      Self.rowIntact(table, row, sealer)
    }
  }

  /// Seals the row of `table` with this primary key as it now stands.
  func resealRow(_ table: SealedTable, _ primaryKey: String) throws(IVKeysError) {
    if table == .keys { return try resealKey(primaryKey) }
    let sealer = try requireSealer()
    let sql = Self.sealedRowSQL(table) + " WHERE \(Self.primaryKeyColumn(table)) = ?"
    guard
      let seal = try db.statement(sql).first(
        [.text(primaryKey)],
        { row in
          sealer.seal(Self.rowMessage(table, row))
        })
    else { return }
    try db.run(
      "UPDATE \(table.rawValue) SET seal = ? WHERE \(Self.primaryKeyColumn(table)) = ?",
      [.blob(seal), .text(primaryKey)])
  }

  /// A table's sealed columns, the one definition of what its seal covers: the primary key (as
  /// text) first, then `sealedValueCount` values, then the seal. A reader may select more
  /// columns after these.
  static func sealedColumns(_ table: SealedTable) -> String {
    switch table {
    case .keys: return SealedKeyColumn.selectList
    case .admins: return "user, seal"
    case .scopes: return "name, seal"
    case .meta: return "name, value, seal"
    case .secretVersions: return "CAST(version AS TEXT), fingerprint, retired_at, seal"
    case .workingHours: return "subject, hours, tz, seal"
    }
  }

  /// How many sealed values stand between the primary key and the seal in `sealedColumns`.
  static func sealedValueCount(_ table: SealedTable) -> Int32 {
    switch table {
    case .keys: return Int32(SealedKeyColumn.allCases.count - 2)
    case .admins, .scopes: return 0
    case .meta: return 1
    case .secretVersions, .workingHours: return 2
    }
  }

  /// The SELECT of a table's sealed columns.
  static func sealedRowSQL(_ table: SealedTable) -> String { "SELECT \(sealedColumns(table)) FROM \(table.rawValue)" }

  static func primaryKeyColumn(_ table: SealedTable) -> String {
    switch table {
    case .keys: return "id"
    case .admins: return "user"
    case .scopes: return "name"
    case .meta: return "name"
    case .secretVersions: return "version"
    case .workingHours: return "subject"
    }
  }

  /// The seal message of a row selected starting with `sealedColumns(table)`.
  static func rowMessage(_ table: SealedTable, _ row: Row) -> SealMessage {
    if table == .keys { return keySealMessage(row) }
    var m = SealMessage(table: table.rawValue, primaryKey: row.text(0))
    var i: Int32 = 1
    while i <= sealedValueCount(table) {
      appendSealValue(&m, row, i)
      i += 1
    }
    return m
  }

  /// Whether a row selected starting with `sealedColumns(table)` matches its seal.
  static func rowIntact(_ table: SealedTable, _ row: Row, _ sealer: RowSealer) -> Bool {
    sealer.verify(rowMessage(table, row), row.optionalBlob(sealedValueCount(table) + 1))
  }

  /// Every sealed row whose seal does not match, at most `limit`.
  func brokenSeals(limit: Int) throws(IVKeysError) -> [BrokenSeal] {
    let sealer = try requireSealer()
    var broken = [BrokenSeal]()
    try db.readTransaction { () throws(IVKeysError) in
      for table in SealedTable.allCases {
        try db.statement(Self.sealedRowSQL(table)).forEachRow { row in
          if broken.count < limit, !Self.rowIntact(table, row, sealer) {
            broken.append(BrokenSeal(table: table.rawValue, primaryKey: row.text(0)))
          }
        }
      }
    }
    return broken
  }

  /// Seals every row again with `sealer`, after checking each against `previous` (nil: the rows
  /// have no seals yet, as when migration 5 first seals a vault). Throws `tampered` at the first
  /// row that does not match: resealing must never seal a change made outside ivkeys.
  func resealAll(from previous: RowSealer?, to sealer: RowSealer) throws(IVKeysError) {
    // Migration 5 seals the tables that exist then; a later migration's tables start empty.
    for table in SealedTable.allCases where try tableExists(table.rawValue) {
      var rows = [(String, [UInt8])]()
      try db.statement(Self.sealedRowSQL(table)).forEachRow { row throws(IVKeysError) in
        if let previous, !Self.rowIntact(table, row, previous) {
          throw .tampered("the \(table.rawValue) row \(row.text(0)) does not match its seal")
        }
        rows.append((row.text(0), sealer.seal(Self.rowMessage(table, row))))
      }
      let update = try db.statement(
        "UPDATE \(table.rawValue) SET seal = ? WHERE \(Self.primaryKeyColumn(table)) = ?")
      for (key, seal) in rows {
        // secret_versions is keyed by an integer: bind it as one, or the row is not found.
        let pk: SQLValue = table == .secretVersions ? .int(Int64(key) ?? 0) : .text(key)
        try update.run([.blob(seal), pk])
      }
    }
  }

  func tableExists(_ name: String) throws(IVKeysError) -> Bool {
    try db.scalarInt("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", [.text(name)]) != nil
  }

  // MARK: - Meta

  /// A metadata value whose row matches its seal; a row that does not is `tampered`.
  func sealedMeta(_ name: String) throws(IVKeysError) -> String? {
    let sealer = try requireSealer()
    return try db.statement(Self.sealedRowSQL(.meta) + " WHERE name = ?").first([.text(name)]) {
      row throws(IVKeysError) -> String in
      guard Self.rowIntact(.meta, row, sealer) else {
        throw .tampered("the vault's \(name) setting does not match its seal")
      }
      return row.text(1)
    }
  }

  func openingSettings() throws(IVKeysError) -> OpeningSettings {
    var settings = OpeningSettings()
    // The whole table (a handful of rows): `name IN (…)` would build a temporary b-tree of the
    // names on every opening.
    try db.statement(Self.sealedRowSQL(.meta)).forEachRow { row in
      // The seal is checked later, once the secret version (and so the seal key) is known.
      let setting = SettingRow(
        name: row.text(0), value: row.text(1), seal: row.optionalBlob(2), message: Self.rowMessage(.meta, row))
      switch setting.name {
      case "secret_fingerprint": settings.secretFingerprint = setting
      case "secret_version": settings.secretVersion = setting
      case Self.schemaFingerprintName: settings.schemaFingerprint = setting
      default: break
      }
    }
    return settings
  }

  func settingIntact(_ row: SettingRow) -> Bool {
    guard let sealer else { return false }
    return sealer.verify(row.message, row.seal)
  }

  /// Sets a metadata value and seals it; inside `write`.
  func setMeta(_ name: String, _ value: String) throws(IVKeysError) {
    try db.run(
      "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = ?2",
      [.text(name), .text(value)])
    try resealRow(.meta, name)
  }
}

/// The secret versions a vault has known.
extension SQLiteStore {
  func secretVersions() throws(IVKeysError) -> [SecretVersionRow] {
    let sealer = sealer
    var out = [SecretVersionRow]()
    try db.statement(
      """
      SELECT \(Self.sealedColumns(.secretVersions)), added_at,
        (SELECT count(*) FROM keys WHERE secret_version = v.version),
        (SELECT count(*) FROM keys WHERE secret_version = v.version AND status <> 'revoked')
      FROM secret_versions v ORDER BY v.version
      """
    ).forEachRow { row in
      out.append(
        SecretVersionRow(
          version: Int(row.int(0)), fingerprint: row.text(1), addedAt: row.int(4), retiredAt: row.optionalInt(2),
          keys: row.int(5), unrevokedKeys: row.int(6),
          damaged: sealer.map { !Self.rowIntact(.secretVersions, row, $0) } ?? false))
    }
    return out
  }

  func hasRetiredSecretVersion() throws(IVKeysError) -> Bool {
    try db.scalarInt("SELECT 1 FROM secret_versions WHERE retired_at IS NOT NULL LIMIT 1") != nil
  }

  func insertSecretVersion(_ version: Int, fingerprint: String, at: Timestamp) throws(IVKeysError) {
    try db.run(
      "INSERT INTO secret_versions (version, fingerprint, added_at) VALUES (?, ?, ?)",
      [.int(Int64(version)), .text(fingerprint), .int(at)])
    try resealRow(.secretVersions, String(version))
  }

  func retireSecretVersion(_ version: Int, at: Timestamp) throws(IVKeysError) {
    guard try rowSealIntact(.secretVersions, String(version)) != false else {
      throw .tampered("the row of secret version \(version) does not match its seal")
    }
    try db.run("UPDATE secret_versions SET retired_at = ? WHERE version = ?", [.int(at), .int(Int64(version))])
    try resealRow(.secretVersions, String(version))
  }
}
