/// An e-mail telling a key's contact that `ivkeys leak` found the key where it should not be,
/// where, and what was done about it. Never the key, nor its replacement: a new key is handed
/// over by the administrator who rotated it.
public struct LeakNotice: Sendable {
  public let result: LeakResponse.Result
  public let recipient: String
  public let messageID: String
  /// The whole message, headers and body, lines ending in LF as `sendmail` expects on stdin.
  public let message: String

  /// The locations a message lists; the rest are counted.
  static let locationsShown = 20

  /// Composes the notice for `result`, whose key has a contact: the recipient is checked as an
  /// e-mail address by the caller, the subject carries the key id alone, and file names (free
  /// text) go in the body with control characters escaped.
  public init(result: LeakResponse.Result, recipient: String, from sender: String, host: String, now: Timestamp) {
    self.result = result
    self.recipient = recipient
    let id = result.leaked.keyID
    let host = ExpiryNotice.hostName(host)
    messageID = "<ivkeys.leak.\(id).\(now)@\(host)>"
    let places = result.leaked.locations
    var lines = [
      "An InstaView API key you are the contact for was found where it should not be",
      "(in \(places.count == 1 ? "1 place" : "\(places.count) places")): it must be treated as known to others.",
      "",
    ]
    if let record = result.record { lines += ExpiryNotice.keyLines(record) }
    lines += ["", "Found at:"]
    lines += places.prefix(Self.locationsShown).map { "  \(Text.escapeControl($0))" }
    if places.count > Self.locationsShown { lines.append("  and \(places.count - Self.locationsShown) more") }
    lines.append("")
    lines += Self.actionLines(result)
    lines += ["", "Remove the key from those files (and from their history), then reply to your administrator.", ""]
    lines.append(ExpiryNotice.noKeyLine)
    message = ExpiryNotice.compose(
      from: sender, to: recipient, subject: "InstaView API key \(id) was found leaked", now: now,
      messageID: messageID, body: lines)
  }

  /// What was done, in the message's words.
  static func actionLines(_ r: LeakResponse.Result) -> [String] {
    let id = r.leaked.keyID
    switch r.outcome {
    case .suspended:
      return ["What was done: the key is suspended; every request made with it is refused (401 suspended)."]
    case .revoked:
      return ["What was done: the key is revoked; every request made with it is refused (401 revoked)."]
    case .rotated:
      let new = r.rotation?.new.record.id ?? "?"
      return [
        "What was done: the key is revoked and replaced by a new key with the same settings (id \(new)).",
        "Your administrator hands you the new key; deploy it in place of the old one.",
      ]
    default:
      return [
        "Nothing has been changed yet: the key still works. Ask your administrator to replace it:",
        "",
        "  ivkeys rotate \(id) --grace 0",
      ]
    }
  }
}

extension Vault {
  /// Records that `notice` was handed to the mail command: a `notification.sent` entry naming
  /// the recipient and the message, `about` `key.leaked`.
  public func recordLeakNotice(_ notice: LeakNotice) throws(IVKeysError) {
    try write { () throws(IVKeysError) in
      let company = notice.result.record?.company
      try record(
        AuditEntry(
          event: .notificationSent, keyID: notice.result.leaked.keyID, company: company,
          detail: .object([
            ("to", .string(notice.recipient)), ("about", .string(AuditEvent.keyLeaked.rawValue)),
            ("message_id", .string(notice.messageID)),
          ])))
    }
  }
}
