import IVKeysCore

/// `ivkeys show ID`.
enum ShowCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let reference = inv.arguments[0]
    warnIfWholeKey(reference, ctx)
    let vault = try ctx.openVault(.read)
    try show(try vault.resolve(reference), vault, ctx)
    return 0
  }

  /// Prints one key as `show` does: the key and the working hours that apply to it.
  static func show(_ k: KeyRecord, _ vault: Vault, _ ctx: Context) throws(IVKeysError) {
    var k = k
    k.requestsRemaining = try vault.requestsRemaining(k)
    let hours = ctx.format == .quiet ? nil : try vault.workingHours(of: k)
    if let hours, hours.damaged {
      ctx.warning(
        "the working hours set on \(hours.source == .key ? "key \(k.id)" : "company \(k.company)") "
          + "do not match their seal: they were changed outside ivkeys")
    }
    switch ctx.format {
    case .quiet: ctx.stdout.line(k.id)
    case .json:
      var w = JSONWriter()
      k.writeJSON(to: &w, plaintextKey: nil) { w in KeyRendering.writeWorkingHours(hours, to: &w) }
      ctx.stdout.line(w.string)
    case .table: ctx.stdout.line(KeyRendering.detail(k, color: ctx.useColor, workingHours: hours))
    }
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
