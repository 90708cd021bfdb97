import CSQLite

/// The schema's sealed fingerprint: what `verify` (cheaply) and every writer and `doctor` (in
/// full) compare with the schema SQLite holds, and what `doctor` names when they differ.
extension SQLiteStore {

  /// The fingerprint of the vault's schema: SHA-256 over every table, index, trigger and view
  /// (type, name, table and SQL text), in name order. SQLite's statistics tables are left out:
  /// ANALYZE may make them, and they change no result.
  func schemaFingerprint() throws(IVKeysError) -> String {
    SchemaObject.fingerprint(try schemaObjects(), catalog: "sqlite_schema")
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
    guard SchemaObject.matches(recorded: recorded, current: try schemaFingerprint()) else {
      throw .tampered("its schema (a table, index, trigger or view) was added, dropped or changed")
    }
  }

  /// How the schema differs from the one this binary's migrations make: each object added,
  /// dropped or changed. Empty when they agree.
  func schemaDifferences() throws(IVKeysError) -> [String] {
    let reference = try SQLiteStore(path: ":memory:", readOnly: false, fresh: false)
    try SQLiteSchema.migrate(reference, upTo: try schemaVersion(), sealer: nil)
    return SchemaObject.differences(actual: try schemaObjects(), expected: try reference.schemaObjects())
  }
}
