/// What keeps a vault's state as trustworthy as its history once it is open: its seals and
/// schema checked at opening and again when another process committed, a schema set back
/// below its seals refused, and tampering recorded (docs/security.md, "Sealed state").
extension Vault {
  /// Refuses a vault whose schema, or sealed secret version, was changed outside ivkeys (a
  /// vault older than its seals has none to check).
  func checkSeals(_ settings: OpeningSettings?) throws(IVKeysError) {
    guard let settings, let secret else { return }
    guard let version = settings.secretVersion, version.value == String(secret.number), store.settingIntact(version)
    else {
      throw .tampered("its secret version setting does not match its seal")
    }
    guard let schema = settings.schemaFingerprint, store.settingIntact(schema) else {
      throw .tampered("the schema's sealed fingerprint is missing or does not match its seal")
    }
    try store.checkSchemaSeal(recorded: schema.value, full: openedFor != .decide)
  }

  /// A vault below the sealed schema version is migrated and sealed; one that was sealed before
  /// and has been set back (columns dropped, `user_version` lowered) must not be: sealing it would
  /// seal whatever was changed meanwhile. Its own history says which: the first entry, chained
  /// under secret version 1, records the schema version it was created with, and a vault that
  /// was sealed by a migration has a `vault.sealed` entry.
  func refuseRolledBackSchema(_ version: Int) throws(IVKeysError) {
    guard let first = try store.firstAuditEntry() else { return }
    guard let v1 = secretFile?.version(1),
      AuditChain.hash(key: v1.auditKey, prevHash: AuditChain.genesis.utf8, entry: first) == first.hash,
      first.event == AuditEvent.vaultInitialized.rawValue
    else {
      throw .tampered("schema version \(version) with a first audit entry that does not verify")
    }
    let created = (try? JSON.parse(first.detail))?["schema_version"]?.int64Value ?? 0
    let sealedBefore = try store.auditHasEvent(AuditEvent.vaultSealed.rawValue)
    if created >= Int64(SQLiteSchema.sealedSince) || sealedBefore {
      throw .tampered(
        "its schema was set back to version \(version), older than its seals (it was created with version \(created))")
    }
  }

  /// Records that a migration sealed the vault (see `refuseRolledBackSchema`).
  func recordSealing(from version: Int) throws(IVKeysError) {
    try write { () throws(IVKeysError) in
      try record(
        AuditEntry(
          event: .vaultSealed,
          detail: .object([
            ("from_schema_version", .int(Int64(version))),
            ("schema_version", .int(Int64(store.currentSchemaVersion))),
          ])))
    }
  }

  /// Inside a write transaction: when another process committed since the vault's state was
  /// last checked, checks it again before anything is written, following a secret rotation
  /// (whose new seals and chain key every later row must use) and refusing a schema changed
  /// meanwhile. A write that waited for the lock behind `secret rotate` thus writes under the
  /// new version, never the old.
  func checkExternalChange() throws(IVKeysError) {
    guard openedFor == .write || openedFor == .decide, secret != nil else { return }
    let counter = try store.externalChangeCounter()
    guard counter != checkedChangeCounter else { return }
    externalChangeEpoch &+= 1
    let settings = try store.openingSettings()
    try followSecretRotation(settings)
    try checkSeals(settings)
    checkedChangeCounter = counter
  }

  /// Records a `vault.tamper_detected` entry in a transaction of its own, when the vault still
  /// takes one; never throws (the caller reports the tampering either way).
  func recordTamper(_ error: IVKeysError) {
    guard let secret, !store.isReadOnly else { return }
    // Chained under the vault's version only: after a rotation this process did not follow,
    // an entry under the old key would break the chain.
    guard (try? store.meta("secret_version")) == String(secret.number) else { return }
    try? store.write { () throws(IVKeysError) in
      try audit?.loadTail()
      try record(AuditEntry(event: .vaultTamperDetected, detail: .object([("found", .string(error.description))])))
    }
  }
}
