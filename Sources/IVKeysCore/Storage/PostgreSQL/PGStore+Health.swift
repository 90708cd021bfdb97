/// What `doctor` asks of the server.
extension PGStore {
  /// PostgreSQL checks its own pages as it reads them: every table of the vault is read through
  /// once, and a table the server cannot read is the problem reported.
  func integrityProblems(limit: Int) throws(IVKeysError) -> [String] {
    var problems = [String]()
    for table in Self.tables where problems.count < max(1, limit) {
      do {
        try pg { () throws(PGConnection.Failure) in try db.query("SELECT count(*) FROM \(table)") }
      } catch {
        problems.append("\(table): \(error.description)")
      }
    }
    return problems.isEmpty ? ["ok"] : problems
  }

  /// Every table of the vault, in the order `vault copy` fills them.
  static let tables = [
    "meta", "secret_versions", "scopes", "admins", "keys", "key_usage", "audit", "usage_endpoints", "usage_daily",
    "usage_hourly", "rate_windows", "request_budgets", "imported_requests", "notifications", "working_hours",
    "alert_states",
  ]

  /// Both triggers are there and enabled: the server refuses UPDATE, DELETE and TRUNCATE.
  func auditIsAppendOnly() throws(IVKeysError) -> Bool {
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        """
        SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relname = 'audit' AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
          AND t.tgname IN ('audit_no_update', 'audit_no_truncate') AND t.tgenabled IN ('O', 'A')
        """
      ).first?.int(0) == 2
    }
  }

  func keysWithoutCreationEntry() throws(IVKeysError) -> Int64 {
    try count(
      """
      SELECT count(*) FROM keys k
      WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.event = $1 AND a.key_id = k.id)
      """, AuditEvent.keyCreated.rawValue)
  }

  func revokedKeysWithoutRevocationEntry() throws(IVKeysError) -> Int64 {
    try count(
      """
      SELECT count(*) FROM keys k
      WHERE k.status = 'revoked' AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.event = $1 AND a.key_id = k.id)
      """, AuditEvent.keyRevoked.rawValue)
  }

  func staleRotations(now: Timestamp) throws(IVKeysError) -> Int64 {
    try count(
      """
      SELECT count(*) FROM keys
      WHERE status IN ('rotating', 'suspended') AND grace_until IS NOT NULL AND grace_until <= $1::bigint
      """, PG.int(now))
  }

  private func count(_ sql: String, _ value: String?) throws(IVKeysError) -> Int64 {
    try pg { () throws(PGConnection.Failure) in try db.query(sql, [value]).first?.int(0) ?? 0 }
  }

  /// A PostgreSQL vault is backed up by the server's own tools.
  func copy(to path: String) throws(IVKeysError) -> any VaultStore {
    try refuseFileBackup()
    return self
  }

  func refuseFileBackup() throws(IVKeysError) {
    throw .usage(
      "ivkeys backup copies SQLite vaults; a PostgreSQL vault is backed up with pg_dump",
      hint: "pg_dump --format=custom --file=ivkeys.dump '<the vault's URL>' (restore with pg_restore), "
        + "or copy it into a SQLite file: ivkeys vault copy <URL> FILE")
  }
}
