import CSQLite

/// Row seals and the schema's fingerprint (see `RowSeal.swift` for what a seal covers).
extension SQLiteStore {
  // MARK: - Reading a sealed value

  /// A column's value exactly as stored, typed by its storage class.
  static func sealValue(_ row: Row, _ i: Int32) -> SealValue {
    switch sqlite3_column_type(row.handle, i) {
    case SQLITE_NULL: return .null
    case SQLITE_INTEGER: return .int(row.int(i))
    case SQLITE_FLOAT: return .real(sqlite3_column_double(row.handle, i))
    case SQLITE_BLOB: return .blob(row.blob(i))
    default: return .text(row.text(i))
    }
  }

  /// Appends a column's stored value to a seal message straight from SQLite's buffer, typed by
  /// its storage class: the same bytes `sealValue` gives, without a String or an Array between.
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

  /// The seal of a new key's row, from the values it is inserted with (the same message as
  /// `sealMessage` reads back: a test checks that they agree).
  static func newKeySeal(_ k: NewKeyRow, _ sealer: RowSealer) -> [UInt8] {
    var m = SealMessage(table: SealedTable.keys.rawValue, primaryKey: k.id)
    m.text(k.env.rawValue)
    m.text(k.type.rawValue)
    m.text(k.company)
    m.text(k.linkedCompaniesJSON)
    m.append(.blob(k.digest))
    m.text(k.scopesJSON)
    m.text(k.allowedIPsJSON)
    m.int(k.expiresAt)
    m.text(k.rateLimit)
    m.text(KeyStatus.active.rawValue)
    m.int(nil)  // grace_until
    m.text(k.rotatedFrom)
    m.text(nil)  // replaced_by
    m.int(Int64(k.secretVersion))
    return sealer.seal(m)
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

  /// The SELECT of a table's sealed columns: the primary key (as text) first, the seal last.
  static func sealedRowSQL(_ table: SealedTable) -> String {
    switch table {
    case .keys: return "SELECT \(SealedKeyColumn.selectList) FROM keys"
    case .admins: return "SELECT user, seal FROM admins"
    case .scopes: return "SELECT name, seal FROM scopes"
    case .meta: return "SELECT name, value, seal FROM meta"
    case .secretVersions:
      return "SELECT CAST(version AS TEXT), fingerprint, retired_at, seal FROM secret_versions"
    }
  }

  static func primaryKeyColumn(_ table: SealedTable) -> String {
    switch table {
    case .keys: return "id"
    case .admins: return "user"
    case .scopes: return "name"
    case .meta: return "name"
    case .secretVersions: return "version"
    }
  }

  /// The seal message of a row selected with `sealedRowSQL(table)`.
  static func rowMessage(_ table: SealedTable, _ row: Row) -> SealMessage {
    if table == .keys { return keySealMessage(row) }
    let count = sqlite3_column_count(row.handle)
    var m = SealMessage(table: table.rawValue, primaryKey: row.text(0))
    for i in 1..<(count - 1) { appendSealValue(&m, row, i) }
    return m
  }

  static func rowIntact(_ table: SealedTable, _ row: Row, _ sealer: RowSealer) -> Bool {
    let count = sqlite3_column_count(row.handle)
    return sealer.verify(rowMessage(table, row), row.optionalBlob(count - 1))
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
    for table in SealedTable.allCases {
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

  // MARK: - Meta

  /// A metadata value whose row matches its seal; a row that does not is `tampered`.
  func sealedMeta(_ name: String) throws(IVKeysError) -> String? {
    let sealer = try requireSealer()
    return try db.statement("SELECT name, value, seal FROM meta WHERE name = ?").first([.text(name)]) {
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
    try db.statement("SELECT name, value, seal FROM meta").forEachRow { row in
      // A value stored as anything but text was not written by ivkeys: no seal can match it.
      let isText = sqlite3_column_type(row.handle, 1) == SQLITE_TEXT
      let setting = SettingRow(name: row.text(0), value: row.text(1), seal: isText ? row.optionalBlob(2) : nil)
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
    var m = SealMessage(table: SealedTable.meta.rawValue, primaryKey: row.name)
    m.append(.text(row.value))
    return sealer.verify(m, row.seal)
  }

  /// Sets a metadata value and seals it; inside `write`.
  func setMeta(_ name: String, _ value: String) throws(IVKeysError) {
    try db.run(
      "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = ?2",
      [.text(name), .text(value)])
    try resealRow(.meta, name)
  }

  // MARK: - The schema

  /// The fingerprint of the vault's schema: SHA-256 over every table, index, trigger and view
  /// (type, name, table and SQL text), in name order. SQLite's statistics tables are left out:
  /// ANALYZE may make them, and they change no result.
  func schemaFingerprint() throws(IVKeysError) -> String {
    // The same unambiguous encoding as a seal: each field typed and length-prefixed.
    var text = SealMessage(table: "sqlite_schema", primaryKey: "")
    for object in try schemaObjects() {
      text.append(.text(object.type))
      text.append(.text(object.name))
      text.append(.text(object.table))
      text.text(object.sql)
    }
    return Crypto.hex(Crypto.sha256(text.bytes))
  }

  static let statisticsTables: Set<String> = ["sqlite_stat1", "sqlite_stat2", "sqlite_stat3", "sqlite_stat4"]

  /// The schema's objects, by name.
  func schemaObjects() throws(IVKeysError) -> [SchemaObject] {
    var out = [SchemaObject]()
    try db.statement("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name, type").forEachRow { row in
      out.append(SchemaObject(type: row.text(0), name: row.text(1), table: row.text(2), sql: row.optionalText(3)))
    }
    // ANALYZE's statistics tables (only tables of exactly these names) change no result.
    return out.filter { !($0.type == "table" && Self.statisticsTables.contains($0.name)) }
  }

  /// Records the schema's fingerprint (sealed) with SQLite's schema cookie, as
  /// `<cookie> <sha256>`; at the end of every migration that changes the schema.
  func recordSchemaFingerprint() throws(IVKeysError) {
    try setMeta(Self.schemaFingerprintName, "\(try schemaCookie()) \(try schemaFingerprint())")
  }

  static let schemaFingerprintName = "schema_fingerprint"

  /// SQLite's schema cookie: "incremented by SQLite whenever the database schema is modified".
  func schemaCookie() throws(IVKeysError) -> Int64 { try db.scalarInt("PRAGMA schema_version") ?? -1 }

  /// Refuses a schema changed outside ivkeys, comparing every object with the sealed
  /// fingerprint (`doctor`).
  func checkSchemaSeal() throws(IVKeysError) {
    guard let recorded = try sealedMeta(Self.schemaFingerprintName) else {
      throw .tampered("the schema's sealed fingerprint is missing")
    }
    try compareSchema(recorded)
  }

  /// The check every opening for a write or a decision makes, cheaply: the schema cookie recorded
  /// beside the fingerprint must be SQLite's. Any CREATE, DROP or ALTER moves the cookie; only
  /// then is the whole schema hashed and compared (a VACUUM moves it too, with the same schema:
  /// the new cookie is then recorded). What this does not see is a cookie set back by hand with
  /// `PRAGMA schema_version` or `writable_schema`, which SQLite documents as corrupting: `doctor`
  /// always compares the whole schema, and an audit INSERT that a trigger swallowed fails closed
  /// (`appendAudit`).
  func checkSchemaSeal(recorded: String, full: Bool) throws(IVKeysError) {
    if !full, let space = recorded.firstIndex(of: " "), Int64(recorded[..<space]) == (try schemaCookie()) { return }
    try compareSchema(recorded)
    // The same schema under a moved cookie (a VACUUM): record the cookie, in one transaction that
    // compares again (nothing may slip in between), when not inside one already.
    guard !db.isReadOnly, sqlite3_get_autocommit(db.handle) != 0 else { return }
    try? db.writeTransaction { () throws(IVKeysError) in
      try compareSchema(recorded)
      try recordSchemaFingerprint()
    }
  }

  /// The whole schema against the fingerprint part of `recorded`.
  func compareSchema(_ recorded: String) throws(IVKeysError) {
    let hash = recorded.split(separator: " ").last.map(String.init) ?? ""
    let current = try schemaFingerprint()
    guard Crypto.constantTimeEqual(Array(hash.utf8), Array(current.utf8)) else {
      throw .tampered("its schema (a table, index, trigger or view) was added, dropped or changed")
    }
  }

  /// How the schema differs from the one this binary's migrations make: each object added,
  /// dropped or changed. Empty when they agree.
  func schemaDifferences() throws(IVKeysError) -> [String] {
    let reference = try SQLiteStore(path: ":memory:", readOnly: false, fresh: false)
    try SQLiteSchema.migrate(reference, upTo: try schemaVersion(), sealer: nil)
    let expected = Dictionary(
      try reference.schemaObjects().map { ("\($0.type) \($0.name)", $0) }, uniquingKeysWith: { a, _ in a })
    let actual = Dictionary(try schemaObjects().map { ("\($0.type) \($0.name)", $0) }, uniquingKeysWith: { a, _ in a })
    var out = [String]()
    for (name, object) in actual.sorted(by: { $0.key < $1.key }) {
      if let e = expected[name] {
        if e.sql != object.sql || e.table != object.table { out.append("\(name) was changed") }
      } else {
        out.append("\(name) was added")
      }
    }
    for name in expected.keys.sorted() where actual[name] == nil { out.append("\(name) was dropped") }
    return out
  }
}

/// One object of a vault's schema.
struct SchemaObject: Equatable {
  let type: String
  let name: String
  let table: String
  let sql: String?
}

/// The secret versions a vault has known.
extension SQLiteStore {
  func secretVersions() throws(IVKeysError) -> [SecretVersionRow] {
    let sealer = sealer
    var out = [SecretVersionRow]()
    try db.statement(
      """
      SELECT CAST(v.version AS TEXT), v.fingerprint, v.retired_at, v.seal, v.added_at,
        (SELECT count(*) FROM keys WHERE secret_version = v.version),
        (SELECT count(*) FROM keys WHERE secret_version = v.version AND status <> 'revoked')
      FROM secret_versions v ORDER BY v.version
      """
    ).forEachRow { row in
      var m = SealMessage(table: SealedTable.secretVersions.rawValue, primaryKey: row.text(0))
      m.append(Self.sealValue(row, 1))
      m.append(Self.sealValue(row, 2))
      out.append(
        SecretVersionRow(
          version: Int(row.int(0)), fingerprint: row.text(1), addedAt: row.int(4), retiredAt: row.optionalInt(2),
          keys: row.int(5), unrevokedKeys: row.int(6),
          damaged: sealer.map { !$0.verify(m, row.optionalBlob(3)) } ?? false))
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
