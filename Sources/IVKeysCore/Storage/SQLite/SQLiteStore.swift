import CSQLite
import Glibc

/// The SQLite engine: a vault in one file, through one `Database` connection. Every SQL text of
/// the vault is in this folder; the extensions beside this file hold the operations by table.
final class SQLiteStore: VaultStore {
  let db: Database
  /// The prepared audit INSERT, kept at hand: bulk create and verify append thousands of entries.
  private var auditInsert: Statement?
  /// The prepared key INSERT, kept at hand likewise: the cache lookup by SQL text hashed its 300
  /// bytes for every key of a bulk create (about 1,400 instructions a key).
  var keyInsert: Statement?
  /// Seals rows as they are written and checks them as they are read; nil without the secret.
  var sealer: RowSealer?

  /// How long a writer waits for another's lock before giving up, in milliseconds.
  static let busyTimeout: Int32 = 10_000

  /// Opens the file at `path`; `fresh` when it was just made, empty, for a new vault. The
  /// connection keeps its WAL on close; checkpoints are taken by `tidy`, which truncates the WAL
  /// (journal_size_limit).
  init(path: String, readOnly: Bool, fresh: Bool) throws(IVKeysError) {
    db = try Database(path: path, readOnly: readOnly)
    db.setBusyTimeout(Self.busyTimeout)
    if fresh {
      // "The WAL journaling mode is persistent; after being set it stays in effect across
      // multiple database connections and after closing and reopening the database."
      try db.execute("PRAGMA journal_mode = WAL")
    } else {
      db.keepWAL()
      try db.execute("PRAGMA journal_size_limit = 0; PRAGMA wal_autocheckpoint = 0")
    }
  }

  /// A store over a connection already open (a backup copy).
  init(database: Database) {
    db = database
    db.setBusyTimeout(Self.busyTimeout)
  }

  var location: String { db.path }
  var isReadOnly: Bool { db.isReadOnly }

  // MARK: - Schema

  func schemaVersion() throws(IVKeysError) -> Int { Int(try db.scalarInt("PRAGMA user_version") ?? 0) }
  var currentSchemaVersion: Int { SQLiteSchema.currentVersion }
  func migrate(sealer: RowSealer?) throws(IVKeysError) {
    try SQLiteSchema.migrate(self, upTo: SQLiteSchema.currentVersion, sealer: sealer)
  }

  func prepareForWriting() throws(IVKeysError) {
    // A vault restored from a backup (which uses a rollback journal) goes back to WAL.
    if !db.isReadOnly, try db.scalarText("PRAGMA journal_mode") != "wal" {
      _ = try db.scalarText("PRAGMA journal_mode = WAL")
    }
  }

  func meta(_ name: String) throws(IVKeysError) -> String? {
    try db.scalarText("SELECT value FROM meta WHERE name = ?", [.text(name)])
  }

  func insertMeta(_ name: String, _ value: String) throws(IVKeysError) {
    try db.run("INSERT INTO meta (name, value) VALUES (?, ?)", [.text(name), .text(value)])
    try resealRow(.meta, name)
  }

  // MARK: - Transactions

  func write<T>(_ body: () throws(IVKeysError) -> T) throws(IVKeysError) -> T {
    // Said plainly up front, before any check that would fail for another reason.
    if db.isReadOnly {
      throw .sqlite(SQLiteError(code: SQLITE_READONLY, message: "attempt to write a readonly database", sql: nil))
    }
    return try db.writeTransaction(body)
  }

  func read<T>(_ body: () throws(IVKeysError) -> T) throws(IVKeysError) -> T {
    try db.readTransaction(body)
  }

  /// `PRAGMA data_version`: "different if changes were committed to the database by any other
  /// connection in the interim". Our own commits leave it alone.
  func externalChangeCounter() throws(IVKeysError) -> Int64? {
    try db.scalarInt("PRAGMA data_version")
  }

  /// Commits use `synchronous = NORMAL`: in WAL mode, SQLite: "a transaction committed in WAL
  /// mode with synchronous=NORMAL might roll back following a power loss or system crash", but
  /// never corrupts the database, and a crash of the process loses nothing. A per-request fsync
  /// would double the cost of a decision. A stream (`batch`) commits once for up to 5,000
  /// decisions, so it can afford to sync (a decision a stream has printed survives a power loss
  /// too), and gets a 64 MiB page cache: it touches thousands of pages per group.
  func tuneForDecisions(batch: Bool) throws(IVKeysError) {
    try db.execute("PRAGMA synchronous = NORMAL")
    if batch { try db.execute("PRAGMA synchronous = FULL; PRAGMA cache_size = -65536") }
  }

  /// A bulk create dirties more pages than SQLite's default 2 MiB cache holds; spilling them
  /// mid-transaction costs more than the memory. Pages are allocated only as they are used.
  func tuneForBulkInsert() throws(IVKeysError) {
    try db.execute("PRAGMA cache_size = -32768")
  }

  /// Copies the WAL into the vault and truncates it once it passes `walBytes`.
  ///
  /// Connections do not checkpoint on close (see `Database.keepWAL`): a command that runs once
  /// per request would otherwise pay three fsyncs on every exit. The WAL is instead kept small
  /// here, because the next process to open the vault reads all of it to rebuild its index.
  /// The checkpoint never waits: with readers in the way SQLite answers SQLITE_BUSY at once
  /// (the busy timeout is lifted for the call) and a later command tries again.
  func tidy(walBytes: Int64) {
    var st = stat()
    guard stat(db.path + "-wal", &st) == 0, Int64(st.st_size) > walBytes, !db.isReadOnly else { return }
    db.setBusyTimeout(0)
    defer { db.setBusyTimeout(Self.busyTimeout) }
    do {
      try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    } catch {
      // SQLITE_BUSY, or a read-only or full disk: nothing is lost, the WAL stays as it was.
    }
  }

  // MARK: - Audit

  func auditTail() throws(IVKeysError) -> (seq: Int64, hash: String)? {
    try db.statement("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").first { row in (row.int(0), row.text(1)) }
  }

  func appendAudit(_ r: AuditRow) throws(IVKeysError) {
    if auditInsert == nil {
      auditInsert = try db.statement(
        "INSERT INTO audit (\(AuditColumn.selectList)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    }
    try auditInsert!.run(
      [
        .int(r.seq), .text(r.at), .text(r.event), .text(r.actor), .text(r.osUser), .optional(r.keyID),
        .optional(r.company), .optional(r.ip), .text(r.detail), .text(r.prevHash), .text(r.hash),
      ])
    // A trigger added outside ivkeys could swallow the row (RAISE(IGNORE)): a decision whose
    // entry was not written must not be given.
    guard db.changes == 1 else {
      throw .tampered("audit entry \(r.seq) was not written (a trigger on the audit table swallowed it)")
    }
  }

  func auditCount() throws(IVKeysError) -> Int64 { try db.scalarInt("SELECT count(*) FROM audit") ?? 0 }
}
