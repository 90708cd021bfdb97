import IVKeysCore

/// How keys are printed: table rows, the `show` view and JSON.
enum KeyRendering {
  static let headers = ["ID", "NAME", "COMPANY", "ENV", "TYPE", "STATUS", "SCOPES", "EXPIRES", "LAST USED"]

  static func row(_ k: KeyRecord) -> [Cell] {
    [
      Cell(k.id), Cell(k.name), Cell(k.company), Cell(k.env.rawValue), Cell(k.type.rawValue),
      Cell(k.displayStatus, Color.of(k.damaged ? .revoked : k.status)), Cell(k.scopes.joined(separator: ",")),
      Cell(k.expiresAt.map(Time.rfc3339) ?? "never"), Cell(k.lastUsedAt.map(Time.rfc3339) ?? "never"),
    ]
  }

  /// A key's JSON object with `key`, the plaintext key `create` and `rotate` print once
  /// (without one, `record.json`).
  static func json(_ k: KeyRecord, key: String) -> String {
    var w = JSONWriter()
    k.writeJSON(to: &w, plaintextKey: key)
    return w.string
  }

  /// The `show` view: one field a line; with the working hours that apply to the key when
  /// `show` looked them up.
  static func detail(_ k: KeyRecord, color: Bool, workingHours: KeyWorkingHours?? = nil) -> String {
    func list(_ l: [String], empty: String = "(none)") -> String { l.isEmpty ? empty : l.joined(separator: ", ") }
    var fields: [(String, String)] = [
      ("id", k.id), ("name", k.name), ("company", k.company), ("env", k.env.rawValue), ("type", k.type.rawValue),
    ]
    if k.type == .ats { fields.append(("linked companies", list(k.linkedCompanies))) }
    let status = color ? Color.of(k.damaged ? .revoked : k.status).wrap(k.displayStatus) : k.displayStatus
    fields += [
      ("status", status + (k.statusReason.map { " (\(Text.escapeControl($0)))" } ?? "")),
      ("scopes", list(k.scopes)),
      ("allowed ips", list(k.allowedIPs, empty: "any")),
      ("expires", k.expiresAt.map(Time.rfc3339) ?? "never"),
      ("rate limit", k.limits.map { $0.rate?.description ?? "none" } ?? "unreadable: \(k.rateLimit ?? "")"),
      ("metadata", k.metadata.isEmpty ? "(none)" : k.metadata.map { "\($0)=\($1)" }.joined(separator: ", ")),
      ("tags", list(k.tags)),
      ("contact", k.contact ?? "(none)"),
    ]
    if let budget = k.limits?.budget {
      fields.append(("request budget", budget.summary))
      if let left = k.requestsRemaining { fields.append(("remaining", String(left))) }
    }
    if let hours = workingHours { fields.append(("working hours", describe(hours, company: k.company))) }
    fields.append(("created", "\(Time.rfc3339(k.createdAt)) by \(k.createdBy)"))
    if let r = k.rotatedFrom { fields.append(("rotated from", r)) }
    if let r = k.replacedBy { fields.append(("replaced by", r)) }
    if let g = k.graceUntil { fields.append(("grace until", Time.rfc3339(g))) }
    fields += [("last used", k.lastUsedAt.map(Time.rfc3339) ?? "never"), ("requests", String(k.requestCount))]
    let width = (fields.map(\.0.count).max() ?? 0) + 2
    return fields.map { name, value in
      let v = name == "status" ? value : Text.escapeControl(value)
      return name + ":" + String(repeating: " ", count: width - name.count - 1) + v
    }.joined(separator: "\n")
  }

  /// Working hours as the `show` view writes them: `Mon-Fri 08:00-18:00 (Europe/Berlin)`, saying
  /// when they are the company's; `none`.
  static func describe(_ hours: KeyWorkingHours?, company: String) -> String {
    guard let h = hours else { return "none" }
    let source = h.source == .company ? ", from company \(company)" : ""
    return "\(h.hours) (\(h.zone)\(source))" + (h.damaged ? " [changed outside ivkeys]" : "")
  }

  /// `show --json`'s `working_hours`: `{"hours", "tz", "source"}`, or null.
  static func writeWorkingHours(_ hours: KeyWorkingHours?, to w: inout JSONWriter) {
    guard let h = hours else {
      w.member("working_hours", JSON.null)
      return
    }
    w.member(
      "working_hours",
      object: { w in
        w.member("hours", h.hours)
        w.member("tz", h.zone)
        w.member("source", h.source.rawValue)
      })
  }

  /// Prints keys that are all in memory, in the chosen format.
  static func print(_ keys: [KeyRecord], _ ctx: Context, single: Bool) {
    switch ctx.format {
    case .quiet: for k in keys { ctx.stdout.line(k.id) }
    case .json:
      if single, let k = keys.first {
        ctx.stdout.line(k.json)
      } else {
        ctx.stdout.line(keys.json)
      }
    case .table:
      if single, let k = keys.first {
        ctx.stdout.line(detail(k, color: ctx.useColor))
      } else {
        Table.print(headers, keys.map(row), to: ctx.stdout, color: ctx.useColor, width: ctx.tableWidth)
      }
    }
  }
}
