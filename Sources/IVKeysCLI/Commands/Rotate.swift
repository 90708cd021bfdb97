import IVKeysCore

/// `ivkeys rotate ID [--grace DUR]`.
enum RotateCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let reference = inv.arguments[0]
    let grace = try inv.parse(.grace, Time.parseDuration) ?? 24 * 3600
    ShowCommand.warnIfWholeKey(reference, ctx)
    let vault = try ctx.openVault()
    // Commit first, print after, as `create` does; a new key that cannot be printed is revoked
    // and the rotation undone (`Delivery.rotationNotDelivered`).
    let r = try vault.rotateKey(reference, grace: grace)
    let new = r.new
    switch ctx.format {
    case .quiet: ctx.stdout.line(new.key.string)
    case .json: ctx.stdout.line(KeyRendering.json(new.record, key: new.key.string))
    case .table:
      Table.print(
        ["ID", "ENV", "COMPANY", "NAME", "KEY"],
        [
          [
            Cell(new.record.id), Cell(new.record.env.rawValue), Cell(new.record.company),
            Cell(new.record.name), Cell(new.key.string),
          ]
        ], to: ctx.stdout, color: ctx.useColor, width: ctx.tableWidth)
    }
    ctx.stdout.flush()
    if let failure = ctx.stdout.failure { throw Delivery.rotationNotDelivered(r, failure: failure, vault: vault) }
    if ctx.format == .table {
      if grace == 0 {
        ctx.note("the old key \(r.old.id) is revoked")
      } else if r.old.status == .suspended {
        ctx.note(
          "the old key \(r.old.id) stays suspended and is revoked at \(r.old.graceUntil.map(Time.rfc3339) ?? "?")")
      } else {
        ctx.note("the old key \(r.old.id) stays valid until \(r.old.graceUntil.map(Time.rfc3339) ?? "?")")
      }
      ctx.hint("this is the only time the new key is shown; store it now")
    }
    return 0
  }
}
