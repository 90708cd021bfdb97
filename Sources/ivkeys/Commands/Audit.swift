import IVKeysCore

/// `ivkeys audit`: lists entries with filters, oldest first.
enum AuditCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let now = Time.now()
    var filter = AuditFilter()
    filter.company = try inv.parse("company", Fields.company)
    filter.actor = inv.value("actor")
    filter.events = try inv.parseList("event") { (e) throws(ValueError) -> String in
      let known = Vault.auditEvents
      if e == "*" || known.contains(e) { return e }
      if e.hasSuffix(".*"), known.contains(where: { $0.hasPrefix(e.dropLast()) }) { return e }
      let hint = Text.suggestion(for: e, among: known).map { "did you mean '\($0)'?" } ?? "events: \(known.joined(separator: ", "))"
      throw ValueError("no such event; \(hint)")
    }
    filter.since = try inv.parse("since") { (s) throws(ValueError) in try when(s, now: now) }
    filter.until = try inv.parse("until") { (s) throws(ValueError) in try when(s, now: now) }
    filter.limit = try inv.parse("limit") { (s) throws(ValueError) -> Int in
      guard let n = Int(s), n >= 1, s.first != "+" else { throw ValueError("expected a whole number of at least 1") }
      return n
    }
    let vault = try ctx.openVault()
    if let given = inv.value("key") {
      ShowCommand.warnIfWholeKey(given, ctx)
      let k = KeyReference.trimmed(given)
      // An id that no longer resolves (or never did) still filters: the log outlives keys.
      do throws(IVKeysError) { filter.keyID = try vault.resolve(k).id } catch {
        guard case .notFound = error, k.utf8.count == APIKey.idLength else {
          if case .invalidValue(_, let v, let r) = error { throw .invalidValue(option: "--key", value: v, reason: r) }
          throw error
        }
        filter.keyID = k
      }
    }
    let out = ctx.stdout
    switch ctx.format {
    case .quiet:
      try vault.auditEntries(filter) { e in out.line(String(e.seq)) }
    case .json:
      var first = true
      out.write("[")
      try vault.auditEntries(filter) { e in
        if !first { out.write(",") }
        first = false
        out.write(json(e))
      }
      out.line("]")
    case .table:
      var table = Table(headers: ["SEQ", "AT", "EVENT", "ACTOR", "KEY", "COMPANY", "DETAIL"], useColor: ctx.useColor)
      var count = 0
      try vault.auditEntries(filter) { e in table.measure(row(e)); count += 1 }
      guard count > 0 else {
        ctx.note("no audit entries match")
        return 0
      }
      out.line(table.header())
      try vault.auditEntries(filter) { e in out.line(table.render(row(e))) }
    }
    return 0
  }

  /// A date, an RFC 3339 time, or a duration meaning that long ago.
  static func when(_ s: String, now: Timestamp) throws(ValueError) -> Timestamp {
    if let d = try? Time.parseDuration(s) { return now - d }
    do { return try Time.parseDate(s) } catch {
      throw ValueError("expected a date, an RFC 3339 time or a duration ago like 7d")
    }
  }

  static func row(_ e: AuditRecord) -> [Cell] {
    [Cell(String(e.seq)), Cell(e.at), Cell(e.event), Cell(e.actor), Cell(e.keyID ?? "-"), Cell(e.company ?? "-"), Cell(e.detail)]
  }

  static func json(_ e: AuditRecord) -> String {
    var w = JSONWriter()
    e.writeJSON(to: &w)
    return w.string
  }
}
