#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSQLite

/// One of `doctor`'s checks.
public struct HealthCheck: Sendable {
  public let name: String
  public let ok: Bool
  public let message: String
  public let hint: String?
}

/// The checks `ivkeys doctor` runs, each independent of the others' outcome.
public enum Doctor {
  /// Runs every check. Nothing here throws: a check that cannot run is reported as failed.
  public static func run(vaultPath: String, secretPath: String, actor: Actor, now: Timestamp = Time.now()) -> [HealthCheck] {
    var checks = [HealthCheck]()
    func add(_ name: String, _ ok: Bool, _ message: String, hint: String? = nil) {
      checks.append(HealthCheck(name: name, ok: ok, message: message, hint: ok ? nil : hint))
    }

    // File modes, before anything opens the vault (opening fixes what it can).
    var loose = [String](), modes = [String]()
    for file in [vaultPath, vaultPath + "-wal", vaultPath + "-shm"] {
      guard let mode = FileSystem.mode(file) else { continue }
      modes.append("\(file) \(String(mode & 0o777, radix: 8))")
      if mode & 0o077 != 0 { loose.append("\(file) is \(String(mode & 0o777, radix: 8))") }
    }
    let dir = FileSystem.directory(of: vaultPath)
    if let mode = FileSystem.mode(dir) {
      modes.append("\(dir) \(String(mode & 0o777, radix: 8))")
      if mode & 0o077 != 0 { loose.append("\(dir) is \(String(mode & 0o777, radix: 8))") }
    }
    if !FileSystem.exists(vaultPath) {
      add("vault files", false, "no vault at \(vaultPath)", hint: "run 'ivkeys init', or point --vault at the vault")
      return checks
    }
    add("vault files", loose.isEmpty, loose.isEmpty ? "none open to group or others: " + modes.joined(separator: ", ") : loose.joined(separator: ", "),
        hint: "chmod 600 the files and 700 the directory (ivkeys fixes the files it owns whenever it opens the vault)")

    let secretMode = FileSystem.mode(secretPath)
    let secret: SecretFile?
    do {
      secret = try SecretFile.load(path: secretPath)
      add("secret file", secretMode.map { $0 & 0o077 == 0 } ?? false, "\(secretPath) is \(String((secretMode ?? 0) & 0o777, radix: 8))")
    } catch {
      secret = nil
      add("secret file", false, error.description, hint: error.hint ?? "check --secret-file")
    }

    // Integrity and schema need no secret.
    var version = 0
    do {
      let db = try Database(path: vaultPath, readOnly: true)
      db.setBusyTimeout(Vault.busyTimeout)
      var problems = [String]()
      // "If any errors are found, then strings are returned as multiple rows with a single column
      // per row. If no errors are found, a single row with the value 'ok' is returned."
      try db.statement("PRAGMA integrity_check(20)").forEach { row in problems.append(row.text(0)) }
      add("integrity", problems == ["ok"], problems == ["ok"] ? "PRAGMA integrity_check: ok" : problems.joined(separator: "; "),
          hint: "restore the vault from a backup ('ivkeys backup' makes them)")
      version = Int(try db.scalarInt("PRAGMA user_version") ?? 0)
      add("schema", version == Schema.currentVersion, version == Schema.currentVersion
        ? "schema version \(version)"
        : version > Schema.currentVersion
          ? "schema version \(version) is newer than this ivkeys (\(Schema.currentVersion))"
          : "schema version \(version); this ivkeys migrates it to \(Schema.currentVersion) on the next write",
        hint: version > Schema.currentVersion ? "upgrade ivkeys" : "run any ivkeys command that writes")
    } catch {
      add("integrity", false, error.description, hint: error.hint)
      return checks
    }

    guard let secret else {
      for name in ["secret fingerprint", "append-only audit", "audit chain", "audit covers keys", "rotation graces"] {
        add(name, false, "not checked: the secret file could not be read")
      }
      return checks
    }
    let vault: Vault
    do {
      vault = try Vault.open(path: vaultPath, secretPath: secretPath, actor: actor, inspecting: true)
      add("secret fingerprint", true, "the secret file matches the vault (\(secret.fingerprint))")
    } catch {
      add("secret fingerprint", false, error.description, hint: error.hint)
      for name in ["append-only audit", "audit chain", "audit covers keys", "rotation graces"] {
        add(name, false, "not checked: the vault could not be opened with this secret")
      }
      return checks
    }
    // Each check below reports its own failure: one cannot hide another.
    do {
      let triggers = try vault.db.scalarInt(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ('audit_no_update', 'audit_no_delete') AND tbl_name = 'audit'") ?? 0
      add("append-only audit", triggers == 2, triggers == 2
        ? "the audit table's triggers refuse UPDATE and DELETE"
        : "the audit table's UPDATE/DELETE triggers are missing: someone dropped them",
        hint: "treat the log as tampered with; 'ivkeys audit verify --expect-head' against a head kept elsewhere")
    } catch {
      add("append-only audit", false, error.description, hint: error.hint)
    }
    do {
      let audit = try vault.verifyAudit()
      add("audit chain", audit.intact, audit.message, hint: "restore the vault from a backup that verifies")
    } catch {
      add("audit chain", false, error.description, hint: error.hint)
    }
    do {
      // Every key was created on the record, and every revocation is on it: this catches a
      // history cut short or spliced from another copy made with the same secret.
      let uncreated = try vault.db.scalarInt(
        "SELECT count(*) FROM keys WHERE id NOT IN (SELECT key_id FROM audit WHERE event = 'key.created' AND key_id IS NOT NULL)") ?? 0
      let unrevoked = try vault.db.scalarInt(
        "SELECT count(*) FROM keys WHERE status = 'revoked' AND id NOT IN (SELECT key_id FROM audit WHERE event = 'key.revoked' AND key_id IS NOT NULL)") ?? 0
      let ok = uncreated == 0 && unrevoked == 0
      add("audit covers keys", ok, ok
        ? "every key has its key.created entry, and every revoked key its key.revoked entry"
        : "\(uncreated) keys without a key.created entry, \(unrevoked) revoked keys without a key.revoked entry",
        hint: "entries were removed or the log was replaced; restore from a backup that verifies")
    } catch {
      add("audit covers keys", false, error.description, hint: error.hint)
    }
    do {
      let stale = try vault.db.scalarInt(
        "SELECT count(*) FROM keys WHERE status = 'rotating' AND grace_until IS NOT NULL AND grace_until <= ?", [.int(now)]) ?? 0
      add("rotation graces", stale == 0, stale == 0
        ? "no key is still recorded as rotating after its grace ended"
        : "\(stale) \(stale == 1 ? "key's" : "keys'") rotation grace ended, still recorded as rotating (verify already refuses them)",
        hint: "'ivkeys sweep' records them as revoked (run it from cron)")
    } catch {
      add("rotation graces", false, error.description, hint: error.hint)
    }
    return checks
  }
}
