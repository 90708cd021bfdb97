import IVKeysCore

/// `ivkeys secret list|rotate|retire`.
enum SecretCommand {
  static let list: RunFunction = { inv, ctx throws(IVKeysError) in
    let versions = try ctx.openVault().secretVersionStatus()
    switch ctx.format {
    case .quiet: for v in versions { ctx.stdout.line(String(v.version)) }
    case .json: ctx.stdout.line(versions.json)
    case .table:
      let rows = versions.map { v -> [Cell] in
        let state =
          v.damaged
          ? "damaged"
          : v.current ? "current" : v.retiredAt != nil ? (v.inFile ? "retired (still in file)" : "retired") : "retiring"
        return [
          Cell(String(v.version)), Cell(v.fingerprint), Cell(state), Cell(v.inFile ? "yes" : "no"),
          Cell(String(v.keys)), Cell(String(v.unrevokedKeys)), Cell(Time.rfc3339(v.addedAt)),
        ]
      }
      Table.print(
        ["VERSION", "FINGERPRINT", "STATE", "IN FILE", "KEYS", "NOT REVOKED", "ADDED"], rows, to: ctx.stdout,
        color: ctx.useColor, width: ctx.tableWidth)
    }
    return 0
  }

  static let rotate: RunFunction = { inv, ctx throws(IVKeysError) in
    let vault = try ctx.openVault()
    armFaults(ctx)
    let r = try vault.rotateSecret()
    FaultInjection.killIfAsked(at: "secret:committed", environment: ctx.environment)
    switch ctx.format {
    case .quiet: ctx.stdout.line(String(r.version))
    case .json:
      var w = JSONWriter()
      w.object { w in
        w.member("previous_version", Int64(r.previousVersion))
        w.member("version", Int64(r.version))
        w.member("fingerprint", r.fingerprint)
        w.member("keys_on_older_versions", r.keysOnOlderVersions)
      }
      ctx.stdout.line(w.string)
    case .table:
      ctx.stdout.line(
        "secret version \(r.version) (\(r.fingerprint)) is now current; version \(r.previousVersion) stays in the file")
      ctx.hint("back up the secret file again: it now holds the new version")
      if r.keysOnOlderVersions > 0 {
        ctx.hint(
          "\(r.keysOnOlderVersions) \(r.keysOnOlderVersions == 1 ? "key still uses" : "keys still use") an older version "
            + "and keep verifying; 'ivkeys rotation-due' lists them, then 'ivkeys secret retire N'")
      }
    }
    return 0
  }

  static let retire: RunFunction = { inv, ctx throws(IVKeysError) in
    let text = inv.arguments[0]
    guard let number = Int(text), number >= 1 else {
      throw .invalidValue(
        option: "VERSION", value: text, reason: "a secret version is a whole number from 1 ('ivkeys secret list')")
    }
    let r = try ctx.openVault().retireSecret(number)
    switch ctx.format {
    case .quiet: ctx.stdout.line(String(r.version))
    case .json:
      var w = JSONWriter()
      w.object { w in
        w.member("version", Int64(r.version))
        w.member("first_seq", r.firstSeq)
        w.member("last_seq", r.lastSeq)
      }
      ctx.stdout.line(w.string)
    case .table:
      let covered =
        r.firstSeq.map { " its audit entries \($0) to \(r.lastSeq ?? $0) stay provable through a checkpoint" } ?? ""
      ctx.stdout.line("secret version \(r.version) is retired and removed from the secret file;\(covered)")
    }
    return 0
  }

  /// Debug builds: the fault tests' crash points inside `secret rotate`.
  static func armFaults(_ ctx: Context) {
    guard FaultInjection.isArmed(ctx.environment) else { return }
    let environment = ctx.environment
    Vault.faultPoint = { FaultInjection.killIfAsked(at: $0, environment: environment) }
  }
}
