import IVKeysCore

/// `ivkeys doctor`: one line per check; exit 0 when all pass, 3 when any fails.
enum DoctorCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let checks = Doctor.run(vaultPath: try ctx.vaultPath(), secretPath: try ctx.secretPath(), actor: try ctx.actor)
    switch ctx.format {
    case .json:
      ctx.stdout.line(checks.json)
    case .quiet:
      for c in checks where !c.ok { ctx.stdout.line(c.name) }
    case .table:
      let width = (checks.map(\.name.count).max() ?? 0) + 2
      for c in checks {
        let mark = c.ok ? "ok  " : "FAIL"
        let colored = ctx.useColor ? (c.ok ? Color.green : Color.red).wrap(mark) : mark
        let name = c.name + String(repeating: " ", count: width - c.name.count)
        ctx.stdout.line("\(colored)  \(name)\(Text.escapeControl(c.message))")
        if let h = c.hint { ctx.stdout.line("      \(String(repeating: " ", count: width))hint: \(h)") }
      }
    }
    return checks.allSatisfy(\.ok) ? 0 : 3
  }
}

/// `ivkeys backup DEST [--force]`.
enum BackupCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let destination = inv.arguments[0]
    let vault = try ctx.openVault()
    let r = try vault.backup(to: destination, force: inv.flag(.force), secretPath: try ctx.secretPath()) { path in
      ctx.note("removed \(path), left by a backup that was interrupted")
    }
    switch ctx.format {
    case .json:
      ctx.stdout.line(r.json)
    case .quiet:
      ctx.stdout.line(r.path)
    case .table:
      ctx.stdout.line(
        "backed up \(plural(r.keys, "key")) and \(plural(r.auditEntries, "audit entry", "audit entries")) to \(r.path)")
      ctx.stdout.line(
        "the copy passes integrity_check and its audit chain verifies (head \(r.audit.head.map { "\($0.seq) \($0.hash)" } ?? "-"))"
      )
    }
    return 0
  }
}
