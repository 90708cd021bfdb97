import Glibc
import IVKeysCore

/// `ivkeys admin list|add|remove`.
enum AdminCommand {
  static let list: RunFunction = { inv, ctx throws(IVKeysError) in
    let admins = try ctx.openVault(.read).administrators()
    switch ctx.format {
    case .quiet: for a in admins { ctx.stdout.line(a.user) }
    case .json:
      ctx.stdout.line(admins.json)
    case .table:
      Table.print(
        ["USER", "ADDED", "BY"],
        admins.map {
          [
            Cell($0.user + ($0.damaged ? " (damaged: not an administrator)" : "")), Cell(Time.rfc3339($0.addedAt)),
            Cell($0.addedBy),
          ]
        },
        to: ctx.stdout, color: ctx.useColor, width: ctx.tableWidth)
    }
    return 0
  }

  static let add: RunFunction = { inv, ctx throws(IVKeysError) in
    let user = try userArgument(inv)
    try ctx.openVault().addAdministrator(user)
    if getpwnam(user) == nil {
      ctx.warning("there is no OS user \(user) on this machine; administrator rights go by the OS user running ivkeys")
    }
    ctx.stdout.line(user)
    return 0
  }

  static let remove: RunFunction = { inv, ctx throws(IVKeysError) in
    let user = try userArgument(inv)
    try ctx.openVault().removeAdministrator(user)
    ctx.stdout.line(user)
    return 0
  }

  static func userArgument(_ inv: Invocation) throws(IVKeysError) -> String {
    do { return try Fields.userName(inv.arguments[0]) } catch { throw error.for("USER", inv.arguments[0]) }
  }
}
