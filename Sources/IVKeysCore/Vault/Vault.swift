import Glibc

/// How a vault is opened: the one place that decides what an opening checks and may change.
public enum VaultAccess: Sendable {
  /// To change it: the secret must match, migrations are applied, loose file modes are fixed.
  case write
  /// To read it. With the secret file, as `write`. Without one (an auditor holding only a copy of
  /// the vault): read-only, nothing changed, and nothing that needs the secret can be done or
  /// checked (the audit chain, the secret's fingerprint, changes). A secret file that exists
  /// but does not match still fails.
  case read
  /// To look at it as it is (`doctor`): the secret must match; the vault is opened read-only and
  /// nothing is changed: no migration, no file mode fixed.
  case inspect
  /// To decide requests (`verify`): as `write`, with the cheap schema check (SQLite's schema
  /// cookie first, the whole schema only when it moved), since some gateways start one process a
  /// request. Every other writer compares the whole schema.
  case decide
}

/// An open vault: its store, the server secret that keys its digests and audit chain, and the
/// actor on whose behalf changes are made.
public final class Vault {
  let store: any VaultStore
  /// The secret file's versions; nil only for a vault opened to `read` without its secret file.
  var secretFile: SecretFile?
  /// The version the vault is on: it keys new digests, the seals and the audit chain.
  var secret: SecretVersion?
  /// Where the secret file is.
  let secretPath: String
  public let actor: Actor
  /// How the vault was opened.
  var openedFor: VaultAccess = .write
  /// The store's external change counter when the vault's state was last checked (opening, or
  /// the start of a write); nil when unknown.
  var checkedChangeCounter: Int64?
  /// Counts the changes by others that any write of this vault has seen: a cache of vault state
  /// (the Verifier's) keeps the epoch it was filled at and is dropped when this moves on, even
  /// if the write that saw the change was not its own (a health probe, a usage flush).
  public internal(set) var externalChangeEpoch = 0
  /// The clock. Tests may replace it; the command line never does.
  public var now: () -> Timestamp = Time.now
  /// The clock in milliseconds, for sliding rate-limit windows. Tests may replace it.
  public var nowMilliseconds: () -> Int64 = Time.nowMilliseconds
  /// The audit chain's writer; nil without the secret.
  private(set) lazy var audit: AuditLog? = secret.map { AuditLog(store: store, key: $0.auditKey) }

  init(store: any VaultStore, secretFile: SecretFile?, version: SecretVersion?, secretPath: String, actor: Actor) {
    self.store = store
    self.secretFile = secretFile
    self.secret = version
    self.secretPath = secretPath
    self.actor = actor
    if let version { store.sealer = RowSealer(key: version.sealKey, version: version.number) }
  }

  /// Whether the secret was read: false only for `read` access without a secret file.
  public var secretAvailable: Bool { secret != nil }

  /// Warnings the command layer should show (a file mode that was fixed, a secret not read).
  public internal(set) var notices: [String] = []

  /// The path of the vault.
  public var path: String { store.location }

  // MARK: - Opening

  /// Opens an existing vault for `access`: checks that it is a vault this binary understands
  /// and that the secret matches it before anything is written (migrations included: a wrong
  /// secret file must not change the vault).
  public static func open(path: String, secretPath: String, actor: Actor, access: VaultAccess = .write)
    throws(IVKeysError) -> Vault
  {
    let postgres = VaultLocation.isPostgres(path)
    // As messages name it: a password from IVKEYS_VAULT is never printed.
    let shown = postgres ? VaultLocation.masked(path) : path
    guard postgres || FileSystem.exists(path) else {
      throw .vault(
        "no vault at \(path)", hint: "run 'ivkeys init' to create one, or point --vault or IVKEYS_VAULT at it")
    }
    let file: SecretFile?
    if access == .read && !FileSystem.exists(secretPath) {
      file = nil
    } else {
      file = try SecretFile.load(path: secretPath, forVault: shown)
    }
    let readOnly = access == .inspect || file == nil
    let store = try VaultStores.open(path, readOnly: readOnly)
    let version = try checkSchema(store, path: store.location)
    guard let file else {
      if version < store.currentSchemaVersion {
        throw .vault(
          "the vault \(shown) has schema version \(version) and needs migrating to \(store.currentSchemaVersion), "
            + "which takes its secret file",
          hint: "open it once with its secret (--secret-file or IVKEYS_SECRET_FILE), or read a copy made since")
      }
      let vault = Vault(store: store, secretFile: nil, version: nil, secretPath: secretPath, actor: actor)
      vault.notices = [Self.noSecretNotice(secretPath)]
      return vault
    }
    // The change counter before the settings: a commit in between (a secret rotation) is seen by
    // the first write, which then checks the vault again.
    let counter = try store.externalChangeCounter()
    // One read of the settings an opening checks (a vault older than its seals has no seal column).
    var settings = version >= SQLiteSchema.sealedSince ? try store.openingSettings() : nil
    let current = try checkFingerprint(store, file, path: shown, secretPath: secretPath, settings: settings)
    let vault = Vault(store: store, secretFile: file, version: current, secretPath: secretPath, actor: actor)
    vault.openedFor = access
    if access == .inspect { return vault }
    if version < store.currentSchemaVersion {
      if version < SQLiteSchema.sealedSince { try vault.refuseRolledBackSchema(version) }
      try store.migrate(sealer: store.sealer)
      settings = try store.openingSettings()
      if version < SQLiteSchema.sealedSince { try vault.recordSealing(from: version) }
    }
    // A command that changes the vault, or decides from it, refuses a schema changed outside
    // ivkeys; one that only reads it (list, show, audit verify) still shows what is there.
    if access == .write || access == .decide {
      do {
        try vault.checkSeals(settings)
        vault.checkedChangeCounter = counter
      } catch {
        if case .tampered = error { vault.recordTamper(error) }
        throw error
      }
    }
    try store.prepareForWriting()
    if !postgres { vault.notices = tightenModes(path) }
    return vault
  }

  /// What a vault read without its secret cannot tell.
  static func noSecretNotice(_ secretPath: String) -> String {
    "no secret file at \(secretPath): reading without it; the audit chain and the secret's fingerprint cannot be checked"
  }

  /// The vault's schema version, refused when it is not a vault or newer than this binary.
  static func checkSchema(_ store: any VaultStore, path: String) throws(IVKeysError) -> Int {
    let version = try store.schemaVersion()
    if version > store.currentSchemaVersion {
      throw .vault(
        "the vault \(path) has schema version \(version), newer than this ivkeys understands (\(store.currentSchemaVersion))",
        hint: "upgrade ivkeys; older binaries never write to newer vaults")
    }
    if version == 0 {
      if VaultLocation.isPostgres(path) {
        throw .vault(
          "no vault at \(path) (the database has no ivkeys tables)",
          hint: "run 'ivkeys init' to create one, or check --vault or IVKEYS_VAULT")
      }
      throw .vault("\(path) is not an ivkeys vault (it has no ivkeys schema)", hint: "check --vault or IVKEYS_VAULT")
    }
    return version
  }

  /// The secret version the vault is on, from the file: refused when the file lacks it or its
  /// fingerprint is not the one the vault recorded.
  static func checkFingerprint(
    _ store: any VaultStore, _ file: SecretFile, path: String, secretPath: String, settings: OpeningSettings? = nil
  ) throws(IVKeysError) -> SecretVersion {
    let recorded: String
    let number: Int
    if let settings {
      recorded = settings.secretFingerprint?.value ?? ""
      number = Int(settings.secretVersion?.value ?? "1") ?? 0
    } else {
      recorded = try store.meta("secret_fingerprint") ?? ""
      number = Int(try store.meta("secret_version") ?? "1") ?? 0
    }
    guard let secret = file.version(number) else {
      throw .secret(
        "the secret file \(secretPath) does not hold secret version \(number), which the vault \(path) is on",
        hint: "use the secret file written by the last 'ivkeys secret rotate' (--secret-file or IVKEYS_SECRET_FILE)")
    }
    let expected = secret.fingerprint
    guard Crypto.constantTimeEqual(Array(recorded.utf8), Array(expected.utf8)) else {
      throw .secret(
        "the secret file \(secretPath) does not match the vault \(path) (fingerprint \(expected), the vault expects \(recorded))",
        hint: "use the secret file this vault was created with (--secret-file or IVKEYS_SECRET_FILE)")
    }
    return secret
  }

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

  // MARK: - Creating

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
      throw .usage(
        "the vault and the secret file cannot be the same file (\(path))", hint: "keep the secret apart from the vault")
    }
    if FileSystem.exists(path) {
      throw .conflict(
        "a vault already exists at \(path); refusing to overwrite it", hint: "pass --vault for a new vault elsewhere")
    }
    if FileSystem.exists(secretPath) {
      throw .conflict(
        "a secret file already exists at \(secretPath); refusing to overwrite it",
        hint: "pass --secret-file for a new one; a secret is never reused for a second vault")
    }
    if VaultLocation.isPostgres(path) {
      return try initializeShared(url: path, secretPath: secretPath, actor: actor, now: now)
    }
    let vaultDir = FileSystem.directory(of: path)
    let secretDir = FileSystem.directory(of: secretPath)
    try FileSystem.makeDirectories(vaultDir)
    try FileSystem.makeDirectories(secretDir)
    let file = try SecretFile.create(path: secretPath)
    var createdVault = false
    do {
      try FileSystem.createExclusive(
        path, what: "the vault",
        exists: .conflict(
          "a vault already exists at \(path); refusing to overwrite it", hint: "pass --vault for a new vault elsewhere")
      )
      createdVault = true
      let store = try VaultStores.open(path, readOnly: false, fresh: true)
      return try seed(store, file, secretPath: secretPath, actor: actor, now: now)
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

  /// `initialize` on a PostgreSQL database: refused when it holds ivkeys tables already. The
  /// tables and first rows are made in one transaction, so a failure leaves none behind (and
  /// the new secret file is removed).
  static func initializeShared(url: String, secretPath: String, actor: Actor, now: Timestamp)
    throws(IVKeysError) -> Initialized
  {
    let store = try VaultStores.open(url, readOnly: false)
    if try store.schemaVersion() > 0 {
      throw .conflict(
        "a vault already exists at \(store.location); refusing to overwrite it",
        hint: "name another database in --vault, or refresh its roles with 'ivkeys init --roles'")
    }
    try FileSystem.makeDirectories(FileSystem.directory(of: secretPath))
    let file = try SecretFile.create(path: secretPath)
    do {
      return try seed(store, file, secretPath: secretPath, actor: actor, now: now)
    } catch {
      unlink(secretPath)
      throw error
    }
  }

  /// The new vault's schema and first rows: its secret's fingerprint, the scope catalog, the
  /// first administrator and `vault.initialized`.
  private static func seed(
    _ store: any VaultStore, _ file: SecretFile, secretPath: String, actor: Actor, now: Timestamp
  )
    throws(IVKeysError) -> Initialized
  {
    let secret = file.newest
    let vault = Vault(store: store, secretFile: file, version: secret, secretPath: secretPath, actor: actor)
    try store.migrate(sealer: store.sealer)
    vault.now = { now }
    try vault.write { () throws(IVKeysError) in
      try store.insertMeta("secret_fingerprint", secret.fingerprint)
      try store.insertMeta("created_at", Time.rfc3339(now))
      try store.insertSecretVersion(secret.number, fingerprint: secret.fingerprint, at: now)
      for (name, description) in Scopes.seed {
        try store.insertScope(name, description: description, at: now, by: "ivkeys")
      }
      try store.insertAdministrator(actor.osUser, at: now, by: actor.actor)
      try vault.record(
        AuditEntry(
          event: .vaultInitialized,
          detail: .object([
            ("schema_version", .int(Int64(store.currentSchemaVersion))),
            ("secret_fingerprint", .string(secret.fingerprint)),
            ("administrator", .string(actor.osUser)),
          ])), at: now)
    }
    return Initialized(
      vaultPath: store.location, secretPath: secretPath, fingerprint: secret.fingerprint, administrator: actor.osUser)
  }

  /// HMAC-SHA256 of the whole key string, keyed with the server secret: what the vault stores.
  /// Without the secret there is nothing to compare with: an empty digest, which matches no key
  /// (and `Verifier` refuses such a vault before it gets here).
  public func digest(_ key: APIKey) -> [UInt8] {
    guard let secret else { return [] }
    return Crypto.hmacSHA256(key: secret.digestKey, string: key.string)
  }

  /// The digest of `key` under secret version `version`; nil when the secret file no longer holds
  /// that version (retired: no key of it can be verified).
  func digest(_ key: APIKey, version: Int) -> [UInt8]? {
    if version == secret?.number { return digest(key) }
    guard let v = secretFile?.version(version) else { return nil }
    return Crypto.hmacSHA256(key: v.digestKey, string: key.string)
  }

  /// The secret, or an error saying `what` needs it.
  func requireSecret(_ what: String) throws(IVKeysError) -> SecretVersion {
    guard let secret else {
      throw .secret(
        "\(what) needs the vault's secret file, and this vault was opened without it",
        hint: "point --secret-file or IVKEYS_SECRET_FILE at the secret this vault was created with")
    }
    return secret
  }

  // MARK: - Transactions

  /// Runs `body` in one write transaction with the audit chain's tail loaded.
  public func write<T>(_ body: () throws(IVKeysError) -> T) throws(IVKeysError) -> T {
    _ = try requireSecret("changing the vault")
    return try store.write { () throws(IVKeysError) -> T in
      try checkExternalChange()
      try audit?.loadTail()
      return try body()
    }
  }

  /// The WAL size past which a write ends with a checkpoint.
  public var walCheckpointBytes: Int64 = 512 << 10

  /// Lets the store tidy up once a command's output is written (SQLite: checkpoints the WAL once
  /// it passes `bytes`, by default `walCheckpointBytes`; see `SQLiteStore.tidy`).
  public func checkpointIfLarge(bytes: Int64? = nil) {
    store.tidy(walBytes: bytes ?? walCheckpointBytes)
  }

  /// For a long-running writer (`serve`): commits stop waiting for the disk, and the returned
  /// syncer makes them durable from a thread of its own (`VaultStore.deferCommitSyncs`); the
  /// vault no longer checkpoints after commands (`checkpointIfLarge`), the checkpointer does.
  /// Nil when the engine's commits wait themselves.
  public func deferCommitSyncs() throws(IVKeysError) -> (any CommitSyncing)? {
    guard let syncer = try store.deferCommitSyncs() else { return nil }
    walCheckpointBytes = .max
    return syncer
  }

  /// For a long-running writer: keeps the WAL short from a thread of its own
  /// (`VaultStore.openCheckpointer`); nil when the engine needs none.
  public func openCheckpointer() throws(IVKeysError) -> (any Checkpointing)? { try store.openCheckpointer() }

  /// Appends an audit entry; only inside `write`.
  func record(_ entry: AuditEntry, at: Timestamp? = nil) throws(IVKeysError) {
    guard let audit else {
      // Unreachable through `write`, which needs the secret; never skip an entry silently.
      throw .secret("cannot record an audit entry: the vault was opened without its secret file")
    }
    try audit.append(entry, actor: actor, at: at ?? now())
  }

  /// The vault's secret fingerprint, or nil when it was opened without the secret.
  public var fingerprint: String? { secret?.fingerprint }

  /// The secret version the vault is on, or nil when it was opened without the secret.
  public var secretVersion: Int? { secret?.number }
}
