import Glibc

/// What `vault copy` made and checked.
public struct VaultCopyResult: Sendable {
  public let source: String
  public let destination: String
  /// Rows copied, by table (`VaultTables` order).
  public let rows: [(table: String, count: Int64)]
  public let audit: AuditVerification

  public var keys: Int64 { rows.first { $0.table == "keys" }?.count ?? 0 }
}

extension Vault {
  /// Copies the whole vault at `source` into a new vault at `destination`, each a SQLite file
  /// or a PostgreSQL URL (either way round), with the same secret file.
  ///
  /// The source must be whole: its audit chain verifies and every sealed row matches its seal.
  /// It is read in one snapshot while other processes keep working. The destination must be new
  /// (no file; a database without ivkeys tables). Rows are copied as stored, seals and audit
  /// hashes included (both engines compute them alike), in one transaction that, before it
  /// commits, checks the copy: every seal, the audit chain to the same head, the schema's sealed
  /// fingerprint and each table's row count. A copy that fails any check is rolled back and a new
  /// file removed: nothing half-made is left.
  public static func copyVault(from source: String, to destination: String, secretPath: String, actor: Actor)
    throws(IVKeysError) -> VaultCopyResult
  {
    guard source != destination else {
      throw .usage("the source and the destination are the same vault (\(source))")
    }
    let from = try Vault.open(path: source, secretPath: secretPath, actor: actor, access: .inspect)
    let (store, remove) = try newStore(destination)
    do {
      let to = Vault(
        store: store, secretFile: from.secretFile, version: from.secret, secretPath: secretPath, actor: actor)
      to.openedFor = .inspect
      try store.migrate(sealer: store.sealer)
      let (rows, audit) = try store.write {
        () throws(IVKeysError) -> ([(table: String, count: Int64)], AuditVerification) in
        // The source is checked and read in one snapshot, while other processes keep writing.
        let (rows, sourceAudit) = try from.store.read { () throws(IVKeysError) in
          let audit = try from.verifyAudit()
          guard audit.intact else {
            throw IVKeysError.vault(
              "the source's audit chain does not verify: \(audit.message)", hint: "run 'ivkeys doctor' on the source")
          }
          if let broken = try from.store.brokenSeals(limit: 1).first {
            throw IVKeysError.tampered("the \(broken.table) row \(broken.primaryKey) does not match its seal")
          }
          return (try transfer(from.store, to: store), audit)
        }
        let copied = try to.verifyAudit()
        guard copied.intact, copied.head?.seq == sourceAudit.head?.seq, copied.head?.hash == sourceAudit.head?.hash
        else {
          throw .vault("the copy's audit chain does not verify or ends elsewhere: \(copied.message)")
        }
        if let broken = try store.brokenSeals(limit: 1).first {
          throw .vault("the copy's \(broken.table) row \(broken.primaryKey) does not match its seal")
        }
        try store.checkSchemaSeal()
        for (table, count) in rows {
          let n = try store.rowCount(VaultTables.all.first { $0.name == table }!)
          guard n == count else { throw .vault("the copy holds \(n) rows of \(table), not \(count)") }
        }
        return (rows, sourceAudit)
      }
      return VaultCopyResult(source: from.store.location, destination: store.location, rows: rows, audit: audit)
    } catch {
      remove()
      throw error
    }
  }

  /// Every table's rows, a thousand at a time; the meta rows each engine keeps for itself stay.
  private static func transfer(_ source: any VaultStore, to destination: any VaultStore) throws(IVKeysError)
    -> [(table: String, count: Int64)]
  {
    var counts = [(table: String, count: Int64)]()
    for table in VaultTables.all {
      var batch = [[SealValue]]()
      var n: Int64 = 0
      try source.exportRows(table) { row throws(IVKeysError) in
        if table.name == "meta", case .text(let name) = row[0], VaultTables.engineOwnMeta.contains(name) { return }
        batch.append(row)
        n += 1
        if batch.count == 1000 {
          try destination.importRows(table, batch)
          batch.removeAll(keepingCapacity: true)
        }
      }
      if !batch.isEmpty { try destination.importRows(table, batch) }
      // The destination's own fingerprint row is counted with the rows copied.
      counts.append((table.name, table.name == "meta" ? n + 1 : n))
    }
    return counts
  }

  /// A new, empty store at `location`, and how to remove it again.
  private static func newStore(_ location: String) throws(IVKeysError) -> (any VaultStore, () -> Void) {
    if VaultLocation.isPostgres(location) {
      let store = try VaultStores.open(location, readOnly: false)
      guard try store.schemaVersion() == 0 else {
        throw .conflict(
          "a vault already exists at \(store.location); refusing to overwrite it", hint: "name an empty database")
      }
      // Its tables and rows are made in the one transaction a failure rolls back.
      return (store, {})
    }
    try FileSystem.makeDirectories(FileSystem.directory(of: location))
    try FileSystem.createExclusive(
      location, what: "the copy",
      exists: .conflict("\(location) already exists; refusing to overwrite it", hint: "name a new file"))
    let remove = {
      unlink(location)
      unlink(location + "-wal")
      unlink(location + "-shm")
    }
    do {
      return (try VaultStores.open(location, readOnly: false, fresh: true), remove)
    } catch {
      remove()
      throw error
    }
  }
}

extension Vault {
  /// What `init --roles` did: whether it created the vault too.
  public struct RolesResult: Sendable {
    public let location: String
    public let initialized: Initialized?
  }

  /// `init --roles`: on a PostgreSQL database without a vault, creates it (as `initialize`) and
  /// then the roles; on an existing vault only creates or refreshes the roles and grants (it
  /// needs no secret then). A SQLite vault is refused before anything is made.
  public static func initializeRoles(path: String, secretPath: String, actor: Actor) throws(IVKeysError)
    -> RolesResult
  {
    guard VaultLocation.isPostgres(path) else {
      throw .usage(
        "--roles is for a PostgreSQL vault: a SQLite vault's access is its file's mode",
        hint: "name a postgresql:// vault, or leave out --roles")
    }
    let store = try VaultStores.open(path, readOnly: false)
    var made: Initialized?
    if try store.schemaVersion() == 0 {
      made = try initialize(path: path, secretPath: secretPath, actor: actor)
    } else {
      _ = try checkSchema(store, path: store.location)
    }
    try store.grantRoles()
    // Granting rewrites the tables' catalog rows, which moves the schema's cookie: opening the
    // vault to write compares the whole schema and records the new cookie, so that gateways do
    // not compare the whole schema on every decision until an administrator next writes.
    _ = try Vault.open(path: path, secretPath: secretPath, actor: actor, access: .write)
    return RolesResult(location: store.location, initialized: made)
  }
}
