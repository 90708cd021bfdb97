import IVKeysCore

/// `ivkeys suspend`, `resume` and `revoke`: one key by ID, or every key selectors match.
/// Either way a key already in the state asked for is no error: the change is idempotent.
enum StatusCommand {
  static let suspend: RunFunction = { inv, ctx throws(IVKeysError) in try change(.suspend, inv, ctx) }
  static let resume: RunFunction = { inv, ctx throws(IVKeysError) in try change(.resume, inv, ctx) }
  static let revoke: RunFunction = { inv, ctx throws(IVKeysError) in try change(.revoke, inv, ctx) }

  static func change(_ action: Vault.StatusAction, _ inv: Invocation, _ ctx: Context) throws(IVKeysError) -> Int32 {
    let reason: String? =
      action == .resume ? try inv.parse(.reason, Fields.reason) : try inv.required(.reason, Fields.reason)
    var selector = KeySelector()
    selector.company = try inv.parse(.company, Fields.company)
    selector.tag = try inv.parse(.tag, Fields.tag)
    selector.env = try KeyOptions.env(inv)
    let usage = "usage: \(Help.usageLine(path: action.rawValue))"
    guard let reference = inv.arguments.first else {
      guard !selector.isEmpty else {
        throw .usage(
          "'ivkeys \(action.rawValue)' needs a key ID, or --company, --tag or --env to select keys", hint: usage)
      }
      return try changeMany(action, selector, reason: reason, inv, ctx)
    }
    guard selector.isEmpty else {
      throw .usage("give a key ID or selectors (--company, --tag, --env), not both", hint: usage)
    }
    for flag in [OptionName.dryRun, .yes] where inv.flag(flag) {
      throw .usage("--\(flag.rawValue) applies to selectors (--company, --tag, --env), not to one key ID", hint: usage)
    }
    ShowCommand.warnIfWholeKey(reference, ctx)
    let vault = try ctx.openVault()
    // A key already in the state asked for is left alone, as the bulk forms leave it: exit 0,
    // a note, no audit entry. A change that cannot happen (resume a revoked key) is an error.
    let (record, changed) = try vault.changeStatus(reference, action, reason: reason)
    if !changed { ctx.note("key \(record.id) is already \(record.status.rawValue)") }
    switch ctx.format {
    case .quiet: ctx.stdout.line(record.id)
    case .json: ctx.stdout.line(record.json)
    case .table:
      ctx.stdout.line(
        "\(record.id)  \(ctx.useColor ? Color.of(record.status).wrap(record.status.rawValue) : record.status.rawValue)")
    }
    return 0
  }

  /// A bulk change: `--dry-run` lists the keys that would change; otherwise they all change in
  /// one transaction, which refuses more than one key without `--yes`.
  static func changeMany(
    _ action: Vault.StatusAction, _ selector: KeySelector, reason: String?, _ inv: Invocation, _ ctx: Context
  ) throws(IVKeysError) -> Int32 {
    let vault = try ctx.openVault()
    let (verb, none): (String, String)
    switch action {
    case .suspend: (verb, none) = ("suspended", "no active keys match")
    case .resume: (verb, none) = ("resumed", "no suspended keys match")
    case .revoke: (verb, none) = ("revoked", "no keys match that are not already revoked")
    }
    let keys: [KeyRecord]
    if inv.flag(.dryRun) {
      keys = try vault.keys(matching: selector, for: action)
      if !keys.isEmpty {
        ctx.note("would \(action.rawValue) \(plural(keys.count, "key")) (dry run: nothing changed)")
        if keys.count > 1 && !inv.flag(.yes) { ctx.hint("add --yes (without --dry-run) to \(action.rawValue) them") }
        // The real run refuses the whole selection; say so now rather than list it as doable.
        do throws(IVKeysError) {
          try vault.requireAdmin(toChange: keys, action.rawValue)
        } catch {
          ctx.warning("without --dry-run this would be refused: " + error.description)
        }
      }
    } else {
      keys = try vault.changeStatus(matching: selector, action, reason: reason, confirmed: inv.flag(.yes))
      if !keys.isEmpty { ctx.note("\(verb) \(plural(keys.count, "key"))") }
    }
    if keys.isEmpty { ctx.note(none) }
    if keys.isEmpty && ctx.format == .table { return 0 }
    KeyRendering.print(keys, ctx, single: false)
    return 0
  }
}
