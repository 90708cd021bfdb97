import IVKeysCore

/// `ivkeys alerts hours [COMPANY [HOURS] [--tz ZONE] [--clear]]`: the working hours after_hours
/// alerts follow.
enum AlertsHoursCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let args = inv.arguments
    guard let first = args.first else {
      if inv.flag(.tz) || inv.flag(.clear) {
        throw .usage(
          "--\(inv.flag(.tz) ? "tz" : "clear") needs a COMPANY",
          hint: "usage: \(Help.usageLine(path: "alerts hours"))")
      }
      show(try ctx.openVault(.read).workingHoursSettings(), ctx)
      return 0
    }
    let company: String
    do throws(ValueError) { company = try Fields.company(first) } catch { throw error.for("COMPANY", first) }
    if inv.flag(.clear) {
      guard args.count == 1, !inv.flag(.tz) else {
        throw .usage("--clear removes a company's working hours: give no HOURS and no --tz", hint: nil)
      }
      try ctx.openVault().setCompanyWorkSchedule(company, nil)
      if ctx.format == .table { ctx.stdout.line("\(company): no working hours") } else { show([], ctx) }
      return 0
    }
    guard args.count == 2 else {
      if inv.flag(.tz) { throw .usage("--tz sets the zone of HOURS: give HOURS too", hint: nil) }
      show(try ctx.openVault(.read).workingHoursSettings().filter { $0.subject == .company(company) }, ctx)
      return 0
    }
    // Checked before the vault is opened: bad hours or an unknown zone write nothing.
    let hours: WorkingHours
    do throws(ValueError) { hours = try WorkingHours.parse(args[1]) } catch { throw error.for("HOURS", args[1]) }
    let zone = try inv.parse(.tz, ZoneClock.validate) ?? "UTC"
    let vault = try ctx.openVault()
    try vault.setCompanyWorkSchedule(company, WorkSchedule(hours: hours, zone: zone))
    show(try vault.workingHoursSettings().filter { $0.subject == .company(company) }, ctx)
    return 0
  }

  /// The settings as a table, JSON or subjects.
  static func show(_ settings: [WorkingHoursSetting], _ ctx: Context) {
    switch ctx.format {
    case .quiet: for s in settings { ctx.stdout.line(s.subjectText) }
    case .json: ctx.stdout.line(settings.json)
    case .table:
      guard !settings.isEmpty else {
        ctx.note("no working hours set: after_hours alerts check no key")
        return
      }
      let rows = settings.map { s -> [Cell] in
        [
          Cell(s.subjectText), Cell(s.schedule?.hours.description ?? s.stored, s.damaged ? .red : nil), Cell(s.zone),
          Cell(Time.rfc3339(s.setAt)), Cell(s.setBy),
        ]
      }
      Table.print(
        ["FOR", "HOURS", "TZ", "SET", "BY"], rows, to: ctx.stdout, color: ctx.useColor, width: ctx.tableWidth)
    }
  }
}

extension WorkingHoursSetting {
  /// `company acme` or `key ID`.
  var subjectText: String {
    switch subject {
    case .company(let c): return "company \(c)"
    case .key(let k): return "key \(k)"
    }
  }
}
