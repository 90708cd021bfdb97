import IVKeysCore

/// `ivkeys show ID`.
enum ShowCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let reference = inv.arguments[0]
    warnIfWholeKey(reference, ctx)
    let vault = try ctx.openVault(.read)
    KeyRendering.print([try vault.resolve(reference)], ctx, single: true)
    return 0
  }

  /// A whole key on the command line is only used for its id, but it is now in `ps` and the
  /// shell's history; say so.
  static func warnIfWholeKey(_ reference: String, _ ctx: Context) {
    if KeyReference.isWholeKey(reference) {
      ctx.warning(
        "a whole key on the command line is visible in ps and shell history; only its id is used, pass the id instead")
    }
  }
}
