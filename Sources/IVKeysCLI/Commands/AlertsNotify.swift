import IVKeysCore

/// `ivkeys alerts notify`: e-mails each open alert to its key's contact, once per alert.
enum AlertsNotifyCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let since = try AlertsCommand.since(inv)
    let mail = try MailSettings(inv, ctx)
    let vault = try ctx.openVault()
    let plan = try vault.planAlertNotices(since: since, from: mail.sender, host: mail.host)
    // One warning per key, however many of its alerts are open.
    var warned = Set<String>()
    let wording = NoticeWording<Alert>(
      command: "ivkeys alerts notify",
      sent: { a, to in "sent  \(a.id)  to \(to)" },
      alreadySent: { n in "\(n) alert\(n == 1 ? " was" : "s were") notified before" },
      noContact: { a in
        warned.insert(a.keyID).inserted ? "key \(a.keyID) has open alerts (\(a.id)) and no contact to notify" : nil
      },
      nothing: "no open alert in the last \(Time.describe(seconds: since))")
    return mail.deliver(plan, wording: wording, vault: vault, ctx)
  }
}
