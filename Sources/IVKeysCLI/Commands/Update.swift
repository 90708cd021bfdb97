import IVKeysCore

/// `ivkeys update ID`.
enum UpdateCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let reference = inv.arguments[0]
    let now = Time.now()
    var changes = KeyChanges()
    changes.name = try inv.parse("name", Fields.name)
    changes.addScopes = try KeyOptions.scopes(inv, "add-scope")
    changes.removeScopes = try KeyOptions.scopes(inv, "remove-scope")
    changes.allowIPs = try KeyOptions.ips(inv, "allow-ip")
    changes.removeIPs = try KeyOptions.ips(inv, "remove-ip")
    changes.clearIPs = inv.flag("clear-ips")
    if let t = try KeyOptions.expiry(inv, now: now) { changes.expiry = .set(t) }
    if inv.flag("no-expiry") { changes.expiry = .clear }
    changes.setMetadata = try KeyOptions.metadata(inv)
    changes.unsetMetadata = try inv.parseList("unset-meta", Fields.metadataKey)
    changes.addTags = try inv.parseList("tag", Fields.tag)
    changes.removeTags = try inv.parseList("untag", Fields.tag)
    if let r = try KeyOptions.rateLimit(inv) { changes.rateLimit = .set(r) }
    if inv.flag("no-rate-limit") { changes.rateLimit = .clear }
    changes.contact = try inv.parse("contact", Fields.email)
    changes.linkCompanies = try KeyOptions.companies(inv, "link-company")
    changes.unlinkCompanies = try KeyOptions.companies(inv, "unlink-company")
    let own = Set(inv.values.keys).subtracting(globalOptions.map(\.long))
    guard !own.isEmpty else {
      throw .usage("'ivkeys update' needs at least one change", hint: "'ivkeys update --help' lists what can be changed")
    }
    ShowCommand.warnIfWholeKey(reference, ctx)
    let vault = try ctx.openVault()
    let result = try vault.updateKey(reference, changes)
    if result.changed.isEmpty && ctx.format == .table { ctx.note("key \(result.record.id) already has these settings; nothing changed") }
    if !result.changed.isEmpty && ctx.format == .table { ctx.note("updated \(result.changed.joined(separator: ", "))") }
    KeyRendering.print([result.record], ctx, single: true)
    return 0
  }
}
