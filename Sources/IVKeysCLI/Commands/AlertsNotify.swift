import IVKeysCore

/// `ivkeys alerts notify`: e-mails each open alert to its key's contact, once per alert.
enum AlertsNotifyCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let since = try AlertsCommand.since(inv)
    let mail = try MailSettings(inv, ctx)
    let vault = try ctx.openVault()
    let plan = try vault.planAlertNotices(since: since, from: mail.sender, host: mail.host)
    var sending = NoticeSending<AlertNotice>(rerun: "ivkeys alerts notify")
    if mail.dryRun {
      sending.results = plan.notices.map { ($0, .wouldSend) }
    } else {
      sending.send(plan.notices, command: mail.command, vault: vault, ctx)
    }
    let inProgress = plan.inProgress + sending.claimedElsewhere.map(\.alert)
    let results =
      sending.results.map { AlertNoticeResult(alert: $0.notice.alert, outcome: $0.outcome, notice: $0.notice) }
      + plan.alreadySent.map { AlertNoticeResult(alert: $0, outcome: .alreadySent, notice: nil) }
      + inProgress.map { AlertNoticeResult(alert: $0, outcome: .inProgress, notice: nil) }
      + plan.noContact.map { AlertNoticeResult(alert: $0, outcome: .noContact, notice: nil) }
    printResults(results, plan: plan, dryRun: mail.dryRun, ctx)
    printNotes(plan, inProgress: inProgress, since: since, dryRun: mail.dryRun, ctx)
    return sending.failures > 0 ? 1 : 0
  }

  /// The results: alert ids, JSON, the messages (dry run) or a line per message sent.
  static func printResults(_ results: [AlertNoticeResult], plan: AlertNoticePlan, dryRun: Bool, _ ctx: Context) {
    switch ctx.format {
    case .quiet:
      for r in results where r.outcome == .sent || r.outcome == .wouldSend { ctx.stdout.line(r.alert.id) }
    case .json:
      ctx.stdout.line(
        results.map { AlertNoticeResult(alert: $0.alert, outcome: $0.outcome, notice: $0.notice, dryRun: dryRun) }.json)
    case .table:
      if dryRun {
        for (i, notice) in plan.notices.enumerated() {
          if i > 0 { ctx.stdout.line("") }
          ctx.stdout.write(notice.message)  // free text in it is already escaped
        }
      } else {
        for r in results where r.outcome == .sent {
          ctx.stdout.line("sent  \(r.alert.id)  to \(r.notice?.recipient ?? "")")
        }
      }
    }
  }

  /// What was not sent and why, on stderr.
  static func printNotes(_ plan: AlertNoticePlan, inProgress: [Alert], since: Int64, dryRun: Bool, _ ctx: Context) {
    if !plan.alreadySent.isEmpty {
      let n = plan.alreadySent.count
      ctx.note("\(n) alert\(n == 1 ? " was" : "s were") notified before")
    }
    if !inProgress.isEmpty {
      let n = inProgress.count
      ctx.note(
        "\(n) notice\(n == 1 ? " is" : "s are") being sent by another 'ivkeys alerts notify' (or it stopped while "
          + "sending: a claim lapses after \(Vault.notificationClaimSeconds / 60) minutes and the notice is sent then)")
    }
    var warned = Set<String>()
    for a in plan.noContact where warned.insert(a.keyID).inserted {
      ctx.warning("key \(a.keyID) has open alerts (\(a.id)) and no contact to notify")
    }
    if !plan.noContact.isEmpty { ctx.hint("set one with 'ivkeys update ID --contact EMAIL'") }
    if dryRun && !plan.notices.isEmpty {
      ctx.note("dry run: \(plural(plan.notices.count, "message")) not sent, nothing recorded")
    }
    if plan.notices.isEmpty && plan.alreadySent.isEmpty && plan.inProgress.isEmpty && plan.noContact.isEmpty {
      ctx.note("no open alert in the last \(Time.describe(seconds: since))")
    }
  }
}
