import IVKeysCore

/// `ivkeys update ID`.
enum UpdateCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let reference = inv.arguments[0]
    let now = Time.now()
    var changes = KeyChanges()
    changes.name = try inv.parse(.name, Fields.name)
    changes.addScopes = try KeyOptions.scopes(inv, .addScope)
    changes.removeScopes = try KeyOptions.scopes(inv, .removeScope)
    changes.allowIPs = try KeyOptions.ips(inv, .allowIP)
    changes.removeIPs = try KeyOptions.ips(inv, .removeIP)
    changes.clearIPs = inv.flag(.clearIPs)
    if let t = try KeyOptions.expiry(inv, now: now) { changes.expiry = .set(t) }
    if inv.flag(.noExpiry) { changes.expiry = .clear }
    changes.setMetadata = try KeyOptions.metadata(inv)
    changes.unsetMetadata = try inv.parseList(.unsetMeta, Fields.metadataKey)
    changes.addTags = try inv.parseList(.tag, Fields.tag)
    changes.removeTags = try inv.parseList(.untag, Fields.tag)
    if let r = try KeyOptions.rateLimit(inv) { changes.rateLimit = .set(r) }
    if inv.flag(.noRateLimit) { changes.rateLimit = .clear }
    if let b = try KeyOptions.budget(inv) { changes.budget = .set(b) }
    if inv.flag(.noMaxRequests) { changes.budget = .clear }
    changes.contact = try inv.parse(.contact, Fields.email)
    changes.linkCompanies = try KeyOptions.companies(inv, .linkCompany)
    changes.unlinkCompanies = try KeyOptions.companies(inv, .unlinkCompany)
    changes.workingHours = try KeyOptions.workingHoursChange(inv)
    let own = Set(inv.values.keys).subtracting(globalOptions.map(\.name))
    guard !own.isEmpty else {
      throw .usage(
        "'ivkeys update' needs at least one change", hint: "'ivkeys update --help' lists what can be changed")
    }
    ShowCommand.warnIfWholeKey(reference, ctx)
    let vault = try ctx.openVault()
    let result = try vault.updateKey(reference, changes)
    if result.changed.isEmpty && ctx.format == .table {
      ctx.note("key \(result.record.id) already has these settings; nothing changed")
    }
    if !result.changed.isEmpty && ctx.format == .table { ctx.note("updated \(result.changed.joined(separator: ", "))") }
    try ShowCommand.show(result.record, vault, ctx)
    KeyOptions.warnOfOpenRanges(changes.allowIPs, ctx)
    return 0
  }
}
