import IVKeysCore

/// `ivkeys notify`: e-mails the contact of each key expiring soon, once per key and expiry.
enum NotifyCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let within = try MaintenanceCommand.window(inv)
    return try MailSettings.run(inv, ctx, wording: wording(within)) { vault, mail throws(IVKeysError) in
      try vault.planNotifications(within: within, from: mail.sender, host: mail.host)
    }
  }

  /// How `notify` says what it did.
  static func wording(_ within: Int64) -> NoticeWording<KeyRecord> {
    NoticeWording(
      command: "ivkeys notify",
      sent: { k, to in "sent  \(k.id)  to \(to)  (expires \(Time.rfc3339(k.expiresAt ?? 0)))" },
      alreadySent: { n in "\(n) key\(n == 1 ? " was" : "s were") already notified of this expiry" },
      noContact: { k in "key \(k.id) expires at \(Time.rfc3339(k.expiresAt ?? 0)) and has no contact to notify" },
      nothing: "no active key expires within \(Time.describe(seconds: within))")
  }
}
