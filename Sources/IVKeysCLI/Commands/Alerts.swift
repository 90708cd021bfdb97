import IVKeysCore

/// `ivkeys alerts`: the alerts the rules raise, their parameters, and acknowledging them.
enum AlertsCommand {
  // MARK: - alerts

  static let list: RunFunction = { inv, ctx throws(IVKeysError) in
    var query = AlertQuery(since: try since(inv), rules: try rules(inv))
    query.company = try inv.parse(.company, Fields.company)
    let vault = try ctx.openVault(.read)
    if let key = inv.value(.key) { query.keyID = try vault.resolve(key).id }
    var shown = try vault.alerts(query)
    if !inv.flag(.all) { shown.removeAll { !$0.isOpen } }
    var times = AlertHourTexts(shown.first?.hour ?? 0)
    switch ctx.format {
    case .quiet:
      for a in shown {
        times = times.of(a.hour)
        ctx.stdout.line(times.id(a))
      }
    case .json:
      // Element by element: a day of after_hours alerts over many keys is a lot of text.
      var stream = JSONArrayStream(ctx.stdout)
      for a in shown {
        times = times.of(a.hour)
        stream.append { w in a.writeJSON(to: &w, times: times) }
      }
      stream.close()
    case .table:
      if shown.isEmpty {
        ctx.note("no \(inv.flag(.all) ? "" : "open ")alert in the last \(Time.describe(seconds: query.since))")
      } else {
        printTable(shown, status: inv.flag(.all), ctx)
        ctx.hint("'ivkeys alerts ack ID' closes one; 'ivkeys usage KEY' shows a key's usage")
      }
    }
    return MaintenanceCommand.checkStatus(inv, found: shown.contains(where: \.isOpen))
  }

  /// `--since DUR`, more than 0 (default 24h).
  static func since(_ inv: Invocation) throws(IVKeysError) -> Int64 {
    guard let s = try inv.parse(.since, Time.parseDuration) else { return 86400 }
    guard s > 0 else {
      throw .invalidValue(option: "--since", value: inv.value(.since) ?? "", reason: "must be longer than 0")
    }
    return s
  }

  /// `--rule R`…, each a known rule; nil for every rule.
  static func rules(_ inv: Invocation) throws(IVKeysError) -> Set<AlertRule>? {
    let names = inv.list(.rule)
    guard !names.isEmpty else { return nil }
    let known = AlertRule.allCases.map(\.rawValue).joined(separator: ", ")
    var out = Set<AlertRule>()
    for n in names {
      guard let r = AlertRule(rawValue: n) else {
        throw .invalidValue(option: "--rule", value: n, reason: "not a rule; the rules are \(known)")
      }
      out.insert(r)
    }
    return out
  }

  static func printTable(_ alerts: [Alert], status: Bool, _ ctx: Context) {
    let rows = alerts.map { a -> [Cell] in
      var row = [
        Cell(a.id), Cell(a.company), Cell(AlertNotice.value(a.observed, a.rule), .red),
        Cell(AlertNotice.value(a.threshold, a.rule)),
      ]
      if status { row.append(a.isOpen ? Cell("open", .yellow) : Cell("acknowledged")) }
      row.append(Cell(a.message))
      return row
    }
    Table.print(
      ["ID", "COMPANY", "OBSERVED", "THRESHOLD"] + (status ? ["STATUS"] : []) + ["MESSAGE"], rows, to: ctx.stdout,
      color: ctx.useColor, width: ctx.tableWidth)
  }

  // MARK: - alerts rules

  static let rulesTable: RunFunction = { inv, ctx throws(IVKeysError) in
    let rules = try ctx.openVault(.read).alertRules()
    switch ctx.format {
    case .json: ctx.stdout.line(AlertRulesJSON(rules: rules).json)
    case .quiet: for p in AlertRules.parameters { ctx.stdout.line(p.qualifiedName) }
    case .table:
      var rows = [[Cell]]()
      for rule in AlertRule.allCases {
        let params = AlertRules.parameters.filter { $0.rule == rule }
        for p in params {
          let v = rules[p.qualifiedName]
          rows.append([
            Cell(p.qualifiedName), Cell(AlertParameter.format(v), v == p.defaultValue ? nil : .yellow),
            Cell(AlertParameter.format(p.defaultValue)), Cell(p.help),
          ])
        }
        if params.isEmpty {
          rows.append([Cell(rule.rawValue), Cell("-"), Cell("-"), Cell("working hours: see 'ivkeys alerts hours'")])
        }
      }
      Table.print(
        ["RULE.PARAMETER", "VALUE", "DEFAULT", "MEANING"], rows, to: ctx.stdout, color: ctx.useColor,
        width: ctx.tableWidth)
    }
    return 0
  }

  // MARK: - alerts set

  static let set: RunFunction = { inv, ctx throws(IVKeysError) in
    let name = inv.arguments[0]
    let text = inv.arguments[1]
    // Checked before the vault is opened: a bad name or value writes nothing.
    let p = try AlertRules.parameter(name)
    let value: Double
    do throws(ValueError) { value = try p.parse(text) } catch { throw error.for(p.qualifiedName, text) }
    let before = try ctx.openVault().setAlertParameter(p.qualifiedName, text)
    let line = "\(p.qualifiedName): \(AlertParameter.format(before)) -> \(AlertParameter.format(value))"
    switch ctx.format {
    case .quiet: ctx.stdout.line(p.qualifiedName)
    case .json:
      ctx.stdout.line(
        JSON.object([("parameter", .string(p.qualifiedName)), ("before", .number(before)), ("after", .number(value))])
          .encoded)
    case .table: ctx.stdout.line(line)
    }
    if before == value { ctx.note("\(p.qualifiedName) was already \(AlertParameter.format(value)): nothing changed") }
    return 0
  }

  // MARK: - alerts ack

  static let ack: RunFunction = { inv, ctx throws(IVKeysError) in
    let text = inv.arguments[0]
    do throws(ValueError) { _ = try AlertID.parse(text) } catch { throw error.for("ID", text) }
    let result = try ctx.openVault().acknowledgeAlert(text)
    let alert: Alert
    switch result {
    case .acknowledged(let a): alert = a
    case .alreadyAcknowledged(let a):
      alert = a
      let when = a.acknowledgedAt.map { " at \(Time.rfc3339($0))" } ?? ""
      ctx.note("alert \(a.id) was already acknowledged\(when) by \(a.acknowledgedBy ?? "?"): nothing recorded")
    }
    switch ctx.format {
    case .quiet: ctx.stdout.line(alert.id)
    case .json: ctx.stdout.line(alert.json)
    case .table:
      if case .acknowledged = result { ctx.stdout.line("acknowledged  \(alert.id)") }
    }
    return 0
  }
}
