/// An e-mail telling a key's contact that the key expires soon: an RFC 5322 message naming the
/// key's id, name, company and expiry and the command that rotates it. Never the key itself,
/// which the vault does not have.
public struct ExpiryNotice: Sendable {
  public let record: KeyRecord
  public let recipient: String
  public let expiresAt: Timestamp
  public let messageID: String
  /// The whole message, headers and body, lines ending in LF as `sendmail` expects on stdin.
  public let message: String

  /// Composes the notice for `record`, which must have an expiry and a contact.
  ///
  /// Every header holds only values that cannot break out of it: the recipient is checked as an
  /// e-mail address, the subject carries the id and date alone, and the name (free text) goes
  /// in the body with control characters escaped.
  public init(record: KeyRecord, recipient: String, from sender: String, host: String, now: Timestamp) {
    self.record = record
    self.recipient = recipient
    let expires = record.expiresAt ?? now
    expiresAt = expires
    let host = Self.hostName(host)
    messageID = "<ivkeys.\(record.id).\(expires).\(now)@\(host)>"
    let left = expires > now ? "in \(Time.describe(seconds: expires - now))" : "now"
    var lines = [
      "An InstaView API key you are the contact for expires \(left), at \(Time.rfc3339(expires)).",
      "After that every request made with it is refused (401 expired).",
      "",
    ]
    lines += Self.keyLines(record)
    lines += [
      "  Expires:  \(Time.rfc3339(expires))",
      "",
      "To replace it with a new key carrying the same settings, an administrator runs",
      "",
      "  ivkeys rotate \(record.id)",
      "",
      "and the new key is deployed in its place. To keep this key longer instead:",
      "",
      "  ivkeys update \(record.id) --expires-in 90d",
      "",
      Self.noKeyLine,
    ]
    message = Self.compose(
      from: sender, to: recipient, subject: "InstaView API key \(record.id) expires on \(Time.day(expires))",
      now: now, messageID: messageID, body: lines)
  }

  /// The last line of every notice.
  static let noKeyLine = "This message does not contain the key, and no one will ever ask you to send it by e-mail."

  /// What a notice says about a key: id, name (escaped), company, linked companies, env, scopes.
  static func keyLines(_ record: KeyRecord) -> [String] {
    var lines = [
      "  Key id:   \(record.id)",
      "  Name:     \(Text.escapeControl(record.name))",
      "  Company:  \(record.company)",
    ]
    let linked = record.linkedCompanies
    if !linked.isEmpty { lines.append("  Serves:   \(linked.joined(separator: ", "))") }
    lines += [
      "  Env:      \(record.env.rawValue)",
      "  Scopes:   \(record.scopes.joined(separator: " "))",
    ]
    return lines
  }

  /// A whole message: the headers, a blank line and the body, lines ending in LF as `sendmail`
  /// expects on stdin. The subject must hold only values that cannot break out of the header
  /// (ids, dates, rule names); free text goes in the body, escaped.
  static func compose(
    from sender: String, to recipient: String, subject: String, now: Timestamp, messageID: String, body: [String]
  ) -> String {
    let headers = [
      "From: ivkeys <\(sender)>",
      "To: \(recipient)",
      "Subject: \(subject)",
      "Date: \(rfc5322Date(now))",
      "Message-ID: \(messageID)",
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "Auto-Submitted: auto-generated",
      "",
    ]
    return (headers + body).joined(separator: "\n") + "\n"
  }

  /// A host name safe for a header: letters, digits, `-` and `.`, else `localhost`.
  public static func hostName(_ s: String) -> String {
    let ok =
      !s.isEmpty && s.utf8.count <= 253
      && s.utf8.allSatisfy {
        Base62.isBase62(CollectionOfOne($0)) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
      }
    return ok ? s : "localhost"
  }

  /// RFC 5322 date-time in UTC: `Sun, 29 Nov 2026 03:20:00 +0000`.
  public static func rfc5322Date(_ t: Timestamp) -> String {
    let t = Time.printable(t)
    let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
    let (y, m, d) = Time.civilFromDays(days)
    let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    let weekday = weekdays[Int(((days % 7) + 7) % 7)]
    let clock = String(Time.rfc3339(t).dropFirst(11).prefix(8))
    let day = d < 10 ? "0\(d)" : "\(d)"
    return "\(weekday), \(day) \(months[Int(m - 1)]) \(y) \(clock) +0000"
  }
}

extension ExpiryNotice {
  /// The notice's row, claimed or sent at `at`.
  func row(at: Timestamp) -> NotificationRow {
    NotificationRow(keyID: record.id, expiresAt: expiresAt, recipient: recipient, messageID: messageID, at: at)
  }
}

/// What `notify` will do with the keys expiring in its window.
public struct NotificationPlan: Sendable {
  /// Notices to send: keys with a contact not yet told about this expiry.
  public var notices: [ExpiryNotice] = []
  /// Keys whose contact was already told about this expiry.
  public var alreadySent: [KeyRecord] = []
  /// Keys whose notice another `notify` has claimed and is sending (or died sending: the claim
  /// lapses after `Vault.notificationClaimSeconds`).
  public var inProgress: [KeyRecord] = []
  /// Keys with no contact, or one that is not a usable address.
  public var noContact: [KeyRecord] = []
}

extension Vault {
  // MARK: - Expiry notices

  /// How long a claim on a notice holds before another `notify` may take it over: a run that
  /// died while sending leaves its claim behind, and the notice must still go out.
  public static let notificationClaimSeconds: Int64 = 15 * 60

  /// The notices due for active keys expiring within `within` seconds: one per key and expiry,
  /// to the key's contact, from `sender` (an e-mail address).
  public func planNotifications(within: Int64, from sender: String, host: String) throws(IVKeysError)
    -> NotificationPlan
  {
    var plan = NotificationPlan()
    let t = now()
    for k in try expiringKeys(within: within) {
      guard let contact = k.contact, let address = try? Fields.email(contact), let expires = k.expiresAt else {
        plan.noContact.append(k)
        continue
      }
      switch try store.notificationState(
        keyID: k.id, expiresAt: expires, claimedAfter: t - Self.notificationClaimSeconds)
      {
      case .sent?:
        plan.alreadySent.append(k)
        continue
      case .claimed?:
        plan.inProgress.append(k)
        continue
      case nil: break
      }
      plan.notices.append(ExpiryNotice(record: k, recipient: address, from: sender, host: host, now: t))
    }
    return plan
  }

  /// Claims `notice` before it is handed to the mail command: returns false when it was sent
  /// already, or another `notify` is sending it (a claim younger than
  /// `notificationClaimSeconds`). Committed at once, so a concurrent run sees it.
  public func claimNotification(_ notice: ExpiryNotice) throws(IVKeysError) -> Bool {
    try write { () throws(IVKeysError) -> Bool in
      let t = now()
      return try store.claimNotification(notice.row(at: t), staleBefore: t - Self.notificationClaimSeconds)
    }
  }

  /// Gives up a claim whose message the mail command refused, so the next `notify` sends it.
  public func releaseNotification(_ notice: ExpiryNotice) throws(IVKeysError) {
    try write { () throws(IVKeysError) in
      try store.releaseNotification(notice.row(at: now()))
    }
  }

  /// Records that the claimed `notice` was handed to the mail system: the row is marked sent, so
  /// it is never sent again for this key and expiry, and a `notification.sent` audit entry is
  /// written, in one transaction.
  public func recordNotification(_ notice: ExpiryNotice) throws(IVKeysError) {
    try write { () throws(IVKeysError) in
      try store.markNotificationSent(notice.row(at: now()))
      try record(
        AuditEntry(
          event: .notificationSent, keyID: notice.record.id, company: notice.record.company,
          detail: .object([
            ("to", .string(notice.recipient)), ("expires_at", .string(Time.rfc3339(notice.expiresAt))),
            ("message_id", .string(notice.messageID)),
          ])))
    }
  }
}
