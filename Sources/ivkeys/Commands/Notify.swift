import IVKeysCore

/// `ivkeys notify`: e-mails the contact of each key expiring soon, once per key and expiry.
enum NotifyCommand {
  static let defaultSendmail = "/usr/sbin/sendmail -t -i"

  /// What became of one key in the window.
  enum Outcome: String {
    case sent, failed, wouldSend = "would_send", alreadySent = "already_sent", noContact = "no_contact"
  }

  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let within = try MaintenanceCommand.window(inv)
    let command = inv.value("sendmail") ?? defaultSendmail
    guard !command.allSatisfy(\.isWhitespace) else {
      throw .invalidValue(option: "--sendmail", value: command, reason: "the command is empty")
    }
    let host = Sendmail.hostName()
    let sender = try inv.parse("from", Fields.email) ?? "\(ctx.actor.osUser)@\(host)"
    let dryRun = inv.flag("dry-run")
    let vault = try ctx.openVault()
    let plan = try vault.planNotifications(within: within, from: sender, host: host)

    var results = [(KeyRecord, Outcome, ExpiryNotice?)]()
    var failures = 0
    for notice in plan.notices {
      if dryRun {
        results.append((notice.record, .wouldSend, notice))
        continue
      }
      ctx.stderr.flush()
      do throws(IVKeysError) {
        try Sendmail.deliver(notice.message, command: command)
      } catch {
        failures += 1
        CLI.report("the notice for key \(notice.record.id) to \(notice.recipient) was not sent: \(error.description)",
                   hint: "it is not recorded as sent; the next 'ivkeys notify' tries again", to: ctx.stderr)
        results.append((notice.record, .failed, notice))
        continue
      }
      do throws(IVKeysError) {
        try vault.recordNotification(notice)
      } catch {
        throw .io("the notice for key \(notice.record.id) was sent but could not be recorded: \(error.description)",
                  hint: "it may be sent again by the next 'ivkeys notify'")
      }
      results.append((notice.record, .sent, notice))
    }
    results += plan.alreadySent.map { ($0, .alreadySent, nil) }
    results += plan.noContact.map { ($0, .noContact, nil) }

    switch ctx.format {
    case .quiet:
      for (k, outcome, _) in results where outcome == .sent || outcome == .wouldSend { ctx.stdout.line(k.id) }
    case .json:
      var w = JSONWriter()
      w.raw("[")
      for (i, (k, outcome, notice)) in results.enumerated() {
        if i > 0 { w.raw(",") }
        w.raw("{")
        w.key("key_id", first: true); w.string(k.id)
        w.key("company"); w.string(k.company)
        w.key("to"); w.optional(notice?.recipient ?? k.contact)
        w.key("expires_at"); w.time(k.expiresAt)
        w.key("result"); w.string(outcome.rawValue)
        w.key("message_id"); w.optional(notice?.messageID)
        if dryRun { w.key("message"); w.optional(notice?.message) }
        w.raw("}")
      }
      w.raw("]")
      ctx.stdout.line(w.string)
    case .table:
      if dryRun {
        for (i, notice) in plan.notices.enumerated() {
          if i > 0 { ctx.stdout.line("") }
          ctx.stdout.write(notice.message)  // free text in it is already escaped
        }
      } else {
        for (k, outcome, notice) in results where outcome == .sent {
          ctx.stdout.line("sent  \(k.id)  to \(notice?.recipient ?? "")  (expires \(Time.rfc3339(k.expiresAt ?? 0)))")
        }
      }
    }
    if !plan.alreadySent.isEmpty {
      ctx.note("\(plan.alreadySent.count) key\(plan.alreadySent.count == 1 ? " was" : "s were") already notified of this expiry")
    }
    for k in plan.noContact {
      ctx.warning("key \(k.id) expires at \(Time.rfc3339(k.expiresAt ?? 0)) and has no contact to notify")
    }
    if !plan.noContact.isEmpty { ctx.hint("set one with 'ivkeys update ID --contact EMAIL'") }
    if dryRun && !plan.notices.isEmpty {
      ctx.note("dry run: \(plan.notices.count) message\(plan.notices.count == 1 ? "" : "s") not sent, nothing recorded")
    }
    if plan.notices.isEmpty && plan.alreadySent.isEmpty && plan.noContact.isEmpty {
      ctx.note("no active key expires within \(Time.describe(seconds: within))")
    }
    return failures > 0 ? 1 : 0
  }
}
