import IVKeysCore

/// `ivkeys create`: every value is parsed and checked before the vault is touched.
enum CreateCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let company = try inv.required("company", Fields.company)
    let name = try inv.required("name", Fields.name)
    var scopes = try KeyOptions.scopes(inv, "scope")
    if let p = inv.value("preset") {
      guard let preset = Scopes.preset(p) else {
        let names = Scopes.presets.map(\.name)
        let hint = Text.suggestion(for: p, among: names).map { "did you mean '\($0)'?" } ?? "presets: \(names.joined(separator: ", "))"
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
    draft.linkedCompanies = try KeyOptions.companies(inv, "link-company")
    if !draft.linkedCompanies.isEmpty && draft.type != .ats {
      throw .usage("--link-company applies only to ATS keys", hint: "add --type ats, or drop --link-company")
    }
    if draft.type == .ats && draft.linkedCompanies.isEmpty {
      throw .usage("an ATS key needs at least one --link-company", hint: "name each company the integration serves")
    }
    let now = Time.now()
    draft.expiresAt = try KeyOptions.expiry(inv, now: now)
    draft.allowedIPs = try KeyOptions.ips(inv, "allow-ip")
    draft.rateLimit = try KeyOptions.rateLimit(inv)
    draft.metadata = try KeyOptions.metadata(inv)
    draft.tags = try inv.parseList("tag", Fields.tag)
    draft.contact = try inv.parse("contact", Fields.email)
    let count = try inv.parse("count") { (s) throws(ValueError) -> Int in
      guard let n = Int(s), n >= 1, n <= maximumKeyCount, s.first != "+" else {
        throw ValueError("expected a whole number from 1 to \(maximumKeyCount)")
      }
      return n
    } ?? 1

    let vault = try ctx.openVault()
    let showProgress = ctx.stderr.isTerminal && count >= 10_000
    let created = try vault.createKeys(draft, count: count, progress: showProgress ? { n in
      ctx.stderr.write("\rivkeys: creating keys: \(n)/\(count)")
      ctx.stderr.flush()
    } : nil)
    if showProgress { ctx.stderr.line() }

    switch ctx.format {
    case .quiet:
      for c in created { ctx.stdout.line(c.key.string) }
    case .json:
      if count == 1 && inv.value("count") == nil {
        ctx.stdout.line(KeyRendering.json(created[0].record, key: created[0].key.string))
      } else {
        ctx.stdout.write("[")
        for (i, c) in created.enumerated() {
          if i > 0 { ctx.stdout.write(",") }
          ctx.stdout.write(KeyRendering.json(c.record, key: c.key.string))
        }
        ctx.stdout.line("]")
      }
    case .table:
      let rows = created.map { c in
        [Cell(c.record.id), Cell(c.record.env.rawValue), Cell(c.record.company), Cell(c.record.name), Cell(c.key.string)]
      }
      Table.print(["ID", "ENV", "COMPANY", "NAME", "KEY"], rows, to: ctx.stdout, color: ctx.useColor)
      ctx.hint(count == 1 ? "this is the only time the key is shown; store it now" : "this is the only time these keys are shown; store them now")
    }
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
}

