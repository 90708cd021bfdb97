/// The schema's sealed fingerprint on PostgreSQL: every table (its columns, types, defaults,
/// collations, row security), index, constraint, trigger, rule, policy and function of the
/// vault's schema, as the server describes them, hashed in name order.
///
/// Describing them takes a new backend some 15 ms, too slow for a `verify` process per request.
/// As SQLite's schema cookie does for that engine, a cheaper number stands beside the
/// fingerprint (`schemaCookieSQL`); `verify` describes and compares the whole schema only when it
/// moved. `doctor` and every writing command always compare the whole schema.
extension PGStore {
  /// The objects of the vault's schema (the first in `search_path`), names unqualified.
  static let schemaObjectsSQL = """
    WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname = current_schema())
    SELECT type, name, tbl, replace(def, quote_ident((SELECT nspname FROM ns)) || '.', '') FROM (
      SELECT 'table' AS type, c.relname::text AS name, c.relname::text AS tbl,
        c.relkind::text || CASE WHEN c.relrowsecurity THEN ' rls' ELSE '' END || ' (' || coalesce((
          SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
            || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
            || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
            || coalesce(' COLLATE ' || co.collname, ''), ', ' ORDER BY a.attnum)
          FROM pg_attribute a
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          LEFT JOIN pg_collation co ON co.oid = a.attcollation AND co.collname <> 'default'
          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')' AS def
      FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      UNION ALL
      SELECT 'index', c.relname::text, t.relname::text, pg_get_indexdef(c.oid)
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
      WHERE c.relnamespace = (SELECT oid FROM ns)
      UNION ALL
      SELECT 'constraint', co.conname::text, c.relname::text, pg_get_constraintdef(co.oid)
      FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid WHERE c.relnamespace = (SELECT oid FROM ns)
      UNION ALL
      SELECT 'trigger', t.tgname::text, c.relname::text, pg_get_triggerdef(t.oid)
        || CASE t.tgenabled WHEN 'O' THEN '' ELSE ' ' || t.tgenabled::text END
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT t.tgisinternal
      UNION ALL
      SELECT 'rule', r.rulename::text, c.relname::text, pg_get_ruledef(r.oid)
      FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
      WHERE c.relnamespace = (SELECT oid FROM ns) AND r.rulename <> '_RETURN'
      UNION ALL
      SELECT 'policy', p.polname::text, c.relname::text, p.polcmd::text || ' ' || coalesce(pg_get_expr(p.polqual, p.polrelid), '')
      FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = (SELECT oid FROM ns)
      UNION ALL
      SELECT 'function', p.proname::text, '', pg_get_functiondef(p.oid)
      FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM ns) AND p.prokind IN ('f', 'p')
    ) o ORDER BY name COLLATE "C", type COLLATE "C"
    """

  func schemaObjects() throws(IVKeysError) -> [SchemaObject] {
    try pg { () throws(PGConnection.Failure) in
      try db.query(Self.schemaObjectsSQL).rows.map {
        SchemaObject(type: $0.text(0), name: $0.text(1), table: $0.text(2), sql: $0.optionalText(3))
      }
    }
  }

  /// SHA-256 over the objects, encoded as the SQLite engine encodes its own.
  func schemaFingerprint() throws(IVKeysError) -> String {
    SchemaObject.fingerprint(try schemaObjects(), catalog: "pg_catalog")
  }

  /// The catalog rows of the vault's tables, indexes, views and sequences, and of their triggers,
  /// with the transaction that last wrote each. Every CREATE, DROP or ALTER of a table or index
  /// rewrites its `pg_class` row (a column added or retyped, a rule or row security switched on
  /// among them), and every trigger added, dropped, enabled or disabled its `pg_trigger` row. Two
  /// catalogs only: each catalog a new backend reads costs it 1.5 to 2.5 ms on this machine.
  /// What this does not see (a function's body replaced, a column's default) is what `doctor`
  /// and every writing command compare in full.
  static let schemaCookieSQL = """
    WITH rel AS (
      SELECT oid, xmin FROM pg_class WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()))
    SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
      SELECT 'c' || oid || ':' || xmin FROM rel
      UNION ALL SELECT 't' || oid || ':' || xmin || ':' || tgenabled::text FROM pg_trigger WHERE tgrelid IN (SELECT oid FROM rel)
    ) o(x)
    """

  func schemaCookie() throws(IVKeysError) -> String {
    try pg { () throws(PGConnection.Failure) in try db.query(Self.schemaCookieSQL).first?.optionalText(0) ?? "" }
  }

  /// Records the fingerprint (sealed), as `pg <cookie> <sha256>`; at the end of every migration.
  func recordSchemaFingerprint() throws(IVKeysError) {
    try setMeta(SQLiteStore.schemaFingerprintName, "pg \(try schemaCookie()) \(try schemaFingerprint())")
  }

  func checkSchemaSeal() throws(IVKeysError) {
    guard let recorded = try sealedMeta(SQLiteStore.schemaFingerprintName) else {
      throw .tampered("the schema's sealed fingerprint is missing")
    }
    try compareSchema(recorded)
  }

  /// The check of an opening: for a decision (`full` false) only the cookie, unless it moved.
  /// The same schema under a moved cookie (a catalog row rewritten, as VACUUM FULL of a catalog
  /// may) is recorded anew when this connection may write the setting (an administrator's).
  func checkSchemaSeal(recorded: String, full: Bool) throws(IVKeysError) {
    let parts = recorded.split(separator: " ")
    let cookie = try schemaCookie()
    if !full, parts.count == 3, parts[1] == cookie { return }
    try compareSchema(recorded)
    guard parts.count != 3 || parts[1] != cookie, !isReadOnly, !db.inTransaction else { return }
    try? write { () throws(IVKeysError) in
      try compareSchema(recorded)
      try recordSchemaFingerprint()
    }
  }

  func compareSchema(_ recorded: String) throws(IVKeysError) {
    guard SchemaObject.matches(recorded: recorded, current: try schemaFingerprint()) else {
      throw .tampered("its schema (a table, column, index, constraint, trigger, rule, policy or function) was changed")
    }
  }

  /// The objects that differ from those this binary's migrations make, found (when the sealed
  /// fingerprint does not match) by making them in a scratch schema inside a transaction that is
  /// rolled back.
  func schemaDifferences() throws(IVKeysError) -> [String] {
    // The schema its seal describes needs no scratch copy (which needs CREATE on the database,
    // a right the roles lack).
    if let recorded = try? sealedMeta(SQLiteStore.schemaFingerprintName), (try? compareSchema(recorded)) != nil {
      return []
    }
    // Named by type, name and table: a trigger of another table under a familiar name is still seen.
    func name(_ o: SchemaObject) -> String {
      o.table.isEmpty || o.table == o.name ? "\(o.type) \(o.name)" : "\(o.type) \(o.name) on \(o.table)"
    }
    let actual = try schemaObjects()
    var expected = [SchemaObject]()
    do {
      try pg { () throws(PGConnection.Failure) in
        try db.execute(
          "BEGIN READ WRITE; CREATE SCHEMA ivkeys_reference; SET LOCAL search_path = ivkeys_reference")
      }
      try PostgreSQLSchema.apply(db)
      expected = try schemaObjects()
      rollback()
    } catch {
      rollback()
      return ["the schema could not be compared with this ivkeys' own (\(error.description))"]
    }
    return SchemaObject.differences(actual: actual, expected: expected, name: name)
  }
}
