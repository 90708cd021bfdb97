import Glibc

/// What `secret rotate` did.
public struct SecretRotation: Sendable {
  public let previousVersion: Int
  public let version: Int
  public let fingerprint: String
  /// Keys still on older versions: they keep verifying, and `rotation-due` lists them.
  public let keysOnOlderVersions: Int64
}

/// One secret version, as `secret list` shows it.
public struct SecretVersionStatus: Sendable {
  public let version: Int
  public let fingerprint: String
  public let addedAt: Timestamp
  public let retiredAt: Timestamp?
  public let current: Bool
  /// Whether the secret file holds it.
  public let inFile: Bool
  public let keys: Int64
  public let unrevokedKeys: Int64
  public let damaged: Bool
}

/// What `secret retire` did.
public struct SecretRetirement: Sendable {
  public let version: Int
  /// The audit entries the version chained, now covered by the checkpoint (nil: none).
  public let firstSeq: Int64?
  public let lastSeq: Int64?
}

extension Vault {
  /// Crash points for the fault tests (debug builds of the command line set it): called with
  /// `secret:file-written` and `secret:resealed`, both before COMMIT.
  nonisolated(unsafe) public static var faultPoint: ((String) -> Void)?

  /// Follows a `secret rotate` another process committed since this vault was opened (a
  /// long-running `verify --batch`, or a write that waited for the lock): rereads the secret file
  /// and moves to the vault's version, which must be newer than this one and hold the fingerprint
  /// the vault records (`checkSeals` then checks the settings' seals under it). Inside `write`.
  func followSecretRotation(_ settings: OpeningSettings) throws(IVKeysError) {
    guard let secret, let recorded = settings.secretVersion?.value, recorded != String(secret.number) else { return }
    guard let number = Int(recorded), number > secret.number else {
      throw .tampered("its secret version went from \(secret.number) to \(recorded)")
    }
    let file = try SecretFile.load(path: secretPath, forVault: path)
    let current = try Vault.checkFingerprint(store, file, path: path, secretPath: secretPath, settings: settings)
    secretFile = file
    self.secret = current
    store.sealer = RowSealer(key: current.sealKey, version: current.number)
    audit?.key = current.auditKey
  }

  // MARK: - secret list

  /// Every version the vault has known, with how many keys use each and whether the file holds it.
  public func secretVersionStatus() throws(IVKeysError) -> [SecretVersionStatus] {
    let current = try requireSecret("listing the secret versions")
    return try store.secretVersions().map { v in
      SecretVersionStatus(
        version: v.version, fingerprint: v.fingerprint, addedAt: v.addedAt, retiredAt: v.retiredAt,
        current: v.version == current.number, inFile: secretFile?.version(v.version) != nil, keys: v.keys,
        unrevokedKeys: v.unrevokedKeys, damaged: v.damaged)
    }
  }

  // MARK: - secret rotate

  /// Adds a new secret version and moves the vault to it: new keys' digests, every seal and the
  /// audit chain's key. The secret file is rewritten atomically (holding every version still in
  /// use and the new one) inside the vault's write transaction, before COMMIT: a process killed
  /// before COMMIT leaves the old vault with a file that also holds an unused new version (the
  /// next rotation replaces it), one killed after leaves both new. Every sealed row is checked
  /// against the old seal key first: a rotation never seals a change made outside ivkeys.
  public func rotateSecret() throws(IVKeysError) -> SecretRotation {
    let old = try requireSecret("rotating the secret")
    guard let file = secretFile else { throw .secret("the secret file was not read") }
    let bytes = try Crypto.randomBytes(32)
    let oldSealer = RowSealer(key: old.sealKey, version: old.number)
    var result: SecretRotation?
    var newFile: SecretFile?
    do {
      try write { () throws(IVKeysError) in
        try requireAdmin("rotate the server secret")
        // Re-read under the write lock: another rotation may have committed meanwhile.
        guard try store.sealedMeta("secret_version") == String(old.number) else {
          throw .conflict(
            "the vault's secret was rotated by another process meanwhile",
            hint: "run the command again; this process still holds the old secret file")
        }
        let recorded = try store.secretVersions()
        if let bad = recorded.first(where: \.damaged) {
          throw .tampered("the row of secret version \(bad.version) does not match its seal")
        }
        // Every row is checked before anything is written, the secret file included.
        if let bad = try store.brokenSeals(limit: 1).first {
          throw .tampered("the \(bad.table) row \(bad.primaryKey) does not match its seal")
        }
        let number = (recorded.map(\.version).max() ?? old.number) + 1
        let fresh = SecretVersion(number: number, bytes: bytes)
        // The file keeps every version the vault has not retired (and drops one a killed
        // rotation left behind), then the new one.
        let kept = file.versions.filter { v in
          recorded.contains { $0.version == v.number && $0.retiredAt == nil }
        }
        try SecretFile.replace(at: secretPath, with: kept + [fresh])
        Self.faultPoint?("secret:file-written")
        let sealer = RowSealer(key: fresh.sealKey, version: fresh.number)
        try store.resealAll(from: oldSealer, to: sealer)
        store.sealer = sealer
        try store.insertSecretVersion(fresh.number, fingerprint: fresh.fingerprint, at: now())
        try store.setMeta("secret_version", String(fresh.number))
        try store.setMeta("secret_fingerprint", fresh.fingerprint)
        Self.faultPoint?("secret:resealed")
        // This entry is the first chained with the new version (`ChainWalk.enterVersion`).
        audit?.key = fresh.auditKey
        try record(
          AuditEntry(
            event: .secretRotated,
            detail: .object([
              ("previous_version", .int(Int64(old.number))), ("previous_fingerprint", .string(old.fingerprint)),
              ("version", .int(Int64(fresh.number))), ("fingerprint", .string(fresh.fingerprint)),
            ])))
        let older = recorded.reduce(Int64(0)) { $0 + ($1.version < fresh.number ? $1.unrevokedKeys : 0) }
        result = SecretRotation(
          previousVersion: old.number, version: fresh.number, fingerprint: fresh.fingerprint, keysOnOlderVersions: older
        )
        newFile = file.adding(fresh)
      }
    } catch {
      // Nothing committed: the vault stays on the old version.
      store.sealer = oldSealer
      audit?.key = old.auditKey
      throw error
    }
    secretFile = newFile
    secret = newFile?.version(result!.version)
    return result!
  }

  // MARK: - secret retire

  /// Removes version `number` from the secret file once no key that is not revoked uses it.
  /// Before it goes, the audit entries it chained are verified and covered by a checkpoint
  /// recorded under the current version (`secret.retired`), so `audit verify` still proves the
  /// whole log without it.
  public func retireSecret(_ number: Int) throws(IVKeysError) -> SecretRetirement {
    let current = try requireSecret("retiring a secret version")
    guard number != current.number else {
      throw .conflict(
        "secret version \(number) is the one the vault is on; it cannot be retired",
        hint: "run 'ivkeys secret rotate' first")
    }
    guard let file = secretFile else { throw .secret("the secret file was not read") }
    var outcome = SecretRetirement(version: number, firstSeq: nil, lastSeq: nil)
    try write { () throws(IVKeysError) in
      try requireAdmin("retire a server secret version")
      let recorded = try store.secretVersions()
      guard let row = recorded.first(where: { $0.version == number }) else {
        throw .notFound(
          "the vault has no secret version \(number)", hint: "'ivkeys secret list' shows the versions it has")
      }
      guard !row.damaged else { throw .tampered("the row of secret version \(number) does not match its seal") }
      if row.retiredAt != nil {
        // Retired before, and the file still holds it: a retirement killed after its COMMIT.
        guard file.version(number) != nil else { throw .conflict("secret version \(number) is already retired") }
        return
      }
      guard row.unrevokedKeys == 0 else {
        throw .conflict(
          "\(row.unrevokedKeys) \(row.unrevokedKeys == 1 ? "key that is not revoked uses" : "keys that are not revoked use") "
            + "secret version \(number)",
          hint: "'ivkeys rotation-due' lists them: rotate each (its new key is made under the current version), "
            + "or revoke it, then retire the version")
      }
      guard file.version(number) != nil else {
        throw .secret(
          "the secret file \(secretPath) no longer holds version \(number); its entries cannot be checked before retiring it",
          hint: "restore the secret file from its backup")
      }
      let checkpoint = try checkpoint(version: number)
      try store.retireSecretVersion(number, at: now())
      var detail = checkpoint?.detail ?? [("version", .int(Int64(number)))]
      detail.append(("fingerprint", .string(row.fingerprint)))
      try record(AuditEntry(event: .secretRetired, detail: .object(detail)))
      outcome = SecretRetirement(version: number, firstSeq: checkpoint?.firstSeq, lastSeq: checkpoint?.lastSeq)
    }
    // Only once the checkpoint is committed does the version leave the file: a process killed
    // in between leaves a retired version still in the file, which the next retire removes. The
    // file is read again and rewritten under the vault's write lock, so a `secret rotate` (which
    // writes the file under the same lock) can neither be lost nor interleave.
    try store.write { () throws(IVKeysError) in
      let kept = try SecretFile.load(path: secretPath, forVault: path).removing(number)
      guard kept.version(secret?.number ?? 0) != nil else {
        throw .secret("the secret file \(secretPath) no longer holds the vault's version; it was not rewritten")
      }
      try SecretFile.replace(at: secretPath, with: kept.versions)
      secretFile = kept
    }
    return outcome
  }

  /// Walks the whole chain (it must verify) and folds the entries `version` chained into a
  /// checkpoint; nil when it chained none.
  func checkpoint(version: Int) throws(IVKeysError) -> ChainCheckpoint? {
    var walk = ChainWalk(keys: chainKeys(), expectedHead: nil)
    walk.checkpoints = try retiredCheckpoints()
    walk.foldVersion = version
    var first: Int64?
    var last: Int64?
    var digest = [UInt8]()
    try store.walkAudit { entry in
      walk.check(entry)
      if walk.failure == nil, walk.version == version {
        if first == nil { first = entry.seq }
        last = entry.seq
        digest = walk.fold
      }
      return walk.failure == nil
    }
    let result = walk.result()
    guard result.intact else {
      throw .vault(
        "the audit chain does not verify, so secret version \(version) cannot be retired: \(result.message)",
        hint: "run 'ivkeys audit verify' and 'ivkeys doctor'")
    }
    guard let first, let last else { return nil }
    return ChainCheckpoint(version: version, firstSeq: first, lastSeq: last, digest: Crypto.hex(digest))
  }
}

extension SecretFile {
  /// Replaces the secret file with these versions, atomically: a new file (mode 0600) beside
  /// it, written and synced, renamed over it, and the directory synced. A reader sees the old
  /// file or the new one, never a mix.
  static func replace(at path: String, with versions: [SecretVersion]) throws(IVKeysError) {
    let temporary = path + ".new-\(getpid())"
    unlink(temporary)
    try FileSystem.createExclusive(
      temporary, contents: encode(versions), what: "the new secret file",
      exists: .io("cannot create \(temporary): it exists"))
    guard rename(temporary, path) == 0 else {
      let e = Errno.current
      unlink(temporary)
      throw .io("cannot replace the secret file \(path): \(e)")
    }
    let dirfd = open(FileSystem.directory(of: path), O_RDONLY | O_CLOEXEC)
    if dirfd >= 0 {
      fsync(dirfd)
      close(dirfd)
    }
  }
}
