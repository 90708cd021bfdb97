import IVKeysCore

/// `ivkeys suspend`, `resume` and `revoke`.
enum StatusCommand {
  static let suspend: RunFunction = { inv, ctx throws(IVKeysError) in try change(.suspend, inv, ctx) }
  static let resume: RunFunction = { inv, ctx throws(IVKeysError) in try change(.resume, inv, ctx) }
  static let revoke: RunFunction = { inv, ctx throws(IVKeysError) in try change(.revoke, inv, ctx) }

  static func change(_ action: Vault.StatusAction, _ inv: Invocation, _ ctx: Context) throws(IVKeysError) -> Int32 {
    let reference = inv.arguments[0]
    let reason: String? = action == .resume ? try inv.parse("reason", Fields.reason) : try inv.required("reason", Fields.reason)
    ShowCommand.warnIfWholeKey(reference, ctx)
    let vault = try ctx.openVault()
    let record = try vault.changeStatus(reference, action, reason: reason)
    switch ctx.format {
    case .quiet: ctx.stdout.line(record.id)
    case .json: ctx.stdout.line(KeyRendering.json(record))
    case .table: ctx.stdout.line("\(record.id)  \(ctx.useColor ? Color.of(record.status).wrap(record.status.rawValue) : record.status.rawValue)")
    }
    return 0
  }
}
