import IVKeysCore

/// `ivkeys notify`: e-mails the contact of each key expiring soon, once per key and expiry.
enum NotifyCommand {
  static let defaultSendmail = "/usr/sbin/sendmail -t -i"

  /// What became of one key in the window.
  enum Outcome: String {
    case sent, failed, wouldSend = "would_send", alreadySent = "already_sent", inProgress = "in_progress"
    case noContact = "no_contact"
  }

  /// The sender when `--from` is not given: the OS user at this host, with anything a header
  /// must not hold left out of the user name.
  static func defaultSender(user: String, host: String) -> String {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".unicodeScalars)
    var local = String.UnicodeScalarView()
    local.append(contentsOf: user.unicodeScalars.filter(allowed.contains))
    return "\(local.isEmpty ? "ivkeys" : String(local))@\(host)"
  }

  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let within = try MaintenanceCommand.window(inv)
    let command = inv.value(.sendmail) ?? defaultSendmail
    guard !command.allSatisfy(\.isWhitespace) else {
      throw .invalidValue(option: "--sendmail", value: command, reason: "the command is empty")
    }
    let host = ExpiryNotice.hostName(Sendmail.hostName())
    let sender = try inv.parse(.from, Fields.email) ?? defaultSender(user: ctx.actor.osUser, host: host)
    let dryRun = inv.flag(.dryRun)
    let vault = try ctx.openVault()
    let plan = try vault.planNotifications(within: within, from: sender, host: host)

    var results = [(KeyRecord, Outcome, ExpiryNotice?)]()
    var failures = 0
    var inProgress = plan.inProgress
    func fail(_ message: String, hint: String) {
      failures += 1
      CLI.report(message, hint: hint, to: ctx.stderr)
    }
    // Each notice is claimed in the vault, sent, then recorded as sent; a refused message gives
    // its claim back. A vault that cannot be written stops the run before anything more is sent.
    sending: for notice in plan.notices {
      if dryRun {
        results.append((notice.record, .wouldSend, notice))
        continue
      }
      let id = notice.record.id
      do throws(IVKeysError) {
        guard try vault.claimNotification(notice) else {
          inProgress.append(notice.record)  // another run claimed it since the plan was made
          continue
        }
      } catch {
        fail("cannot claim the notice for key \(id) in the vault: \(error.description)", hint: "nothing more is sent")
        break sending
      }
      ctx.stderr.flush()
      do throws(IVKeysError) {
        try Sendmail.deliver(notice.message, command: command)
      } catch {
        fail("the notice for key \(id) to \(notice.recipient) was not sent: \(error.description)",
             hint: "it is not recorded as sent; the next 'ivkeys notify' tries again")
        try? vault.releaseNotification(notice)
        results.append((notice.record, .failed, notice))
        continue
      }
      do throws(IVKeysError) {
        try vault.recordNotification(notice)
      } catch {
        fail("the notice for key \(id) was sent but could not be recorded: \(error.description)",
             hint: "a 'notify' after \(Vault.notificationClaimSeconds / 60) minutes may send it again; nothing more is sent")
        results.append((notice.record, .sent, notice))
        break sending
      }
      results.append((notice.record, .sent, notice))
    }
    results += plan.alreadySent.map { ($0, .alreadySent, nil) }
    results += inProgress.map { ($0, .inProgress, nil) }
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
      let n = plan.alreadySent.count
      ctx.note("\(n) key\(n == 1 ? " was" : "s were") already notified of this expiry")
    }
    if !inProgress.isEmpty {
      let n = inProgress.count
      ctx.note(
        "\(n) notice\(n == 1 ? " is" : "s are") being sent by another 'ivkeys notify' (or it stopped while sending: "
          + "a claim lapses after \(Vault.notificationClaimSeconds / 60) minutes and the notice is sent then)")
    }
    for k in plan.noContact {
      ctx.warning("key \(k.id) expires at \(Time.rfc3339(k.expiresAt ?? 0)) and has no contact to notify")
    }
    if !plan.noContact.isEmpty { ctx.hint("set one with 'ivkeys update ID --contact EMAIL'") }
    if dryRun && !plan.notices.isEmpty {
      ctx.note("dry run: \(plural(plan.notices.count, "message")) not sent, nothing recorded")
    }
    if plan.notices.isEmpty && plan.alreadySent.isEmpty && plan.inProgress.isEmpty && plan.noContact.isEmpty {
      ctx.note("no active key expires within \(Time.describe(seconds: within))")
    }
    return failures > 0 ? 1 : 0
  }
}
