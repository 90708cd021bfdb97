import IVKeysCore

/// `ivkeys notify`: e-mails the contact of each key expiring soon, once per key and expiry.
enum NotifyCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let within = try MaintenanceCommand.window(inv)
    let mail = try MailSettings(inv, ctx)
    let vault = try ctx.openVault()
    let plan = try vault.planNotifications(within: within, from: mail.sender, host: mail.host)
    let wording = NoticeWording<KeyRecord>(
      command: "ivkeys notify",
      sent: { k, to in "sent  \(k.id)  to \(to)  (expires \(Time.rfc3339(k.expiresAt ?? 0)))" },
      alreadySent: { n in "\(n) key\(n == 1 ? " was" : "s were") already notified of this expiry" },
      noContact: { k in "key \(k.id) expires at \(Time.rfc3339(k.expiresAt ?? 0)) and has no contact to notify" },
      nothing: "no active key expires within \(Time.describe(seconds: within))")
    return mail.deliver(plan, wording: wording, vault: vault, ctx)
  }
}
