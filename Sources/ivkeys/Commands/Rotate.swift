import IVKeysCore

/// `ivkeys rotate ID [--grace DUR]`.
enum RotateCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let reference = inv.arguments[0]
    let grace = try inv.parse("grace", Time.parseDuration) ?? 24 * 3600
    ShowCommand.warnIfWholeKey(reference, ctx)
    let vault = try ctx.openVault()
    let r = try vault.rotateKey(reference, grace: grace)
    switch ctx.format {
    case .quiet: ctx.stdout.line(r.new.key.string)
    case .json: ctx.stdout.line(KeyRendering.json(r.new.record, key: r.new.key.string))
    case .table:
      Table.print(["ID", "ENV", "COMPANY", "NAME", "KEY"],
                  [[Cell(r.new.record.id), Cell(r.new.record.env.rawValue), Cell(r.new.record.company),
                    Cell(r.new.record.name), Cell(r.new.key.string)]], to: ctx.stdout, color: ctx.useColor)
      if grace == 0 {
        ctx.note("the old key \(r.old.id) is revoked")
      } else {
        ctx.note("the old key \(r.old.id) stays valid until \(r.old.graceUntil.map(Time.rfc3339) ?? "?")")
      }
      ctx.hint("this is the only time the new key is shown; store it now")
    }
    return 0
  }
}
