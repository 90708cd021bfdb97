import IVKeysCore

/// `ivkeys scopes list|presets|add`.
enum ScopesCommand {
  static let list: RunFunction = { inv, ctx throws(IVKeysError) in
    let catalog = try ctx.openVault(.read).scopeCatalog()
    switch ctx.format {
    case .quiet: for s in catalog { ctx.stdout.line(s.name) }
    case .json:
      ctx.stdout.line(JSON.array(catalog.map { .object([("name", .string($0.name)), ("description", .string($0.description))]) }).encoded)
    case .table:
      Table.print(["SCOPE", "DESCRIPTION"], catalog.map { [Cell($0.name), Cell($0.description)] }, to: ctx.stdout, color: ctx.useColor, width: ctx.tableWidth)
    }
    return 0
  }

  static let presets: RunFunction = { inv, ctx throws(IVKeysError) in
    switch ctx.format {
    case .quiet: for p in Scopes.presets { ctx.stdout.line(p.name) }
    case .json:
      ctx.stdout.line(JSON.array(Scopes.presets.map { .object([("name", .string($0.name)), ("scopes", .strings($0.scopes))]) }).encoded)
    case .table:
      Table.print(["PRESET", "SCOPES"], Scopes.presets.map { [Cell($0.name), Cell($0.scopes.joined(separator: " "))] },
                  to: ctx.stdout, color: ctx.useColor, width: ctx.tableWidth)
    }
    return 0
  }

  static let add: RunFunction = { inv, ctx throws(IVKeysError) in
    let name = inv.arguments[0]
    let description = try inv.required(.description)
    let vault = try ctx.openVault()
    try vault.addScope(name, description: description)
    if ctx.format == .json {
      ctx.stdout.line(JSON.object([("name", .string(name)), ("description", .string(description))]).encoded)
    } else {
      ctx.stdout.line(name)
    }
    return 0
  }
}
