/// One of `doctor`'s checks.
public struct HealthCheck: Sendable {
  public let name: String
  public let ok: Bool
  public let message: String
  public let hint: String?
}

/// The checks `ivkeys doctor` runs, each independent of the others' outcome.
public enum Doctor {
  /// What the checks share: where the vault and secret are, and what earlier checks opened.
  struct Context {
    let vaultPath: String
    let secretPath: String
    let actor: Actor
    let now: Timestamp
    var secret: SecretFile?
    var vault: Vault?
    var checks: [HealthCheck] = []

    mutating func add(_ name: String, _ ok: Bool, _ message: String, hint: String? = nil) {
      checks.append(Doctor.check(name, ok, message, hint: hint))
    }

    /// Runs a check that needs the vault opened with its secret; reports `missing` if it is not.
    mutating func withVault(_ name: String, missing: String, _ body: (Vault) throws(IVKeysError) -> HealthCheck) {
      guard let vault else {
        add(name, false, missing)
        return
      }
      do {
        checks.append(try body(vault))
      } catch {
        add(name, false, error.description, hint: error.hint)
      }
    }
  }

  /// Runs every check. Nothing here throws: a check that cannot run is reported as failed.
  public static func run(vaultPath: String, secretPath: String, actor: Actor, now: Timestamp = Time.now())
    -> [HealthCheck]
  {
    var c = Context(vaultPath: vaultPath, secretPath: secretPath, actor: actor, now: now)
    guard checkFiles(&c) else { return c.checks }
    if !VaultLocation.isPostgres(vaultPath) { checkBackupLeftovers(&c) }
    checkSecretFile(&c)
    guard checkIntegrityAndSchema(&c) else { return c.checks }
    checkFingerprint(&c)
    // Each check below reports its own failure: one cannot hide another.
    let missing =
      c.secret == nil
      ? "not checked: the secret file could not be read" : "not checked: the vault could not be opened with this secret"
    c.withVault("sealed schema", missing: missing, sealedSchema)
    c.withVault("seals", missing: missing, seals)
    c.withVault("append-only audit", missing: missing) { v throws(IVKeysError) in
      let ok = try v.store.auditIsAppendOnly()
      return check(
        "append-only audit", ok,
        ok
          ? "the audit table's triggers refuse edits and deletions"
          : "the audit table's triggers against edits and deletions are missing: someone dropped them",
        hint: "treat the log as tampered with; 'ivkeys audit verify --expect-head' against a head kept elsewhere")
    }
    c.withVault("audit chain", missing: missing) { v throws(IVKeysError) in
      let audit = try v.verifyAudit()
      return check("audit chain", audit.intact, audit.message, hint: "restore the vault from a backup that verifies")
    }
    c.withVault("audit covers keys", missing: missing, auditCoversKeys)
    c.withVault("rotation graces", missing: missing) { v throws(IVKeysError) in
      let stale = try v.store.staleRotations(now: now)
      return check(
        "rotation graces", stale == 0,
        stale == 0
          ? "no key is still recorded as rotating after its grace ended"
          : "\(stale) \(stale == 1 ? "key's" : "keys'") rotation grace ended, still recorded as rotating "
            + "or suspended (verify already refuses them)",
        hint: "'ivkeys sweep' records them as revoked (run it from cron)")
    }
    return c.checks
  }

  static func check(_ name: String, _ ok: Bool, _ message: String, hint: String?) -> HealthCheck {
    HealthCheck(name: name, ok: ok, message: message, hint: ok ? nil : hint)
  }

  // MARK: - The checks

  /// File modes, before anything opens the vault (opening fixes what it can). False when there
  /// is no vault: nothing else can be checked.
  static func checkFiles(_ c: inout Context) -> Bool {
    if VaultLocation.isPostgres(c.vaultPath) { return checkServer(&c) }
    var loose = [String]()
    var modes = [String]()
    let dir = FileSystem.directory(of: c.vaultPath)
    for file in [c.vaultPath, c.vaultPath + "-wal", c.vaultPath + "-shm", dir] {
      guard let mode = FileSystem.mode(file) else { continue }
      modes.append("\(file) \(String(mode & 0o777, radix: 8))")
      if mode & 0o077 != 0 { loose.append("\(file) is \(String(mode & 0o777, radix: 8))") }
    }
    if !FileSystem.exists(c.vaultPath) {
      c.add(
        "vault files", false, "no vault at \(c.vaultPath)", hint: "run 'ivkeys init', or point --vault at the vault")
      return false
    }
    c.add(
      "vault files", loose.isEmpty,
      loose.isEmpty ? "none open to group or others: " + modes.joined(separator: ", ") : loose.joined(separator: ", "),
      hint: "chmod 600 the files and 700 the directory (ivkeys fixes the files it owns whenever it opens the vault)")
    return true
  }

  /// A PostgreSQL vault has no files: the server must answer and hold ivkeys tables. False when
  /// it does not: nothing else can be checked.
  static func checkServer(_ c: inout Context) -> Bool {
    do {
      let store = try VaultStores.open(c.vaultPath, readOnly: true)
      guard try store.schemaVersion() > 0 else {
        c.add(
          "vault server", false, "no vault at \(store.location) (the database has no ivkeys tables)",
          hint: "run 'ivkeys init', or point --vault at the vault")
        return false
      }
      c.add("vault server", true, "\(store.location) answers and holds an ivkeys vault")
      return true
    } catch {
      c.add("vault server", false, error.description, hint: error.hint)
      return false
    }
  }

  /// The secret file: readable, long enough, and the owner's alone.
  static func checkSecretFile(_ c: inout Context) {
    let secretMode = FileSystem.mode(c.secretPath)
    do {
      c.secret = try SecretFile.load(
        path: c.secretPath,
        forVault: VaultLocation.isPostgres(c.vaultPath) ? VaultLocation.masked(c.vaultPath) : c.vaultPath)
      c.add(
        "secret file", secretMode.map { $0 & 0o077 == 0 } ?? false,
        "\(c.secretPath) is \(String((secretMode ?? 0) & 0o777, radix: 8))")
    } catch {
      c.add("secret file", false, error.description, hint: error.hint ?? "check --secret-file")
    }
  }

  /// Integrity and schema, which need no secret. False when the vault cannot be read at all.
  static func checkIntegrityAndSchema(_ c: inout Context) -> Bool {
    do {
      let store = try VaultStores.open(c.vaultPath, readOnly: true)
      let problems = try store.integrityProblems(limit: 20)
      c.add(
        "integrity", problems == ["ok"],
        problems == ["ok"]
          ? (store is PGStore ? "every table reads" : "PRAGMA integrity_check: ok") : problems.joined(separator: "; "),
        hint: store is PGStore
          ? "check the server's log; restore the database from its pg_dump backup"
          : "restore the vault from a backup ('ivkeys backup' makes them)")
      let version = try store.schemaVersion()
      let current = store.currentSchemaVersion
      c.add(
        "schema", version == current,
        version == current
          ? "schema version \(version)"
          : version > current
            ? "schema version \(version) is newer than this ivkeys (\(current))"
            : "schema version \(version); this ivkeys migrates it to \(current) on the next write",
        hint: version > current
          ? "upgrade ivkeys"
          : "run any ivkeys command that writes, unless 'sealed schema' fails: then restore from a backup")
      return true
    } catch {
      c.add("integrity", false, error.description, hint: error.hint)
      return false
    }
  }

  /// Opens the vault with the secret, changing nothing (`VaultAccess.inspect`).
  static func checkFingerprint(_ c: inout Context) {
    guard c.secret != nil else {
      c.add("secret fingerprint", false, "not checked: the secret file could not be read")
      return
    }
    do {
      let vault = try Vault.open(path: c.vaultPath, secretPath: c.secretPath, actor: c.actor, access: .inspect)
      c.vault = vault
      c.add(
        "secret fingerprint", true,
        "the secret file matches the vault (version \(vault.secretVersion ?? 1), \(vault.fingerprint ?? ""))")
    } catch {
      c.add("secret fingerprint", false, error.description, hint: error.hint)
    }
  }

  /// The schema is the one this binary's migrations make, and its sealed fingerprint matches:
  /// each object added, dropped or changed outside ivkeys is named.
  static func sealedSchema(_ v: Vault) throws(IVKeysError) -> HealthCheck {
    let hint =
      "drop what was added and restore what was changed, or restore the vault from a backup that 'ivkeys doctor' passes"
    let version = try v.store.schemaVersion()
    guard version >= SQLiteSchema.sealedSince else {
      do {
        try v.refuseRolledBackSchema(version)
      } catch {
        return check(
          "sealed schema", false, error.description,
          hint: "do not run ivkeys on it until it is restored: a migration would seal whatever was changed; "
            + "restore the vault from a backup that 'ivkeys doctor' passes")
      }
      return check("sealed schema", true, "not sealed yet: the next ivkeys command that writes seals it", hint: nil)
    }
    let differences = try v.store.schemaDifferences()
    if !differences.isEmpty {
      return check(
        "sealed schema", false, "the schema was changed outside ivkeys: " + differences.joined(separator: "; "),
        hint: hint)
    }
    do {
      try v.store.checkSchemaSeal()
      return check("sealed schema", true, "every table, index and trigger is as ivkeys made it", hint: nil)
    } catch {
      return check("sealed schema", false, error.description, hint: hint)
    }
  }

  /// Every sealed row (keys, administrators, scopes, settings, secret versions) matches its seal.
  static func seals(_ v: Vault) throws(IVKeysError) -> HealthCheck {
    guard try v.store.schemaVersion() >= SQLiteSchema.sealedSince else {
      return check("seals", true, "not sealed yet: the next ivkeys command that writes seals the vault", hint: nil)
    }
    let broken = try v.store.brokenSeals(limit: Int.max)
    if broken.isEmpty {
      return check("seals", true, "every key, administrator, scope and setting matches its seal", hint: nil)
    }
    // Each one named: the list is what the administrator revokes or restores.
    let names = broken.map { "\($0.table) \(Text.escapeControl($0.primaryKey))" }
    return check(
      "seals", false,
      "\(broken.count) \(broken.count == 1 ? "row was" : "rows were") changed outside ivkeys: "
        + names.joined(separator: ", "),
      hint: "verify refuses these keys; restore the vault from a backup that 'ivkeys doctor' passes, "
        + "or revoke the keys named")
  }

  /// Every key was created on the record, and every revocation is on it: this catches a history
  /// cut short or spliced from another copy made with the same secret.
  static func auditCoversKeys(_ v: Vault) throws(IVKeysError) -> HealthCheck {
    let uncreated = try v.store.keysWithoutCreationEntry()
    let unrevoked = try v.store.revokedKeysWithoutRevocationEntry()
    let ok = uncreated == 0 && unrevoked == 0
    return check(
      "audit covers keys", ok,
      ok
        ? "every key has its key.created entry, and every revoked key its key.revoked entry"
        : "\(uncreated) \(uncreated == 1 ? "key" : "keys") without a key.created entry, "
          + "\(unrevoked) revoked \(unrevoked == 1 ? "key" : "keys") without a key.revoked entry",
      hint: "entries were removed or the log was replaced; restore from a backup that verifies")
  }
}
