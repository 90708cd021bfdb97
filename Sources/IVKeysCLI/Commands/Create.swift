import IVKeysCore

/// `ivkeys create`: every value is parsed and checked before the vault is touched; the keys are
/// printed once their transaction has committed, and revoked if they cannot be.
enum CreateCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let company = try inv.required(.company, Fields.company)
    let name = try inv.required(.name, Fields.name)
    var scopes = try KeyOptions.scopes(inv, .scope)
    if let p = inv.value(.preset) {
      guard let preset = Scopes.preset(p) else {
        let names = Scopes.presets.map(\.name)
        let hint =
          Text.suggestion(for: p, among: names).map { "did you mean '\($0)'?" }
          ?? "presets: \(names.joined(separator: ", "))"
        throw .invalidValue(option: "--preset", value: p, reason: "no such preset; \(hint)")
      }
      scopes = preset
    }
    guard !scopes.isEmpty else {
      throw .usage("'ivkeys create' needs --scope or --preset", hint: "usage: \(Help.usageLine(path: "create"))")
    }
    var draft = KeyDraft(company: company, name: name, scopes: scopes)
    draft.env = try KeyOptions.env(inv) ?? .live
    draft.type = try KeyOptions.type(inv) ?? .regular
    draft.linkedCompanies = try KeyOptions.companies(inv, .linkCompany)
    let now = Time.now()
    draft.expiresAt = try KeyOptions.expiry(inv, now: now)
    draft.allowedIPs = try KeyOptions.ips(inv, .allowIP)
    draft.rateLimit = try KeyOptions.rateLimit(inv)
    draft.budget = try KeyOptions.budget(inv)
    draft.metadata = try KeyOptions.metadata(inv)
    draft.tags = try inv.parseList(.tag, Fields.tag)
    draft.contact = try inv.parse(.contact, Fields.email)
    draft.workSchedule = try KeyOptions.workSchedule(inv)
    let count =
      try inv.parse(.count) { (s) throws(ValueError) -> Int in
        guard let n = Int(s), n >= 1, n <= maximumKeyCount, s.first != "+" else {
          throw ValueError("expected a whole number from 1 to \(maximumKeyCount)")
        }
        return n
      } ?? 1

    let vault = try ctx.openVault()
    let showProgress = ctx.stderr.isTerminal && count >= 10_000
    let faults = FaultInjection.isArmed(ctx.environment)
    // Commit first, print after: the write lock is released before a slow reader can hold it.
    let batch = try vault.createKeys(
      draft, count: count,
      progress: showProgress || faults
        ? { n in
          FaultInjection.killIfAsked(at: "rows:\(n)", environment: ctx.environment)
          guard showProgress else { return }
          ctx.stderr.write("\rivkeys: creating keys: \(n)/\(count)")
          ctx.stderr.flush()
        } : nil)
    FaultInjection.killIfAsked(at: "committed", environment: ctx.environment)
    if showProgress { ctx.stderr.line() }
    print(batch, single: count == 1 && inv.value(.count) == nil, ctx)
    ctx.stdout.flush()
    if let failure = ctx.stdout.failure {
      throw Delivery.createNotDelivered(batch.keys.map(\.id), failure: failure, vault: vault)
    }
    FaultInjection.killIfAsked(at: "printed", environment: ctx.environment)
    if ctx.format == .table {
      ctx.hint(
        count == 1
          ? "this is the only time the key is shown; store it now"
          : "this is the only time these keys are shown; store them now")
    }
    KeyOptions.warnOfOpenRanges(draft.allowedIPs, ctx)
    if Scopes.isHighPrivilege(scopes) {
      if draft.expiresAt == nil {
        ctx.warning("this key has write or wildcard scopes and no expiry")
        ctx.hint("give high-privilege keys an expiry within 90 days: --expires-in 90d")
      } else if let e = draft.expiresAt, e - now > 90 * 86400 {
        ctx.warning("this key has write or wildcard scopes and expires more than 90 days from now")
        ctx.hint("give high-privilege keys an expiry within 90 days: --expires-in 90d")
      }
    }
    return 0
  }

  /// Prints a batch in the chosen format. Keys go out one by one: a million fit in memory only
  /// because nothing per key but the key itself is held.
  static func print(_ batch: CreatedBatch, single: Bool, _ ctx: Context) {
    switch ctx.format {
    case .quiet:
      for k in batch.keys { ctx.stdout.line(k.string) }
    case .json:
      if single {
        ctx.stdout.line(KeyRendering.json(batch.template, key: batch.keys[0].string))
      } else {
        var array = JSONArrayStream(ctx.stdout)
        for k in batch.keys { array.append { w in batch.record(for: k).writeJSON(to: &w, plaintextKey: k.string) } }
        array.close()
      }
    case .table:
      // Every row has the same widths (ids and keys are fixed-width), so rows stream.
      let t = batch.template
      func row(_ k: APIKey) -> [Cell] {
        [Cell(k.id), Cell(t.env.rawValue), Cell(t.company), Cell(t.name), Cell(k.string)]
      }
      var table = Table(
        headers: ["ID", "ENV", "COMPANY", "NAME", "KEY"], useColor: ctx.useColor, width: ctx.tableWidth)
      table.measure(row(batch.keys[0]))
      ctx.stdout.line(table.header())
      for k in batch.keys { ctx.stdout.line(table.render(row(k))) }
    }
  }
}
