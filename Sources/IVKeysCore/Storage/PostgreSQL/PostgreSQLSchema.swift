/// The PostgreSQL engine's schema, versioned as the SQLite engine's is (`SQLiteSchema`): a vault
/// at version N has the tables and rules of SQLite's version N, so `vault copy` moves rows
/// between the two column for column. A PostgreSQL vault starts at the version the engine was
/// introduced at, with one baseline migration; later versions add one migration to each engine.
/// The version is the row of `ivkeys_schema`; a vault whose version is higher than this binary
/// knows is refused.
///
/// Types: SQLite's INTEGER is `bigint`, BLOB `bytea`, TEXT `text`; the audit log's `seq` is
/// given by ivkeys (the last plus one, under the append lock) as SQLite's rowid alias is. The
/// audit log is append-only by triggers, which refuse UPDATE, DELETE and TRUNCATE to every role,
/// its owner included; `init --roles` (to come) adds what each role may do.
enum PostgreSQLSchema {
  /// The version this binary writes: the SQLite engine's.
  static var currentVersion: Int { SQLiteSchema.currentVersion }

  /// (version, statements): each brings the vault from the previous entry's version to its own.
  static let migrations: [(version: Int, sql: StaticString)] = [
    (
      6,
      """
      CREATE TABLE meta (
        name text PRIMARY KEY,
        value text NOT NULL,
        seal bytea
      );
      CREATE TABLE keys (
        id text NOT NULL UNIQUE,
        env text NOT NULL CHECK (env IN ('live', 'test')),
        type text NOT NULL CHECK (type IN ('regular', 'ats')),
        company text NOT NULL,
        linked_companies text NOT NULL DEFAULT '[]',
        name text NOT NULL,
        digest bytea NOT NULL,
        scopes text NOT NULL,
        allowed_ips text NOT NULL DEFAULT '[]',
        expires_at bigint,
        rate_limit text,
        metadata text NOT NULL DEFAULT '{}',
        tags text NOT NULL DEFAULT '[]',
        contact text,
        status text NOT NULL CHECK (status IN ('active', 'suspended', 'rotating', 'revoked', 'expired')),
        status_reason text,
        created_at bigint NOT NULL,
        created_by text NOT NULL,
        rotated_from text,
        replaced_by text,
        grace_until bigint,
        last_used_at bigint,
        request_count bigint NOT NULL DEFAULT 0,
        error_count bigint NOT NULL DEFAULT 0,
        secret_version bigint NOT NULL DEFAULT 1,
        seal bytea,
        last_ip text,
        -- Creation order, which SQLite keeps as rowid order.
        created_seq bigserial NOT NULL
      );
      CREATE INDEX keys_expires ON keys (expires_at) WHERE expires_at IS NOT NULL;
      CREATE INDEX keys_created ON keys (created_seq);
      CREATE TABLE scopes (
        name text PRIMARY KEY,
        description text NOT NULL,
        added_at bigint NOT NULL,
        added_by text NOT NULL,
        seal bytea
      );
      CREATE TABLE admins (
        "user" text PRIMARY KEY,
        added_at bigint NOT NULL,
        added_by text NOT NULL,
        seal bytea
      );
      CREATE TABLE audit (
        seq bigint PRIMARY KEY,
        at text NOT NULL,
        event text NOT NULL,
        actor text NOT NULL,
        os_user text NOT NULL,
        key_id text,
        company text,
        ip text,
        detail text NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL
      );
      CREATE FUNCTION ivkeys_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the audit log is append-only: % is not allowed', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
        FOR EACH ROW EXECUTE FUNCTION ivkeys_audit_append_only();
      CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
        FOR EACH STATEMENT EXECUTE FUNCTION ivkeys_audit_append_only();
      CREATE TABLE usage_endpoints (
        key_id text NOT NULL,
        endpoint text NOT NULL,
        count bigint NOT NULL DEFAULT 0,
        errors bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (key_id, endpoint)
      );
      CREATE TABLE usage_daily (
        key_id text NOT NULL,
        day text NOT NULL,
        count bigint NOT NULL DEFAULT 0,
        errors bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (key_id, day)
      );
      CREATE TABLE rate_windows (
        key_id text PRIMARY KEY,
        window_start bigint NOT NULL,
        count bigint NOT NULL
      );
      CREATE TABLE imported_requests (
        key_id text NOT NULL,
        request_id text NOT NULL,
        at bigint NOT NULL,
        PRIMARY KEY (key_id, request_id)
      );
      CREATE TABLE notifications (
        key_id text NOT NULL,
        expires_at bigint NOT NULL,
        recipient text NOT NULL,
        message_id text NOT NULL,
        claimed_at bigint NOT NULL,
        sent_at bigint,
        PRIMARY KEY (key_id, expires_at)
      );
      CREATE TABLE secret_versions (
        version bigint PRIMARY KEY,
        fingerprint text NOT NULL,
        added_at bigint NOT NULL,
        retired_at bigint,
        seal bytea
      );
      CREATE TABLE usage_hourly (
        key_id text NOT NULL,
        hour bigint NOT NULL,
        ip text NOT NULL,
        requests bigint NOT NULL,
        errors bigint NOT NULL,
        denied bigint NOT NULL,
        refused bigint NOT NULL,
        first_seen bigint NOT NULL,
        last_seen bigint NOT NULL,
        PRIMARY KEY (key_id, hour, ip)
      );
      CREATE TABLE working_hours (
        subject text PRIMARY KEY,
        hours text NOT NULL,
        tz text NOT NULL,
        set_at bigint NOT NULL,
        set_by text NOT NULL,
        seal bytea
      );
      CREATE TABLE alert_states (
        id text PRIMARY KEY,
        rule text NOT NULL,
        key_id text NOT NULL,
        window_start bigint NOT NULL,
        acknowledged_at bigint,
        acknowledged_by text,
        recipient text,
        message_id text,
        claimed_at bigint,
        notified_at bigint
      );
      """
    )
  ]

  /// Brings the database to `currentVersion`, in one transaction that holds an advisory lock, so
  /// that two hosts starting at once migrate it once. Refuses a vault of a newer ivkeys.
  static func migrate(_ db: PGConnection) throws(IVKeysError) {
    do {
      try db.execute("BEGIN")
      try db.query("SELECT pg_advisory_xact_lock(7149023001)")
      try db.execute("CREATE TABLE IF NOT EXISTS ivkeys_schema (version bigint NOT NULL)")
      let version = try Self.version(db)
      guard version <= currentVersion else {
        try db.execute("ROLLBACK")
        throw IVKeysError.vault(
          "the vault's schema is version \(version), newer than this ivkeys knows (\(currentVersion))",
          hint: "use the ivkeys that wrote it, or a newer one")
      }
      for m in migrations where m.version > version {
        try db.execute(m.sql)
        try db.query("DELETE FROM ivkeys_schema")
        try db.query("INSERT INTO ivkeys_schema (version) VALUES ($1)", [String(m.version)])
      }
      try db.execute("COMMIT")
    } catch let e as PGConnection.Failure {
      try? db.execute("ROLLBACK")
      throw .vault("cannot update the PostgreSQL vault's schema: \(e.message) (\(e.sqlState))")
    } catch let e as IVKeysError {
      throw e
    } catch {
      throw .vault("cannot update the PostgreSQL vault's schema: \(error)")
    }
  }

  /// The vault's schema version (0 when ivkeys has not created its tables).
  static func version(_ db: PGConnection) throws(PGConnection.Failure) -> Int {
    let exists = try db.query("SELECT to_regclass('ivkeys_schema') IS NOT NULL")
    guard exists.first?.first == "t" else { return 0 }
    return Int(try db.query("SELECT max(version) FROM ivkeys_schema").first?.first.flatMap { $0 } ?? "0") ?? 0
  }
}
