import IVKeysCore

/// `ivkeys expiring`, `rotation-due` and `sweep`: what cron runs to keep keys healthy.
enum MaintenanceCommand {
  /// The window `expiring` and `notify` use when none is given: 7 days.
  static let defaultWindow: Int64 = 7 * 86400

  /// `--within DUR`, more than 0.
  static func window(_ inv: Invocation) throws(IVKeysError) -> Int64 {
    guard let w = try inv.parse(.within, Time.parseDuration) else { return defaultWindow }
    guard w > 0 else {
      throw .invalidValue(option: "--within", value: inv.value(.within) ?? "", reason: "must be longer than 0")
    }
    return w
  }

  /// The exit status of a command with `--check`: 3 when it listed anything.
  static func checkStatus(_ inv: Invocation, found: Bool) -> Int32 { inv.flag(.check) && found ? 3 : 0 }

  // MARK: - expiring

  static let expiring: RunFunction = { inv, ctx throws(IVKeysError) in
    let within = try window(inv)
    let company = try inv.parse(.company, Fields.company)
    let vault = try ctx.openVault()
    let keys = try vault.expiringKeys(within: within, company: company, includeExpired: inv.flag(.includeExpired))
    let t = vault.now()
    func left(_ k: KeyRecord) -> Int64 { (k.expiresAt ?? t).subtractingReportingOverflow(t).partialValue }
    switch ctx.format {
    case .quiet: for k in keys { ctx.stdout.line(k.id) }
    case .json:
      ctx.stdout.line(keys.map { ExpiringKey(record: $0, secondsLeft: left($0)) }.json)
    case .table:
      guard !keys.isEmpty else {
        ctx.note("no active key expires within \(Time.describe(seconds: within))")
        break
      }
      let rows = keys.map { k -> [Cell] in
        let l = left(k)
        return [
          Cell(k.id), Cell(k.name), Cell(k.company), Cell(k.env.rawValue),
          Cell(Time.rfc3339(k.expiresAt ?? t)),
          l > 0 ? Cell(Time.describe(seconds: l), .yellow) : Cell("expired \(Time.describe(seconds: -l)) ago", .red),
          Cell(k.contact ?? "-"),
        ]
      }
      Table.print(
        ["ID", "NAME", "COMPANY", "ENV", "EXPIRES", "LEFT", "CONTACT"], rows, to: ctx.stdout, color: ctx.useColor,
        width: ctx.tableWidth)
    }
    return checkStatus(inv, found: !keys.isEmpty)
  }

  // MARK: - rotation-due

  static let rotationDue: RunFunction = { inv, ctx throws(IVKeysError) in
    let company = try inv.parse(.company, Fields.company)
    let within = try inv.parse(.within, Time.parseDuration) ?? 0
    guard within >= 0 else {
      throw .invalidValue(option: "--within", value: inv.value(.within) ?? "", reason: "must not be negative")
    }
    let vault = try ctx.openVault()
    let due = try vault.rotationDue(company: company, within: within)
    switch ctx.format {
    case .quiet: for d in due { ctx.stdout.line(d.record.id) }
    case .json:
      ctx.stdout.line(due.json)
    case .table:
      guard !due.isEmpty else {
        ctx.note("no active key is due for rotation" + (within > 0 ? " within \(Time.describe(seconds: within))" : ""))
        break
      }
      let rows = due.map { d -> [Cell] in
        [
          Cell(d.record.id), Cell(d.record.name), Cell(d.record.company), Cell(d.record.env.rawValue),
          Cell(Time.rfc3339(d.record.createdAt)), Cell("\(d.period / 86400)d"),
          d.overdue >= 0
            ? Cell(Time.describe(seconds: d.overdue), .red)
            : Cell("due in \(Time.describe(seconds: -d.overdue))", .yellow),
          Cell(d.reason ?? "age"),
        ]
      }
      Table.print(
        ["ID", "NAME", "COMPANY", "ENV", "CREATED", "POLICY", "OVERDUE", "REASON"], rows, to: ctx.stdout,
        color: ctx.useColor,
        width: ctx.tableWidth)
      ctx.hint("'ivkeys rotate ID' replaces a key with a new one carrying the same settings")
    }
    return checkStatus(inv, found: !due.isEmpty)
  }

  // MARK: - sweep

  static let sweep: RunFunction = { inv, ctx throws(IVKeysError) in
    let dryRun = inv.flag(.dryRun)
    let vault = try ctx.openVault()
    let swept = try vault.sweep(dryRun: dryRun)
    switch ctx.format {
    case .quiet: for s in swept { ctx.stdout.line(s.record.id) }
    case .json:
      ctx.stdout.line(swept.json)
    case .table:
      let rows = swept.map { s -> [Cell] in
        [
          Cell(s.record.id), Cell(s.previousStatus.rawValue), Cell(s.newStatus.rawValue, Color.of(s.newStatus)),
          Cell(s.record.name), Cell(s.reason),
        ]
      }
      if !rows.isEmpty {
        Table.print(
          ["ID", "WAS", dryRun ? "WOULD BE" : "NOW", "NAME", "WHY"], rows, to: ctx.stdout, color: ctx.useColor,
          width: ctx.tableWidth)
      }
    }
    let revoked = swept.filter { $0.newStatus == .revoked }.count
    let summary =
      swept.isEmpty
      ? "nothing to sweep"
      : "\(dryRun ? "would record" : "recorded") \(revoked) revoked (rotation grace ended) and \(swept.count - revoked) expired"
    ctx.note(summary + (dryRun && !swept.isEmpty ? " (dry run: nothing changed)" : ""))
    return 0
  }
}
