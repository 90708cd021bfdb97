import IVKeysCore

/// `ivkeys leak PATH…|- [--action suspend|rotate|revoke] [--reason TEXT] [--dry-run] [--yes]`:
/// scans as `scan` does, then answers every found key the vault holds that still works: a
/// `key.leaked` audit entry with each location, the action (in one transaction, see
/// `Vault.respondToLeaks`), an e-mail to the key's contact, and a report of what was done.
///
/// Without `--action` the key's status is left alone, but the leak is still recorded and the
/// contact told, once: a leak found is a fact for the audit log whatever is done about it.
/// Exit status as `scan`: 3 when any key was found, 0 when none; 1 when something could not be
/// read (and nothing was found) or a message could not be sent; 2 for usage.
enum LeakCommand {
  /// The reason recorded when `--reason` is not given.
  static let defaultReason = "leaked: found by ivkeys leak"

  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let paths = ScanCommand.rawPaths(inv.arguments)
    try ScanCommand.checkPaths(paths)
    let action = try inv.parse(.action) { (s) throws(ValueError) -> LeakResponse.Action in
      guard let a = LeakResponse.Action(rawValue: s) else { throw ValueError("expected suspend, rotate or revoke") }
      return a
    }
    let reason = try inv.parse(.reason, Fields.reason) ?? defaultReason
    let mail = try MailSettings(inv, ctx)
    let vault = try ctx.openVault()
    let scanner = try ScanCommand.scan(paths, ctx)
    let leaked = group(scanner.findings)
    let results = try vault.respondToLeaks(
      leaked, action: action, reason: reason, dryRun: mail.dryRun, confirmed: inv.flag(.yes))
    var failures = 0
    var notified = [String: String]()
    if !mail.dryRun {
      for r in results where r.recorded {
        if let to = notify(r, mail, vault, ctx) { notified[r.leaked.keyID] = to } else { failures += 1 }
      }
    }
    LeakReport(results: results, notified: notified, dryRun: mail.dryRun, action: action).print(ctx)
    ctx.stdout.flush()
    if let failure = ctx.stdout.failure {
      for r in results {
        guard let rotation = r.rotation else { continue }
        let e = Delivery.rotationNotDelivered(rotation, failure: failure, vault: vault)
        CLI.report(e.description, hint: e.hint, to: ctx.stderr)
      }
      return 1
    }
    notes(results, scanner, dryRun: mail.dryRun, action: action, ctx)
    if failures > 0 { return 1 }
    if !leaked.isEmpty { return 3 }
    if scanner.statistics.unreadable > 0 {
      CLI.report(
        "the scan is incomplete: \(plural(scanner.statistics.unreadable, "file or directory", "files or directories")) could not be read",
        hint: "the warnings above name them; fix their permissions or leave them out", to: ctx.stderr)
      return 1
    }
    return 0
  }

  /// The findings by key, in the order each key was first found, with every `file:line`.
  static func group(_ findings: [LeakScanner.Finding]) -> [LeakResponse.LeakedKey] {
    var order = [String]()
    var env = [String: KeyEnvironment]()
    var places = [String: [String]]()
    for f in findings {
      if places[f.keyID] == nil {
        order.append(f.keyID)
        env[f.keyID] = f.env
      }
      // A file whose name holds a key would put the secret in the audit log: cut short.
      places[f.keyID, default: []].append("\(Text.redactKeys(f.file)):\(f.line)")
    }
    return order.map { LeakResponse.LeakedKey(keyID: $0, env: env[$0] ?? .live, locations: places[$0] ?? []) }
  }

  /// E-mails the contact of a key just recorded as leaked; the address, or nil when it failed.
  /// A key with no usable contact is a warning, not a failure, and returns "".
  static func notify(_ r: LeakResponse.Result, _ mail: MailSettings, _ vault: Vault, _ ctx: Context) -> String? {
    let id = r.leaked.keyID
    guard let contact = r.record?.contact, let address = try? Fields.email(contact) else {
      ctx.warning("key \(id) has no contact to notify")
      ctx.hint("set one with 'ivkeys update \(id) --contact EMAIL'")
      return ""
    }
    let notice = LeakNotice(result: r, recipient: address, from: mail.sender, host: mail.host, now: vault.now())
    ctx.stderr.flush()
    do throws(IVKeysError) {
      try Sendmail.deliver(notice.message, command: mail.command)
    } catch {
      CLI.report(
        "the notice for key \(id) to \(address) was not sent: \(error.description)",
        hint: "the leak is recorded and a second 'ivkeys leak' does not send it again: tell \(address) yourself",
        to: ctx.stderr)
      return nil
    }
    do throws(IVKeysError) {
      try vault.recordLeakNotice(notice)
    } catch {
      CLI.report(
        "the notice for key \(id) was sent but could not be recorded: \(error.description)", hint: nil, to: ctx.stderr)
      return nil
    }
    return address
  }

  /// What was found and done, on stderr.
  static func notes(
    _ results: [LeakResponse.Result], _ scanner: LeakScanner, dryRun: Bool, action: LeakResponse.Action?,
    _ ctx: Context
  ) {
    guard ctx.format == .table else { return }
    ctx.note(ScanCommand.summary(scanner.statistics, found: scanner.findings.count, vault: true))
    for r in results { if let note = r.note { ctx.warning("key \(r.leaked.keyID): --action not applied: \(note)") } }
    let recorded = results.filter(\.recorded).count
    if dryRun && recorded > 0 { ctx.note("dry run: nothing changed, nothing recorded, no message sent") }
    if action == nil && results.contains(where: { $0.outcome == .reported }) {
      ctx.hint("the keys still work: 'ivkeys leak … --action rotate' replaces them, '--action suspend' stops them")
    }
    if results.contains(where: { $0.rotation != nil }) {
      ctx.hint("this is the only time the new keys are shown; store them now")
    }
  }
}
