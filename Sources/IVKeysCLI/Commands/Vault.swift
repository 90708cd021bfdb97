import IVKeysCore

/// `ivkeys vault copy SRC DEST`.
enum VaultCommand {
  static let copy: RunFunction = { inv, ctx throws(IVKeysError) in
    guard inv.arguments.count == 2 else {
      throw .usage("vault copy needs SRC and DEST", hint: "ivkeys vault copy SRC DEST")
    }
    // Each is a file or a URL; a password in a URL here is on the command line.
    let source = Context.text(try VaultLocation.parse(inv.arguments[0], onArgv: true))
    let destination = Context.text(try VaultLocation.parse(inv.arguments[1], onArgv: true))
    for (name, value) in [("SRC", source), ("DEST", destination)] where value.isEmpty {
      throw .invalidValue(option: name, value: value, reason: "empty path")
    }
    let r = try Vault.copyVault(from: source, to: destination, secretPath: try ctx.secretPath(), actor: try ctx.actor)
    switch ctx.format {
    case .json: ctx.stdout.line(r.json)
    case .quiet: ctx.stdout.line(r.destination)
    case .table:
      ctx.stdout.line(
        "copied \(plural(r.keys, "key")) and \(plural(r.audit.entries, "audit entry", "audit entries")) "
          + "from \(r.source) to \(r.destination)")
      ctx.stdout.line(
        "the copy's seals, audit chain (head \(r.audit.head.map { "\($0.seq) \($0.hash)" } ?? "-")) and row counts match"
      )
    }
    return 0
  }
}
