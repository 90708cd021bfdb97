#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSQLite

/// An open vault: the SQLite database, the server secret that keys its digests and audit chain,
/// and the actor on whose behalf changes are made.
public final class Vault {
  public let db: Database
  let secret: SecretFile
  public let actor: Actor
  /// The clock. Tests may replace it; the command line never does.
  public var now: () -> Timestamp = Time.now
  lazy var audit = AuditLog(db: db, key: secret.auditKey)

  init(db: Database, secret: SecretFile, actor: Actor) {
    self.db = db
    self.secret = secret
    self.actor = actor
  }

  /// How long a writer waits for another's lock before giving up, in milliseconds.
  static let busyTimeout: Int32 = 10_000

  /// Opens an existing vault and checks it against the secret. `inspecting` opens it read-only
  /// and changes nothing (no migration, no file modes fixed): for `doctor`.
  public static func open(path: String, secretPath: String, actor: Actor, inspecting: Bool = false) throws(IVKeysError) -> Vault {
    guard FileSystem.exists(path) else {
      throw .vault("no vault at \(path)", hint: "run 'ivkeys init' to create one, or point --vault or IVKEYS_VAULT at it")
    }
    let secret = try SecretFile.load(path: secretPath)
    let db = try Database(path: path, readOnly: inspecting)
    db.setBusyTimeout(busyTimeout)
    db.keepWAL()
    // Checkpoints are taken by `checkpointIfLarge`, which truncates the WAL (journal_size_limit).
    try db.execute("PRAGMA journal_size_limit = 0; PRAGMA wal_autocheckpoint = 0")
    let version = Int(try db.scalarInt("PRAGMA user_version") ?? 0)
    if version > Schema.currentVersion {
      throw .vault(
        "the vault \(path) has schema version \(version), newer than this ivkeys understands (\(Schema.currentVersion))",
        hint: "upgrade ivkeys; older binaries never write to newer vaults")
    }
    if version == 0 {
      throw .vault("\(path) is not an ivkeys vault (it has no ivkeys schema)", hint: "check --vault or IVKEYS_VAULT")
    }
    // The secret is checked before anything is written, migrations included: a wrong secret
    // file must not change the vault.
    let recorded = try db.scalarText("SELECT value FROM meta WHERE name = 'secret_fingerprint'") ?? ""
    let expected = secret.fingerprint
    guard Crypto.constantTimeEqual(Array(recorded.utf8), Array(expected.utf8)) else {
      throw .secret(
        "the secret file \(secretPath) does not match the vault \(path) (fingerprint \(expected), the vault expects \(recorded))",
        hint: "use the secret file this vault was created with (--secret-file or IVKEYS_SECRET_FILE)")
    }
    if inspecting { return Vault(db: db, secret: secret, actor: actor) }
    if version < Schema.currentVersion {
      try Schema.migrate(db)
    }
    // A vault restored from a backup (which uses a rollback journal) goes back to WAL.
    if !db.isReadOnly, try db.scalarText("PRAGMA journal_mode") != "wal" {
      _ = try db.scalarText("PRAGMA journal_mode = WAL")
    }
    let vault = Vault(db: db, secret: secret, actor: actor)
    vault.notices = tightenModes(path)
    return vault
  }

  /// Warnings the command layer should show (for example a file mode that was fixed).
  public internal(set) var notices: [String] = []

  /// The vault and its `-wal`/`-shm` files are the owner's alone (SPEC: 0600 whatever the umask).
  /// A looser mode is fixed when we own the file and reported either way.
  static func tightenModes(_ path: String) -> [String] {
    var notices = [String]()
    for file in [path, path + "-wal", path + "-shm"] {
      var st = stat()
      guard stat(file, &st) == 0, st.st_mode & 0o077 != 0 else { continue }
      let before = String(st.st_mode & 0o777, radix: 8)
      if st.st_uid == geteuid() && chmod(file, 0o600) == 0 {
        notices.append("\(file) was mode \(before); it is now 600")
      } else {
        notices.append("\(file) is mode \(before), open to group or others; chmod 600 \(file)")
      }
    }
    return notices
  }


  /// What `init` created.
  public struct Initialized: Sendable {
    public let vaultPath: String
    public let secretPath: String
    public let fingerprint: String
    public let administrator: String
  }

  /// Creates the secret file and the vault, with its first administrator (the OS user), its
  /// scope catalog and a `vault.initialized` audit entry. Refuses to overwrite either file; when
  /// creating the vault fails, the new secret is removed again so nothing is left half-made.
  public static func initialize(path: String, secretPath: String, actor: Actor, now: Timestamp = Time.now())
    throws(IVKeysError) -> Initialized
  {
    guard path != secretPath else {
      throw .usage("the vault and the secret file cannot be the same file (\(path))", hint: "keep the secret apart from the vault")
    }
    if FileSystem.exists(path) {
      throw .conflict("a vault already exists at \(path); refusing to overwrite it", hint: "pass --vault for a new vault elsewhere")
    }
    if FileSystem.exists(secretPath) {
      throw .conflict(
        "a secret file already exists at \(secretPath); refusing to overwrite it",
        hint: "pass --secret-file for a new one; a secret is never reused for a second vault")
    }
    let vaultDir = FileSystem.directory(of: path)
    let secretDir = FileSystem.directory(of: secretPath)
    try FileSystem.makeDirectories(vaultDir)
    try FileSystem.makeDirectories(secretDir)
    let secret = try SecretFile.create(path: secretPath)
    var createdVault = false
    do {
      try FileSystem.createExclusive(
        path, what: "the vault",
        exists: .conflict("a vault already exists at \(path); refusing to overwrite it", hint: "pass --vault for a new vault elsewhere"))
      createdVault = true
      let db = try Database(path: path)
      db.setBusyTimeout(busyTimeout)
      // "The WAL journaling mode is persistent; after being set it stays in effect across
      // multiple database connections and after closing and reopening the database."
      try db.execute("PRAGMA journal_mode = WAL")
      try Schema.migrate(db)
      let vault = Vault(db: db, secret: secret, actor: actor)
      vault.now = { now }
      try db.writeTransaction { () throws(IVKeysError) in
        try db.run("INSERT INTO meta (name, value) VALUES ('secret_fingerprint', ?)", [.text(secret.fingerprint)])
        try db.run("INSERT INTO meta (name, value) VALUES ('created_at', ?)", [.text(Time.rfc3339(now))])
        for (name, description) in Scopes.seed {
          try db.run(
            "INSERT INTO scopes (name, description, added_at, added_by) VALUES (?, ?, ?, ?)",
            [.text(name), .text(description), .int(now), .text("ivkeys")])
        }
        try db.run(
          "INSERT INTO admins (user, added_at, added_by) VALUES (?, ?, ?)",
          [.text(actor.osUser), .int(now), .text(actor.actor)])
        try vault.audit.append(
          AuditEntry(
            event: "vault.initialized",
            detail: .object([
              ("schema_version", .int(Int64(Schema.currentVersion))),
              ("secret_fingerprint", .string(secret.fingerprint)),
              ("administrator", .string(actor.osUser)),
            ])), actor: actor, at: now)
      }
      return Initialized(vaultPath: path, secretPath: secretPath, fingerprint: secret.fingerprint, administrator: actor.osUser)
    } catch {
      unlink(secretPath)
      if createdVault {
        unlink(path)
        unlink(path + "-wal")
        unlink(path + "-shm")
      }
      throw error
    }
  }

  /// HMAC-SHA256 of the whole key string, keyed with the server secret: what the vault stores.
  public func digest(_ key: APIKey) -> [UInt8] {
    Crypto.hmacSHA256(key: secret.digestKey, string: key.string)
  }

  /// Runs `body` in one IMMEDIATE transaction with the audit chain's tail loaded.
  public func write<T>(_ body: () throws(IVKeysError) -> T) throws(IVKeysError) -> T {
    // Said plainly up front, before any check that would fail for another reason.
    if db.isReadOnly {
      throw .sqlite(SQLiteError(code: SQLITE_READONLY, message: "attempt to write a readonly database", sql: nil))
    }
    return try db.writeTransaction { () throws(IVKeysError) -> T in
      try audit.loadTail()
      return try body()
    }
  }

  /// The WAL size past which a write ends with a checkpoint.
  public var walCheckpointBytes: Int64 = 512 << 10

  /// Copies the WAL into the vault and truncates it once it passes `bytes` (by default
  /// `walCheckpointBytes`). The command layer calls this after a command's output is written.
  ///
  /// Connections do not checkpoint on close (see `Database.keepWAL`): a command that runs once
  /// per request would otherwise pay three fsyncs on every exit. The WAL is instead kept small
  /// here, because the next process to open the vault reads all of it to rebuild its index.
  /// The checkpoint never waits: with readers in the way SQLite answers SQLITE_BUSY at once
  /// (the busy timeout is lifted for the call) and a later command tries again.
  public func checkpointIfLarge(bytes: Int64? = nil) {
    var st = stat()
    guard stat(db.path + "-wal", &st) == 0, Int64(st.st_size) > (bytes ?? walCheckpointBytes), !db.isReadOnly else { return }
    db.setBusyTimeout(0)
    defer { db.setBusyTimeout(Vault.busyTimeout) }
    do {
      try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    } catch {
      // SQLITE_BUSY, or a read-only or full disk: nothing is lost, the WAL stays as it was.
    }
  }

  /// Appends an audit entry; only inside `write`.
  func record(_ entry: AuditEntry, at: Timestamp? = nil) throws(IVKeysError) {
    try audit.append(entry, actor: actor, at: at ?? now())
  }

  /// The vault's secret fingerprint.
  public var fingerprint: String { secret.fingerprint }
}
