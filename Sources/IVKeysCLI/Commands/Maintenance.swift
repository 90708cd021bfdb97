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
    let idle = try idlePolicy(inv)
    let vault = try ctx.openVault()
    let result = try vault.sweep(dryRun: dryRun, idle: idle)
    let swept = result.swept
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
    warnOfSkipped(result, idle, ctx)
    ctx.note(summary(swept, dryRun: dryRun))
    if result.pruned.total > 0 {
      let p = result.pruned
      ctx.note(
        "pruned \(plural(p.total, "monitoring row")) older than \(monitoringRetentionHours / 24) days "
          + "(\(p.hours) hourly, \(p.days) daily, \(p.alerts) alert states)")
    }
    return 0
  }

  /// `--idle DUR --action suspend|revoke`, given together or not at all.
  static func idlePolicy(_ inv: Invocation) throws(IVKeysError) -> IdlePolicy? {
    let duration = try inv.parse(.idle, ListCommand.positiveDuration)
    let action = try inv.parse(.action) { (s) throws(ValueError) -> IdlePolicy.Action in
      guard let a = IdlePolicy.Action(rawValue: s) else { throw ValueError("expected suspend or revoke") }
      return a
    }
    switch (duration, action) {
    case (nil, nil): return nil
    case (let d?, let a?): return IdlePolicy(idleFor: d, text: inv.value(.idle) ?? "", action: a)
    case (nil, _?):
      throw .usage(
        "--action says what to do with idle keys and needs --idle DUR", hint: "for example --idle 365d --action revoke")
    case (_?, nil):
      throw .usage("--idle needs --action suspend or --action revoke", hint: "for example --idle 365d --action revoke")
    }
  }

  /// Warns of idle keys the sweep left alone: ATS keys (only an administrator changes one; sweep
  /// runs from cron) and keys whose row does not match its seal.
  static func warnOfSkipped(_ result: SweepResult, _ idle: IdlePolicy?, _ ctx: Context) {
    func ids(_ keys: [KeyRecord]) -> String {
      keys.prefix(10).map(\.id).joined(separator: ", ") + (keys.count > 10 ? ", …" : "")
    }
    if let idle, !result.skippedATS.isEmpty {
      ctx.warning(
        "left \(plural(result.skippedATS.count, "idle ATS key")) alone (\(ids(result.skippedATS))): "
          + "only a vault administrator may \(idle.action.rawValue) an ATS key")
      ctx.hint("run the sweep as an administrator ('ivkeys admin list'), or deal with them one by one")
    }
    if let idle, !result.skippedDamaged.isEmpty {
      ctx.warning(
        "left \(plural(result.skippedDamaged.count, "idle key")) alone (\(ids(result.skippedDamaged))): "
          + "\(result.skippedDamaged.count == 1 ? "its row does" : "their rows do") not match "
          + "\(result.skippedDamaged.count == 1 ? "its" : "their") seal, so only revoking "
          + "can change \(result.skippedDamaged.count == 1 ? "it" : "them") (--action revoke, not \(idle.action.rawValue))"
      )
    }
  }

  /// The one-line summary of a sweep.
  static func summary(_ swept: [SweptKey], dryRun: Bool) -> String {
    guard !swept.isEmpty else { return "nothing to sweep" }
    let timed = swept.filter { $0.idle == nil }
    let revoked = timed.filter { $0.newStatus == .revoked }.count
    var parts = [String]()
    if !timed.isEmpty {
      parts.append("\(revoked) revoked (rotation grace ended) and \(timed.count - revoked) expired")
    }
    let idle = swept.filter { $0.idle != nil }
    if let first = idle.first?.idle {
      parts.append("\(idle.count) \(idle[0].newStatus.rawValue) (\(first.reason))")
    }
    return "\(dryRun ? "would record" : "recorded") \(parts.joined(separator: "; "))"
      + (dryRun ? " (dry run: nothing changed)" : "")
  }
}
