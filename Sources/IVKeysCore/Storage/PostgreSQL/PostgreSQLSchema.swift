/// The PostgreSQL engine's schema, versioned as the SQLite engine's is (`SQLiteSchema`): a vault
/// at version N has the tables and rules of SQLite's version N, so `vault copy` moves rows
/// between the two column for column. A PostgreSQL vault starts at the version the engine was
/// introduced at, with one baseline migration; later versions add one migration to each engine.
/// The version is the row of `ivkeys_schema`; a vault whose version is higher than this binary
/// knows is refused.
///
/// Types: SQLite's INTEGER is `bigint`, BLOB `bytea`, TEXT `text COLLATE "C"` (compared and
/// sorted byte by byte, as SQLite does); the audit log's `seq` is given by ivkeys (the last plus
/// one, under the append lock) as SQLite's rowid alias is. Two tables differ from SQLite's: a
/// key's usage totals are in `key_usage`, not in its row, so that the verify role updates no key;
/// and `audit_head` is the row every write transaction locks first. The audit log is append-only
/// by triggers, which refuse UPDATE, DELETE and TRUNCATE to every role, its owner included;
/// `init --roles` grants each role what it may do. Triggers need PostgreSQL 11 or later.
enum PostgreSQLSchema {
  /// The version this binary writes: the SQLite engine's.
  static var currentVersion: Int { SQLiteSchema.currentVersion }

  /// (version, statements): each brings the vault from the previous entry's version to its own.
  static let migrations: [(version: Int, sql: StaticString)] = [
    (
      6,
      """
      CREATE TABLE meta (
        name text COLLATE "C" PRIMARY KEY,
        value text COLLATE "C" NOT NULL,
        seal bytea
      );
      CREATE TABLE keys (
        id text COLLATE "C" NOT NULL UNIQUE,
        env text COLLATE "C" NOT NULL CHECK (env IN ('live', 'test')),
        type text COLLATE "C" NOT NULL CHECK (type IN ('regular', 'ats')),
        company text COLLATE "C" NOT NULL,
        linked_companies text COLLATE "C" NOT NULL DEFAULT '[]',
        name text COLLATE "C" NOT NULL,
        digest bytea NOT NULL,
        scopes text COLLATE "C" NOT NULL,
        allowed_ips text COLLATE "C" NOT NULL DEFAULT '[]',
        expires_at bigint,
        rate_limit text COLLATE "C",
        metadata text COLLATE "C" NOT NULL DEFAULT '{}',
        tags text COLLATE "C" NOT NULL DEFAULT '[]',
        contact text COLLATE "C",
        status text COLLATE "C" NOT NULL CHECK (status IN ('active', 'suspended', 'rotating', 'revoked', 'expired')),
        status_reason text COLLATE "C",
        created_at bigint NOT NULL,
        created_by text COLLATE "C" NOT NULL,
        rotated_from text COLLATE "C",
        replaced_by text COLLATE "C",
        grace_until bigint,
        secret_version bigint NOT NULL DEFAULT 1,
        seal bytea,
        -- Creation order, which SQLite keeps as rowid order.
        created_seq bigserial NOT NULL
      );
      -- A key's usage totals, which SQLite keeps in the key's row: apart, so that the verify role
      -- updates no key.
      CREATE TABLE key_usage (
        key_id text COLLATE "C" PRIMARY KEY,
        request_count bigint NOT NULL DEFAULT 0,
        error_count bigint NOT NULL DEFAULT 0,
        last_used_at bigint,
        last_ip text COLLATE "C"
      );
      -- The audit log's head: every write transaction locks its one row first, so writers from
      -- every host take turns and the chain stays one chain; `generation` counts the commits.
      CREATE TABLE audit_head (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        generation bigint NOT NULL
      );
      INSERT INTO audit_head (generation) VALUES (0);
      INSERT INTO meta (name, value) VALUES ('secret_version', '1');
      CREATE INDEX keys_expires ON keys (expires_at) WHERE expires_at IS NOT NULL;
      CREATE INDEX keys_created ON keys (created_seq);
      CREATE TABLE scopes (
        name text COLLATE "C" PRIMARY KEY,
        description text COLLATE "C" NOT NULL,
        added_at bigint NOT NULL,
        added_by text COLLATE "C" NOT NULL,
        seal bytea
      );
      CREATE TABLE admins (
        "user" text COLLATE "C" PRIMARY KEY,
        added_at bigint NOT NULL,
        added_by text COLLATE "C" NOT NULL,
        seal bytea
      );
      CREATE TABLE audit (
        seq bigint PRIMARY KEY,
        at text COLLATE "C" NOT NULL,
        event text COLLATE "C" NOT NULL,
        actor text COLLATE "C" NOT NULL,
        os_user text COLLATE "C" NOT NULL,
        key_id text COLLATE "C",
        company text COLLATE "C",
        ip text COLLATE "C",
        detail text COLLATE "C" NOT NULL,
        prev_hash text COLLATE "C" NOT NULL,
        hash text COLLATE "C" NOT NULL
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
        key_id text COLLATE "C" NOT NULL,
        endpoint text COLLATE "C" NOT NULL,
        count bigint NOT NULL DEFAULT 0,
        errors bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (key_id, endpoint)
      );
      CREATE TABLE usage_daily (
        key_id text COLLATE "C" NOT NULL,
        day text COLLATE "C" NOT NULL,
        count bigint NOT NULL DEFAULT 0,
        errors bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (key_id, day)
      );
      CREATE TABLE rate_windows (
        key_id text COLLATE "C" PRIMARY KEY,
        window_start bigint NOT NULL,
        count bigint NOT NULL
      );
      CREATE TABLE imported_requests (
        key_id text COLLATE "C" NOT NULL,
        request_id text COLLATE "C" NOT NULL,
        at bigint NOT NULL,
        PRIMARY KEY (key_id, request_id)
      );
      CREATE TABLE notifications (
        key_id text COLLATE "C" NOT NULL,
        expires_at bigint NOT NULL,
        recipient text COLLATE "C" NOT NULL,
        message_id text COLLATE "C" NOT NULL,
        claimed_at bigint NOT NULL,
        sent_at bigint,
        PRIMARY KEY (key_id, expires_at)
      );
      CREATE TABLE secret_versions (
        version bigint PRIMARY KEY,
        fingerprint text COLLATE "C" NOT NULL,
        added_at bigint NOT NULL,
        retired_at bigint,
        seal bytea
      );
      CREATE TABLE usage_hourly (
        key_id text COLLATE "C" NOT NULL,
        hour bigint NOT NULL,
        ip text COLLATE "C" NOT NULL,
        requests bigint NOT NULL,
        errors bigint NOT NULL,
        denied bigint NOT NULL,
        refused bigint NOT NULL,
        first_seen bigint NOT NULL,
        last_seen bigint NOT NULL,
        PRIMARY KEY (key_id, hour, ip)
      );
      CREATE TABLE working_hours (
        subject text COLLATE "C" PRIMARY KEY,
        hours text COLLATE "C" NOT NULL,
        tz text COLLATE "C" NOT NULL,
        set_at bigint NOT NULL,
        set_by text COLLATE "C" NOT NULL,
        seal bytea
      );
      CREATE TABLE alert_states (
        id text COLLATE "C" PRIMARY KEY,
        rule text COLLATE "C" NOT NULL,
        key_id text COLLATE "C" NOT NULL,
        window_start bigint NOT NULL,
        acknowledged_at bigint,
        acknowledged_by text COLLATE "C",
        recipient text COLLATE "C",
        message_id text COLLATE "C",
        claimed_at bigint,
        notified_at bigint
      );
      """
    ),
    // SQLite's version 7: sliding-window logs replace fixed windows; request budgets.
    (
      7,
      """
      DROP TABLE rate_windows;
      CREATE TABLE rate_windows (
        key_id text COLLATE "C" PRIMARY KEY,
        log bytea NOT NULL
      );
      CREATE TABLE request_budgets (
        key_id text COLLATE "C" PRIMARY KEY,
        remaining bigint NOT NULL,
        refilled_at bigint NOT NULL
      );
      -- A vault upgraded under `init --roles` keeps its gateways working: the roles get the
      -- replaced and the new table as `rolesSQL` grants them.
      DO $grants$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ivkeys_admin') THEN
          GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON rate_windows, request_budgets TO ivkeys_admin;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ivkeys_verify') THEN
          GRANT SELECT, INSERT, UPDATE ON rate_windows, request_budgets TO ivkeys_verify;
        END IF;
      END
      $grants$;
      """
    ),
  ]

  /// The advisory lock a migration holds, so that two hosts starting at once migrate once.
  static let migrationLock = "7149023001"

  /// Inside an open transaction: takes the migration lock, then applies every migration the
  /// vault lacks. Refuses a vault of a newer ivkeys, changing nothing. Returns the version found.
  @discardableResult
  static func apply(_ db: PGConnection) throws(IVKeysError) -> Int {
    do {
      try db.query("SELECT pg_advisory_xact_lock($1::bigint)", [migrationLock])
      try db.execute("CREATE TABLE IF NOT EXISTS ivkeys_schema (version bigint NOT NULL)")
      let version = try Self.version(db)
      guard version <= currentVersion else {
        throw IVKeysError.vault(
          "the vault's schema is version \(version), newer than this ivkeys knows (\(currentVersion))",
          hint: "upgrade ivkeys; older binaries never write to newer vaults")
      }
      for m in migrations where m.version > version {
        try db.execute(m.sql)
        try db.query("DELETE FROM ivkeys_schema")
        try db.query("INSERT INTO ivkeys_schema (version) VALUES ($1::bigint)", [String(m.version)])
      }
      return version
    } catch let e as PGConnection.Failure {
      throw .vault("cannot update the PostgreSQL vault's schema: \(e.message) (SQLSTATE \(e.sqlState))")
    } catch let e as IVKeysError {
      throw e
    } catch {
      throw .vault("cannot update the PostgreSQL vault's schema: \(error)")
    }
  }

  /// The vault's schema version (0 when ivkeys has not created its tables).
  static func version(_ db: PGConnection) throws(PGConnection.Failure) -> Int {
    // One round trip: a database without the table (42P01) has no vault. Inside a transaction
    // the failure would end it, so there the table is looked up first.
    if db.inTransaction {
      guard try db.query("SELECT to_regclass('ivkeys_schema') IS NOT NULL").first?.bool(0) == true else { return 0 }
    }
    do {
      return Int(try db.query("SELECT max(version) FROM ivkeys_schema").first?.optionalInt(0) ?? 0)
    } catch  where error.sqlState == "42P01" {
      return 0
    }
  }
}
