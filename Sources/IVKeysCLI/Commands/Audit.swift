import IVKeysCore

/// `ivkeys audit`: lists entries with filters, oldest first.
enum AuditCommand {
  /// How many entries `audit` shows on a terminal when no `--limit` is given.
  static let terminalLimit = 50

  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let vault = try ctx.openVault(.read)
    var filter = try AuditCommand.filter(inv, ctx, vault)
    // A terminal gets the newest entries, not every decision ever recorded; a pipe gets all.
    var total: Int?
    if filter.limit == nil && ctx.stdout.isTerminal {
      var n = 0
      try vault.auditEntries(filter) { _ in n += 1 }
      if n > terminalLimit {
        filter.limit = terminalLimit
        total = n
      }
    }
    defer {
      if let total {
        ctx.note("showing the newest \(terminalLimit) of \(total) entries; use --limit N, or pipe the output for all")
      }
    }
    let out = ctx.stdout
    switch ctx.format {
    case .quiet:
      try vault.auditEntries(filter) { e in out.line(String(e.seq)) }
    case .json:
      var array = JSONArrayStream(out)
      try vault.auditEntries(filter) { e in array.append { w in e.writeJSON(to: &w) } }
      array.close()
    case .table:
      var table = Table(
        headers: ["SEQ", "AT", "EVENT", "ACTOR", "KEY", "COMPANY", "DETAIL"], useColor: ctx.useColor,
        width: ctx.tableWidth)
      var count = 0
      try vault.auditEntries(filter) { e in
        table.measure(row(e))
        count += 1
      }
      guard count > 0 else {
        ctx.note("no audit entries match")
        return 0
      }
      out.line(table.header())
      try vault.auditEntries(filter) { e in out.line(table.render(row(e))) }
    }
    return 0
  }

  /// The filters `audit` and `audit export` share, from their options.
  static func filter(_ inv: Invocation, _ ctx: Context, _ vault: Vault) throws(IVKeysError) -> AuditFilter {
    let now = Time.now()
    var filter = AuditFilter()
    filter.company = try inv.parse(.company, Fields.company)
    filter.actor = inv.value(.actor)
    filter.events = try inv.parseList(.event) { (e) throws(ValueError) -> String in
      let known = Vault.auditEvents
      if e == "*" || known.contains(e) { return e }
      if e.hasSuffix(".*"), known.contains(where: { $0.hasPrefix(e.dropLast()) }) { return e }
      let hint =
        Text.suggestion(for: e, among: known).map { "did you mean '\($0)'?" }
        ?? "events: \(known.joined(separator: ", "))"
      throw ValueError("no such event; \(hint)")
    }
    filter.since = try inv.parse(.since) { (s) throws(ValueError) in try when(s, now: now) }
    // A bare date for --until means the whole of that day.
    filter.until = try inv.parse(.until) { (s) throws(ValueError) in
      try when(s, now: now) + (s.utf8.count == 10 ? 86399 : 0)
    }
    filter.limit = try inv.parse(.limit) { (s) throws(ValueError) -> Int in
      guard let n = Int(s), n >= 1, s.first != "+" else { throw ValueError("expected a whole number of at least 1") }
      return n
    }
    if let given = inv.value(.key) {
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
    return filter
  }

  /// A date, an RFC 3339 time, or a duration meaning that long ago.
  static func when(_ s: String, now: Timestamp) throws(ValueError) -> Timestamp {
    if let d = try? Time.parseDuration(s) { return now - d }
    do { return try Time.parseDate(s) } catch {
      throw ValueError("expected a date, an RFC 3339 time or a duration ago like 7d")
    }
  }

  static func row(_ e: AuditRecord) -> [Cell] {
    [
      Cell(String(e.seq)), Cell(e.at), Cell(e.event), Cell(e.actor), Cell(e.keyID ?? "-"), Cell(e.company ?? "-"),
      Cell(e.detail),
    ]
  }

}

/// `ivkeys audit head`, `audit verify` and `audit export`.
enum AuditChainCommand {
  static let head: RunFunction = { inv, ctx throws(IVKeysError) in
    guard let h = try ctx.openVault(.read).auditHead() else { throw .vault("the audit log is empty") }
    if ctx.format == .json {
      ctx.stdout.line(AuditHead(seq: h.seq, hash: h.hash).json)
    } else {
      ctx.stdout.line("\(h.seq) \(h.hash)")
    }
    return 0
  }

  /// `<seq> <hash>` as `audit head` prints it, or just the hash.
  static func expectedHead(_ s: String) throws(ValueError) -> (seq: Int64?, hash: String) {
    let parts = s.split(separator: " ", omittingEmptySubsequences: true)
    let hash = String(parts.last ?? "")
    guard parts.count <= 2, hash.utf8.count == 64, Crypto.unhex(hash) != nil, hash == hash.lowercased() else {
      throw ValueError("expected the output of 'ivkeys audit head': '<seq> <hash>', or the 64-digit hash alone")
    }
    var seq: Int64?
    if parts.count == 2 {
      guard let n = Int64(parts[0]), n >= 1 else { throw ValueError("the seq before the hash is a whole number") }
      seq = n
    }
    return (seq, hash)
  }

  static let verify: RunFunction = { inv, ctx throws(IVKeysError) in
    let expected = try inv.parse(.expectHead, expectedHead)
    // Read: a vault whose schema was changed outside ivkeys is still checked, not refused.
    let vault = try ctx.openVault(.read)
    let showProgress = ctx.stderr.isTerminal
    let result = try vault.verifyAudit(
      expectedHead: expected,
      progress: showProgress
        ? { n, total in
          ctx.stderr.write("\rivkeys: verifying the audit chain: \(n)/\(total)")
          ctx.stderr.flush()
        } : nil)
    if showProgress && result.entries >= 100_000 {
      ctx.stderr.line("\rivkeys: verifying the audit chain: \(result.entries)/\(result.entries)")
      ctx.stderr.flush()
    }
    switch ctx.format {
    case .json:
      ctx.stdout.line(result.json)
    case .quiet:
      ctx.stdout.line(result.intact ? "ok" : String(result.badSeq ?? 0))
    case .table:
      ctx.stdout.line(
        result.intact ? "ok: \(result.message)" : "broken at entry \(result.badSeq ?? 0): \(result.message)")
    }
    if !result.intact {
      ctx.hint("restore the vault from a backup that verifies, and find out who could write to it")
    }
    return result.intact ? 0 : 3
  }

  static let export: RunFunction = { inv, ctx throws(IVKeysError) in
    if inv.flag(.json) || inv.flag(.quiet) {
      throw .usage(
        "'ivkeys audit export' writes JSON lines or CSV; --json and -q do not apply",
        hint: "use --format jsonl or --format csv")
    }
    let format =
      try inv.parse(.format) { (s) throws(ValueError) -> String in
        guard s == "jsonl" || s == "csv" else { throw ValueError("expected jsonl or csv") }
        return s
      } ?? "jsonl"
    let vault = try ctx.openVault()
    let filter = try AuditCommand.filter(inv, ctx, vault)
    let out = ctx.stdout
    var w = JSONWriter(capacity: 4096)
    if format == "csv" {
      out.write(AuditRecord.csvHeader + "\r\n")
      try vault.auditEntries(filter) { e in
        w.clear()
        e.writeCSV(to: &w.bytes)
        out.write(bytes: w.bytes)
      }
    } else {
      try vault.auditEntries(filter) { e in
        w.clear()
        e.writeJSON(to: &w)
        w.raw("\n")
        out.write(bytes: w.bytes)
      }
    }
    try out.flushChecked("the audit log")
    return 0
  }
}
