/// An e-mail telling a key's contact about an alert: an RFC 5322 message naming the key's id,
/// name and company, the rule, the hour, what was observed against what threshold, what the rule
/// means, and the commands that acknowledge it and show the key's usage. Never the key itself,
/// which the vault does not have.
public struct AlertNotice: Sendable {
  public let alert: Alert
  public let record: KeyRecord
  public let recipient: String
  public let messageID: String
  /// The whole message, headers and body.
  public let message: String

  /// Composes the notice of `alert` for `record`'s contact `recipient` (a checked address).
  public init(alert: Alert, record: KeyRecord, recipient: String, from sender: String, host: String, now: Timestamp) {
    self.alert = alert
    self.record = record
    self.recipient = recipient
    let host = ExpiryNotice.hostName(host)
    messageID = "<ivkeys.alert.\(alert.rule.rawValue).\(alert.keyID).\(alert.hour).\(now)@\(host)>"
    let hour = "\(Time.rfc3339(alert.windowStart)) to \(Time.rfc3339(alert.windowEnd))"
    var lines = [
      "An InstaView API key you are the contact for raised a \(alert.rule.rawValue) alert",
      "for the hour \(hour):",
      "",
      "  \(alert.message)",
      "",
    ]
    lines += ExpiryNotice.keyLines(record)
    lines += [
      "  Rule:     \(alert.rule.rawValue): \(alert.rule.meaning)",
      "  Hour:     \(hour)",
      "  Observed: \(Self.value(alert.observed, alert.rule))",
      "  Threshold: \(Self.value(alert.threshold, alert.rule))",
      "  Alert id: \(alert.id)",
      "",
      "If this was expected, acknowledge it:",
      "",
      "  ivkeys alerts ack \(alert.id)",
      "",
      "To see the key's recent usage:",
      "",
      "  ivkeys usage \(alert.keyID)",
      "",
      "If the key may have leaked, suspend it ('ivkeys suspend \(alert.keyID) --reason ...') and rotate it.",
      "",
      ExpiryNotice.noKeyLine,
    ]
    message = ExpiryNotice.compose(
      from: sender, to: recipient,
      subject: "InstaView API key \(alert.keyID): \(alert.rule.rawValue) alert, \(AlertID.hourText(alert.hour)):00Z",
      now: now, messageID: messageID, body: lines)
  }

  /// An observed value or threshold as the message writes it: a share as a percentage.
  public static func value(_ v: Double, _ rule: AlertRule) -> String {
    rule == .errorRate ? AlertEvaluator.percent(v) : AlertParameter.format(v)
  }
}

/// What `alerts notify` will do with the open alerts of its window.
public struct AlertNoticePlan: Sendable {
  /// Notices to send: open alerts not yet notified, of keys with a contact.
  public var notices: [AlertNotice] = []
  /// Alerts whose notice was sent before.
  public var alreadySent: [Alert] = []
  /// Alerts whose notice another `alerts notify` has claimed (and is sending, or died sending:
  /// the claim lapses after `Vault.notificationClaimSeconds`).
  public var inProgress: [Alert] = []
  /// Alerts of keys with no contact, or one that is not a usable address.
  public var noContact: [Alert] = []
}

extension Vault {
  // MARK: - Alert notices

  /// The notices due for the open alerts of the last `since` seconds: one per alert, to its
  /// key's contact, from `sender`.
  public func planAlertNotices(since: Int64, from sender: String, host: String) throws(IVKeysError)
    -> AlertNoticePlan
  {
    var plan = AlertNoticePlan()
    let t = now()
    var records = [String: KeyRecord]()
    for alert in try alerts(AlertQuery(since: since)) where alert.isOpen {
      if alert.notifiedAt != nil {
        plan.alreadySent.append(alert)
        continue
      }
      if let claimed = alert.claimedAt, claimed > t - Self.notificationClaimSeconds {
        plan.inProgress.append(alert)
        continue
      }
      if records[alert.keyID] == nil { records[alert.keyID] = try resolve(alert.keyID) }
      guard let record = records[alert.keyID], let contact = record.contact, let address = try? Fields.email(contact)
      else {
        plan.noContact.append(alert)
        continue
      }
      plan.notices.append(
        AlertNotice(alert: alert, record: record, recipient: address, from: sender, host: host, now: t))
    }
    return plan
  }

  /// Claims `notice` before it is handed to the mail command: false when it was sent already or
  /// another run is sending it. Committed at once, so a concurrent run sees it.
  public func claimAlertNotice(_ notice: AlertNotice) throws(IVKeysError) -> Bool {
    try write { () throws(IVKeysError) -> Bool in
      let t = now()
      return try store.claimAlertNotice(
        notice.alert.stateRow, recipient: notice.recipient, messageID: notice.messageID, at: t,
        staleBefore: t - Self.notificationClaimSeconds)
    }
  }

  /// Gives up a claim whose message the mail command refused, so the next run sends it.
  public func releaseAlertNotice(_ notice: AlertNotice) throws(IVKeysError) {
    try write { () throws(IVKeysError) in
      try store.releaseAlertNotice(id: notice.alert.id, messageID: notice.messageID)
    }
  }

  /// Records that the claimed `notice` was handed to the mail system, with a `notification.sent`
  /// entry, in one transaction: it is never sent again.
  public func recordAlertNotice(_ notice: AlertNotice) throws(IVKeysError) {
    try write { () throws(IVKeysError) in
      let t = now()
      try store.markAlertNoticeSent(id: notice.alert.id, messageID: notice.messageID, at: t)
      try record(
        AuditEntry(
          event: .notificationSent, keyID: notice.alert.keyID, company: notice.record.company,
          detail: .object([
            ("to", .string(notice.recipient)), ("alert", .string(notice.alert.id)),
            ("message_id", .string(notice.messageID)),
          ])), at: t)
    }
  }
}
