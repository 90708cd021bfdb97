import IVKeysCore

/// `ivkeys notify`: e-mails the contact of each key expiring soon, once per key and expiry.
enum NotifyCommand {
  typealias Outcome = DeliveryOutcome

  /// One key of the plan and what became of it.
  typealias Result = (record: KeyRecord, outcome: Outcome, notice: ExpiryNotice?)

  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let within = try MaintenanceCommand.window(inv)
    let mail = try MailSettings(inv, ctx)
    let vault = try ctx.openVault()
    let plan = try vault.planNotifications(within: within, from: mail.sender, host: mail.host)
    var sending = NoticeSending<ExpiryNotice>(rerun: "ivkeys notify")
    if mail.dryRun {
      sending.results = plan.notices.map { ($0, .wouldSend) }
    } else {
      sending.send(plan.notices, command: mail.command, vault: vault, ctx)
    }
    let inProgress = plan.inProgress + sending.claimedElsewhere.map(\.record)
    let results: [Result] =
      sending.results.map { ($0.notice.record, $0.outcome, $0.notice) }
      + plan.alreadySent.map { ($0, .alreadySent, nil) }
      + inProgress.map { ($0, .inProgress, nil) } + plan.noContact.map { ($0, .noContact, nil) }
    printResults(results, plan: plan, dryRun: mail.dryRun, ctx)
    printNotes(plan, inProgress: inProgress, within: within, dryRun: mail.dryRun, ctx)
    return sending.failures > 0 ? 1 : 0
  }

  /// The results in the chosen format: ids, JSON, or the messages (dry run) or a line per sent one.
  static func printResults(_ results: [Result], plan: NotificationPlan, dryRun: Bool, _ ctx: Context) {
    switch ctx.format {
    case .quiet:
      for (k, outcome, _) in results where outcome == .sent || outcome == .wouldSend { ctx.stdout.line(k.id) }
    case .json:
      ctx.stdout.line(
        results.map { NotifyResult(record: $0.record, outcome: $0.outcome, notice: $0.notice, dryRun: dryRun) }.json)
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
  }

  /// What was not sent and why, on stderr.
  static func printNotes(
    _ plan: NotificationPlan, inProgress: [KeyRecord], within: Int64, dryRun: Bool, _ ctx: Context
  ) {
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
  }
}
