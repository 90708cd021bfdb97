import IVKeysCore

/// `ivkeys scopes list|presets|add`.
enum ScopesCommand {
  static let list: RunFunction = { inv, ctx throws(IVKeysError) in
    let catalog = try ctx.openVault(.read).scopeCatalog()
    switch ctx.format {
    case .quiet: for s in catalog { ctx.stdout.line(s.name) }
    case .json:
      ctx.stdout.line(catalog.json)
    case .table:
      Table.print(
        ["SCOPE", "DESCRIPTION"],
        catalog.map { [Cell($0.name + ($0.damaged ? " (damaged)" : "")), Cell($0.description)] }, to: ctx.stdout,
        color: ctx.useColor, width: ctx.tableWidth)
    }
    return 0
  }

  static let presets: RunFunction = { inv, ctx throws(IVKeysError) in
    switch ctx.format {
    case .quiet: for p in Scopes.presets { ctx.stdout.line(p.name) }
    case .json:
      ctx.stdout.line(Scopes.presets.map { Preset(name: $0.name, scopes: $0.scopes) }.json)
    case .table:
      Table.print(
        ["PRESET", "SCOPES"], Scopes.presets.map { [Cell($0.name), Cell($0.scopes.joined(separator: " "))] },
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
      ctx.stdout.line(ScopeEntry(name: name, description: description).json)
    } else {
      ctx.stdout.line(name)
    }
    return 0
  }
}
