/// The SQLite engine's schema as an ordered list of migrations. Migration N brings
/// `PRAGMA user_version` from N-1 to N; each runs in one transaction with its version bump. Never
/// edit a migration that has shipped: add one.
enum SQLiteSchema {
  /// The version this binary writes. A vault with a higher `user_version` is refused.
  static var currentVersion: Int { migrations.count }

  static let migrations: [String] = [
    // 1: keys, scopes, administrators, the audit log. Keys live in a rowid table so that new rows
    // append (creation order is rowid order) and only the narrow id index takes random inserts.
    """
    CREATE TABLE meta (
      name TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE keys (
      id TEXT NOT NULL UNIQUE,
      env TEXT NOT NULL CHECK (env IN ('live', 'test')),
      type TEXT NOT NULL CHECK (type IN ('regular', 'ats')),
      company TEXT NOT NULL,
      linked_companies TEXT NOT NULL DEFAULT '[]',
      name TEXT NOT NULL,
      digest BLOB NOT NULL,
      scopes TEXT NOT NULL,
      allowed_ips TEXT NOT NULL DEFAULT '[]',
      expires_at INTEGER,
      rate_limit TEXT,
      metadata TEXT NOT NULL DEFAULT '{}',
      tags TEXT NOT NULL DEFAULT '[]',
      contact TEXT,
      status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'rotating', 'revoked', 'expired')),
      status_reason TEXT,
      created_at INTEGER NOT NULL,
      created_by TEXT NOT NULL,
      rotated_from TEXT,
      replaced_by TEXT,
      grace_until INTEGER,
      last_used_at INTEGER,
      request_count INTEGER NOT NULL DEFAULT 0,
      error_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX keys_expires ON keys (expires_at) WHERE expires_at IS NOT NULL;

    CREATE TABLE scopes (
      name TEXT PRIMARY KEY,
      description TEXT NOT NULL,
      added_at INTEGER NOT NULL,
      added_by TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE admins (
      user TEXT PRIMARY KEY,
      added_at INTEGER NOT NULL,
      added_by TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE audit (
      seq INTEGER PRIMARY KEY,
      at TEXT NOT NULL,
      event TEXT NOT NULL,
      actor TEXT NOT NULL,
      os_user TEXT NOT NULL,
      key_id TEXT,
      company TEXT,
      ip TEXT,
      detail TEXT NOT NULL,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL
    );
    -- No index on key_id: every decision of verify appends an entry, and an index keyed by key
    -- id takes a random page write per entry (measured: verify --batch 75,000/s without it,
    -- 45,000/s with it). `audit --key` scans instead, about 0.25 s per million entries.
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
      BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE is not allowed'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
      BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE is not allowed'); END;
    """,
    // 2: usage by endpoint and by day, rate-limit windows shared across processes, and the
    // request ids already imported from gateway logs.
    """
    CREATE TABLE usage_endpoints (
      key_id TEXT NOT NULL,
      endpoint TEXT NOT NULL,
      count INTEGER NOT NULL DEFAULT 0,
      errors INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (key_id, endpoint)
    ) WITHOUT ROWID;
    CREATE TABLE usage_daily (
      key_id TEXT NOT NULL,
      day TEXT NOT NULL,
      count INTEGER NOT NULL DEFAULT 0,
      errors INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (key_id, day)
    ) WITHOUT ROWID;
    CREATE TABLE rate_windows (
      key_id TEXT PRIMARY KEY,
      window_start INTEGER NOT NULL,
      count INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE imported_requests (
      key_id TEXT NOT NULL,
      request_id TEXT NOT NULL,
      at INTEGER NOT NULL,
      PRIMARY KEY (key_id, request_id)
    ) WITHOUT ROWID;
    """,
    // 3: expiry notices, one per key and expiry, so `notify` never sends one twice and a
    // changed expiry gets a new one. A row is claimed (sent_at NULL) before its message is handed
    // to the mail command, so two notify runs at once cannot both send it.
    """
    CREATE TABLE notifications (
      key_id TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      recipient TEXT NOT NULL,
      message_id TEXT NOT NULL,
      claimed_at INTEGER NOT NULL,
      sent_at INTEGER,
      PRIMARY KEY (key_id, expires_at)
    ) WITHOUT ROWID;
    """,
    // 4: the same keys table, with the status CHECK written as comparisons joined by OR. For
    // `status IN (five values)` SQLite codes an OpenEphemeral: every INSERT of a key row, and
    // every UPDATE that sets its status, builds a temporary b-tree of the five values, looks the
    // status up in it and drops it (`EXPLAIN INSERT INTO keys ...`; measured with callgrind:
    // about 33,000 instructions a key, a quarter of a bulk create). `=` tests need none (the
    // two-value CHECKs on env and type are coded as comparisons already). The rule is the same,
    // so every stored row passes it; rows are copied with their rowids (creation order), and the
    // UNIQUE index on id comes with the table, renamed with it.
    //
    // The copy reads the whole table once, on the first write after the upgrade (about 2 billion
    // instructions, well under a second, for 100,000 keys). SQLite documents an O(1) alternative
    // (lang_altertable.html, section 7: edit the CHECK text in sqlite_schema under
    // writable_schema); the plain rebuild needs no edit of SQLite's own table.
    """
    CREATE TABLE keys_new (
      id TEXT NOT NULL UNIQUE,
      env TEXT NOT NULL CHECK (env IN ('live', 'test')),
      type TEXT NOT NULL CHECK (type IN ('regular', 'ats')),
      company TEXT NOT NULL,
      linked_companies TEXT NOT NULL DEFAULT '[]',
      name TEXT NOT NULL,
      digest BLOB NOT NULL,
      scopes TEXT NOT NULL,
      allowed_ips TEXT NOT NULL DEFAULT '[]',
      expires_at INTEGER,
      rate_limit TEXT,
      metadata TEXT NOT NULL DEFAULT '{}',
      tags TEXT NOT NULL DEFAULT '[]',
      contact TEXT,
      status TEXT NOT NULL CHECK (status = 'active' OR status = 'suspended' OR status = 'rotating'
        OR status = 'revoked' OR status = 'expired'),
      status_reason TEXT,
      created_at INTEGER NOT NULL,
      created_by TEXT NOT NULL,
      rotated_from TEXT,
      replaced_by TEXT,
      grace_until INTEGER,
      last_used_at INTEGER,
      request_count INTEGER NOT NULL DEFAULT 0,
      error_count INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO keys_new (rowid, id, env, type, company, linked_companies, name, digest, scopes, allowed_ips,
      expires_at, rate_limit, metadata, tags, contact, status, status_reason, created_at, created_by, rotated_from,
      replaced_by, grace_until, last_used_at, request_count, error_count)
    SELECT rowid, id, env, type, company, linked_companies, name, digest, scopes, allowed_ips,
      expires_at, rate_limit, metadata, tags, contact, status, status_reason, created_at, created_by, rotated_from,
      replaced_by, grace_until, last_used_at, request_count, error_count FROM keys ORDER BY rowid;
    DROP TABLE keys;
    ALTER TABLE keys_new RENAME TO keys;
    CREATE INDEX keys_expires ON keys (expires_at) WHERE expires_at IS NOT NULL;
    """,
    // 5: seals (`RowSeal.swift`) on every row a decision or an authorization reads, the secret
    // version each key's digest was made with, and the secret versions the vault has known. The
    // Swift step of this migration (`migrate`) seals every row and records the schema's
    // fingerprint in the same transaction, so a vault at version 5 is never unsealed.
    // ADD COLUMN changes no stored row: old rows read the default.
    """
    ALTER TABLE keys ADD COLUMN secret_version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE keys ADD COLUMN seal BLOB;
    ALTER TABLE admins ADD COLUMN seal BLOB;
    ALTER TABLE scopes ADD COLUMN seal BLOB;
    ALTER TABLE meta ADD COLUMN seal BLOB;
    CREATE TABLE secret_versions (
      version INTEGER PRIMARY KEY,
      fingerprint TEXT NOT NULL,
      added_at INTEGER NOT NULL,
      retired_at INTEGER,
      seal BLOB
    );
    INSERT INTO secret_versions (version, fingerprint, added_at)
      SELECT 1, value, COALESCE(CAST(strftime('%s', (SELECT value FROM meta WHERE name = 'created_at')) AS INTEGER), 0)
      FROM meta WHERE name = 'secret_fingerprint';
    INSERT INTO meta (name, value) VALUES ('secret_version', '1');
    """,
    // 6: monitoring (SPEC "Monitoring"). Requests per key, clock hour (UTC; `hour` is seconds since
    // the epoch / 3600) and client address (`ip`, '' for requests that gave none): what the alert
    // rules read, kept 90 days (`sweep` prunes). A key's hour is the sum of its addresses' rows.
    // One table, not one per view: a single `verify` writes one row, and every table costs each
    // process that opens the vault a parse of its schema. These rows replace `usage_daily`, which
    // keeps the days counted before this version until they age out; a day's count is the sum of
    // both. No second index: a stream of decisions inserts a row for each new key, hour and
    // address, and an index would double that work; "when was this address last seen for this
    // key" reads the key's hours backwards and stops at the first, one row away for a familiar
    // address. Working hours (sealed: they decide which alerts fire), per key or per
    // company. Alert states: acknowledgements and e-mail notices, one row per alert id.
    """
    CREATE TABLE usage_hourly (
      key_id TEXT NOT NULL,
      hour INTEGER NOT NULL,
      ip TEXT NOT NULL,
      requests INTEGER NOT NULL,
      errors INTEGER NOT NULL,
      denied INTEGER NOT NULL,
      refused INTEGER NOT NULL,
      first_seen INTEGER NOT NULL,
      last_seen INTEGER NOT NULL,
      PRIMARY KEY (key_id, hour, ip)
    ) WITHOUT ROWID;
    ALTER TABLE keys ADD COLUMN last_ip TEXT;
    CREATE TABLE working_hours (
      subject TEXT PRIMARY KEY,
      hours TEXT NOT NULL,
      tz TEXT NOT NULL,
      set_at INTEGER NOT NULL,
      set_by TEXT NOT NULL,
      seal BLOB
    ) WITHOUT ROWID;
    CREATE TABLE alert_states (
      id TEXT PRIMARY KEY,
      rule TEXT NOT NULL,
      key_id TEXT NOT NULL,
      window_start INTEGER NOT NULL,
      acknowledged_at INTEGER,
      acknowledged_by TEXT,
      recipient TEXT,
      message_id TEXT,
      claimed_at INTEGER,
      notified_at INTEGER
    ) WITHOUT ROWID;
    """,
    // 7: sliding-window rate limits and request budgets (SPEC "Serving decisions over HTTP").
    // A key's window is now the log of the requests it was allowed in the last window
    // (`RateLog.encoded`), which replaces the fixed window's start and count: those cannot be
    // turned into a log, so a key's count starts afresh at the upgrade. A usage-limited key's
    // budget: what is left and when it was last refilled; no row until the key is first used.
    """
    DROP TABLE rate_windows;
    CREATE TABLE rate_windows (
      key_id TEXT PRIMARY KEY,
      log BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE request_budgets (
      key_id TEXT PRIMARY KEY,
      remaining INTEGER NOT NULL,
      refilled_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    """,
  ]

  /// The first version whose rows are sealed.
  static let sealedSince = 5

  /// Applies every migration above the vault's version up to `target`, each in its own IMMEDIATE
  /// transaction. From `sealedSince` on, the same transaction seals what the migration made and
  /// records the new schema's fingerprint (with `sealer`; nil only for the in-memory reference
  /// schema `doctor` compares with).
  static func migrate(_ store: SQLiteStore, upTo target: Int, sealer: RowSealer?) throws(IVKeysError) {
    let db = store.db
    while true {
      let version = Int(try db.scalarInt("PRAGMA user_version") ?? 0)
      guard version < min(target, migrations.count) else { return }
      try db.writeTransaction { () throws(IVKeysError) in
        // Re-read inside the write lock: another process may have migrated meanwhile.
        let current = Int(try db.scalarInt("PRAGMA user_version") ?? 0)
        guard current == version else { return }
        try db.execute(migrations[version])
        try db.execute("PRAGMA user_version = \(version + 1)")  // an integer we computed, not input
        guard version + 1 >= sealedSince, let sealer else { return }
        let previous = store.sealer
        store.sealer = sealer
        defer { store.sealer = previous }
        if version + 1 == sealedSince { try store.resealAll(from: nil, to: sealer) }
        try store.recordSchemaFingerprint()
      }
    }
  }
}
