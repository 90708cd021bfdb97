import IVKeysCore

/// `ivkeys alerts notify`: e-mails each open alert to its key's contact, once per alert.
enum AlertsNotifyCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let since = try AlertsCommand.since(inv)
    return try MailSettings.run(inv, ctx, wording: wording(since)) { vault, mail throws(IVKeysError) in
      try vault.planAlertNotices(since: since, from: mail.sender, host: mail.host)
    }
  }

  /// How `alerts notify` says what it did: a key without a contact is warned about once, however
  /// many of its alerts are open.
  static func wording(_ since: Int64) -> NoticeWording<Alert> {
    var warned = Set<String>()
    return NoticeWording(
      command: "ivkeys alerts notify",
      sent: { a, to in "sent  \(a.id)  to \(to)" },
      alreadySent: { n in "\(n) alert\(n == 1 ? " was" : "s were") notified before" },
      noContact: { a in
        warned.insert(a.keyID).inserted ? "key \(a.keyID) has open alerts (\(a.id)) and no contact to notify" : nil
      },
      nothing: "no open alert in the last \(Time.describe(seconds: since))")
  }
}
