/// `ivkeys init --roles`: the two roles the server enforces least privilege with.
extension PGStore {
  /// Creates `ivkeys_admin` and `ivkeys_verify` when missing (NOLOGIN: login roles are granted
  /// membership), and sets their privileges on the vault's tables afresh, so re-running it after
  /// an upgrade covers new tables. `ivkeys_admin` may do everything to the rows (the audit
  /// triggers still refuse edits to the log; the schema stays the owner's). `ivkeys_verify`, for
  /// gateway hosts, reads keys, settings and the catalog, appends to the audit log, and inserts
  /// and updates only usage counts, per-address buckets, rate windows and the audit head: no
  /// UPDATE of a key, no DELETE or TRUNCATE anywhere.
  static let rolesSQL: StaticString = """
    DO $roles$
    DECLARE
      s text := quote_ident(current_schema());
    BEGIN
      -- Roles belong to the whole server: another database's init may make them at the same time.
      BEGIN
        CREATE ROLE ivkeys_admin NOLOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END;
      BEGIN
        CREATE ROLE ivkeys_verify NOLOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END;
      EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %s FROM PUBLIC, ivkeys_admin, ivkeys_verify', s);
      EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %s FROM PUBLIC, ivkeys_admin, ivkeys_verify', s);
      EXECUTE format('GRANT USAGE ON SCHEMA %s TO ivkeys_admin, ivkeys_verify', s);
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA %s TO ivkeys_admin', s);
      EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %s TO ivkeys_admin', s);
      GRANT SELECT ON ivkeys_schema, meta, keys, key_usage, scopes, admins, secret_versions, working_hours, audit,
        audit_head, usage_endpoints, usage_daily, usage_hourly, rate_windows, request_budgets TO ivkeys_verify;
      GRANT INSERT ON audit TO ivkeys_verify;
      GRANT INSERT, UPDATE ON key_usage, usage_endpoints, usage_daily, usage_hourly, rate_windows, request_budgets,
        audit_head
        TO ivkeys_verify;
    END
    $roles$
    """

  func grantRoles() throws(IVKeysError) {
    try pg { () throws(PGConnection.Failure) in
      try db.execute("BEGIN")
      do throws(PGConnection.Failure) {
        try db.execute(Self.rolesSQL)
        try db.execute("COMMIT")
      } catch {
        try? db.execute("ROLLBACK")
        throw error
      }
    }
  }
}
