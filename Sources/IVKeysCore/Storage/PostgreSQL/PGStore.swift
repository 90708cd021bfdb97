/// The PostgreSQL engine: a vault shared by many hosts, through one `PGConnection`. Every SQL
/// text of it is in this folder; the extensions beside this file hold the operations by table.
///
/// Transactions: every write transaction first locks the one row of `audit_head` (and counts a
/// generation on it), so writers on every host take turns, as SQLite's `BEGIN IMMEDIATE` makes
/// them on one; statements after the lock see every commit before it (READ COMMITTED), so the
/// audit tail read inside is the tail the next entry follows. A read runs in one REPEATABLE READ
/// snapshot. Audit entries, new keys and usage counts are queued and sent together before the
/// next read or the COMMIT (`PGConnection.flush`).
final class PGStore: VaultStore {
  let db: PGConnection
  /// The URL as the user named it, a password in it masked.
  let location: String
  /// The URL itself, for a second connection (`deferCommitSyncs`); never shown.
  let url: String
  let isReadOnly: Bool
  var sealer: RowSealer?
  /// Set by `migrate` on a new vault: the transaction that creates the tables stays open for the
  /// first `write`, so a failed `init` leaves nothing behind.
  private var creating = false
  /// Whether a `write` is running.
  private(set) var writing = false
  /// The head's generation as this connection last knew it (after its own commits).
  private var knownGeneration: Int64?
  /// Cursors opened so far, to name the next.
  var cursors = 0
  /// How many times another connection was found to have committed.
  private var externalChanges: Int64 = 0

  /// Connects to the vault at `url`. `readOnly`: every transaction is read-only (doctor, a
  /// reader without the secret).
  init(url: String, readOnly: Bool) throws(IVKeysError) {
    location = VaultLocation.masked(url)
    self.url = url
    // Fail fast rather than queue behind a stuck writer forever (the same 10 s as SQLite's busy
    // timeout). No idle-in-transaction limit: a listing piped into a pager reads through a cursor
    // in one transaction for as long as the reader takes.
    db = try PGConnection(url, options: readOnly ? Self.session + " -c default_transaction_read_only=on" : Self.session)
    isReadOnly = readOnly
  }

  /// Rows are read as this engine writes them (bytea in hex, text in UTF-8) whatever the
  /// server's defaults.
  static let session = "-c lock_timeout=10s -c bytea_output=hex -c client_encoding=UTF8"

  /// Runs `body`, turning a failure of the server into the error an administrator reads.
  @discardableResult
  func pg<T>(_ body: () throws(PGConnection.Failure) -> T) throws(IVKeysError) -> T {
    do {
      return try body()
    } catch {
      throw Self.error(error)
    }
  }

  /// Queues a row of a multi-row INSERT (`PGConnection.enqueueInsert`).
  func queue(_ insert: PGConnection.Insert, _ row: [String?], what: String) throws(IVKeysError) {
    try pg { () throws(PGConnection.Failure) in try db.enqueueInsert(insert, row, what: what) }
  }

  static func error(_ f: PGConnection.Failure) -> IVKeysError {
    switch f.sqlState {
    case PGConnection.Failure.rowsMissing: return .tampered(f.message)
    case "42501":
      return .vault(
        "the PostgreSQL vault refused: \(f.message)",
        hint: "this database role may not do that; administrators use a role granted ivkeys_admin (ivkeys init --roles)"
      )
    case "25006":
      return .vault(
        "the PostgreSQL vault refused: \(f.message)", hint: "the server or this session is read-only: use the primary")
    case "55P03", "57014":
      return .vault(
        "the PostgreSQL vault is busy: \(f.message)", hint: "another writer held the vault's lock for 10 s; try again")
    case let s where s.hasPrefix("08") || s.hasPrefix("57P"):
      return .vault(
        "lost the connection to the PostgreSQL vault: \(f.message)",
        hint: "nothing of this command was committed unless it said so; check the server and try again")
    default:
      return .vault("the PostgreSQL vault refused: \(f.message) (SQLSTATE \(f.sqlState))")
    }
  }

  // MARK: - Schema

  func schemaVersion() throws(IVKeysError) -> Int {
    try pg { () throws(PGConnection.Failure) in try PostgreSQLSchema.version(db) }
  }

  var currentSchemaVersion: Int { PostgreSQLSchema.currentVersion }

  /// Migrates in one transaction that also records the schema's sealed fingerprint. On a new
  /// vault (`creating`), the transaction stays open for `init`'s first write.
  func migrate(sealer: RowSealer?) throws(IVKeysError) {
    let fresh = try schemaVersion() == 0
    try pg { () throws(PGConnection.Failure) in try db.execute("BEGIN ISOLATION LEVEL READ COMMITTED") }
    do throws(IVKeysError) {
      let from = try PostgreSQLSchema.apply(db)
      if from == 0, sealer != nil { try resealRow(.meta, "secret_version") }
      if from < currentSchemaVersion, sealer != nil { try recordSchemaFingerprint() }
      if fresh {
        creating = true
        return
      }
      try pg { () throws(PGConnection.Failure) in try db.execute("COMMIT") }
    } catch {
      rollback()
      throw error
    }
  }

  func prepareForWriting() throws(IVKeysError) {}

  // MARK: - Transactions

  func write<T>(_ body: () throws(IVKeysError) -> T) throws(IVKeysError) -> T {
    if isReadOnly { throw .vault("the vault \(location) was opened read-only") }
    if writing { return try body() }
    let begin = !creating
    creating = false
    writing = true
    defer { writing = false }
    do throws(IVKeysError) {
      // READ COMMITTED whatever the database's default: after the head's lock, each statement
      // sees what the writer before committed (REPEATABLE READ would fail the waiter instead).
      if begin { try pg { () throws(PGConnection.Failure) in try db.execute("BEGIN ISOLATION LEVEL READ COMMITTED") } }
      let generation = try pg { () throws(PGConnection.Failure) in
        try db.query("UPDATE audit_head SET generation = generation + 1 RETURNING generation").first?.int(0)
      }
      guard let generation else { throw IVKeysError.tampered("the audit log's head row is missing") }
      observe(generation - 1)
      let result = try body()
      try pg { () throws(PGConnection.Failure) in
        try db.flush()
        try db.execute("COMMIT")
      }
      knownGeneration = generation
      return result
    } catch {
      rollback()
      throw error
    }
  }

  /// Rolls back whatever is open, dropping what was queued; never throws.
  func rollback() {
    db.discardQueued()
    creating = false
    if db.inTransaction { try? db.executeNow("ROLLBACK") }
  }

  func read<T>(_ body: () throws(IVKeysError) -> T) throws(IVKeysError) -> T {
    if db.inTransaction { return try body() }
    try pg { () throws(PGConnection.Failure) in try db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") }
    do throws(IVKeysError) {
      let result = try body()
      try pg { () throws(PGConnection.Failure) in try db.execute("COMMIT") }
      return result
    } catch {
      rollback()
      throw error
    }
  }

  /// Notes the head's generation: a value this connection did not leave there means another
  /// committed since.
  private func observe(_ generation: Int64) {
    if let known = knownGeneration, known != generation { externalChanges += 1 }
    knownGeneration = generation
  }

  func externalChangeCounter() throws(IVKeysError) -> Int64? {
    if !writing {
      let g = try pg { () throws(PGConnection.Failure) in
        try db.query("SELECT generation FROM audit_head").first?.int(0)
      }
      if let g { observe(g) }
    }
    return externalChanges
  }

  /// Every decision is committed with `synchronous_commit` as the server sets it; a stream
  /// needs nothing more.
  func tuneForDecisions(batch: Bool) throws(IVKeysError) {}
  func tuneForBulkInsert() throws(IVKeysError) {}
  func tidy(walBytes: Int64) {}

  // MARK: - Meta

  func meta(_ name: String) throws(IVKeysError) -> String? {
    try pg { () throws(PGConnection.Failure) in
      try db.query("SELECT value FROM meta WHERE name = $1", [name]).first?.text(0)
    }
  }

  func insertMeta(_ name: String, _ value: String) throws(IVKeysError) {
    try pg { () throws(PGConnection.Failure) in
      try db.query("INSERT INTO meta (name, value) VALUES ($1, $2)", [name, value])
    }
    try resealRow(.meta, name)
  }

  func setMeta(_ name: String, _ value: String) throws(IVKeysError) {
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [name, value])
    }
    try resealRow(.meta, name)
  }

  // MARK: - Audit

  func auditTail() throws(IVKeysError) -> (seq: Int64, hash: String)? {
    try pg { () throws(PGConnection.Failure) in
      try db.query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").first.map { ($0.int(0), $0.text(1)) }
    }
  }

  static let auditInsert = PGConnection.Insert(
    table: "audit",
    columns: [
      ("seq", "bigint"), ("at", "text"), ("event", "text"), ("actor", "text"), ("os_user", "text"),
      ("key_id", "text"), ("company", "text"), ("ip", "text"), ("detail", "text"), ("prev_hash", "text"),
      ("hash", "text"),
    ], suffix: "")

  /// Queued: sent with the transaction's next statement or its COMMIT. A row a trigger swallowed
  /// fails the transaction, so a decision whose entry was not written is never given.
  func appendAudit(_ r: AuditRow) throws(IVKeysError) {
    try queue(
      Self.auditInsert,
      [
        String(r.seq), r.at, r.event, r.actor, r.osUser, r.keyID, r.company, r.ip, r.detail, r.prevHash, r.hash,
      ], what: "audit entries were not written (a trigger on the audit table swallowed them)")
  }

  func auditCount() throws(IVKeysError) -> Int64 {
    try pg { () throws(PGConnection.Failure) in try db.query("SELECT count(*) FROM audit").first?.int(0) ?? 0 }
  }
}
