import IVKeysCore

/// A message `notify` or `alerts notify` sends at most once: claimed in the vault, handed to the
/// mail command, then recorded as sent.
protocol DeliverableNotice {
  /// How messages name it: `the notice for key ID`.
  var label: String { get }
  var recipient: String { get }
  /// The whole message, headers and body.
  var message: String { get }
  /// Claims it; false when it was sent already or another run is sending it.
  func claim(in vault: Vault) throws(IVKeysError) -> Bool
  /// Gives the claim back after the mail command refused it.
  func release(in vault: Vault) throws(IVKeysError)
  /// Records it as sent, with its audit entry.
  func record(in vault: Vault) throws(IVKeysError)
}

/// What became of one notice.
enum DeliveryOutcome: String {
  case sent
  case failed
  case wouldSend = "would_send"
  case alreadySent = "already_sent"
  case inProgress = "in_progress"
  case noContact = "no_contact"
}

/// The sending of a plan's notices, and what it came to.
struct NoticeSending<Notice: DeliverableNotice> {
  /// The command that sends them, for hints: `ivkeys notify`.
  let rerun: String
  var results = [(notice: Notice, outcome: DeliveryOutcome)]()
  var failures = 0
  /// Notices another run claimed after the plan was made.
  var claimedElsewhere = [Notice]()

  init(rerun: String) { self.rerun = rerun }

  /// Each notice is claimed in the vault, sent, then recorded as sent; a refused message gives
  /// its claim back. A vault that cannot be written stops the run before anything more is sent.
  mutating func send(_ notices: [Notice], command: String, vault: Vault, _ ctx: Context) {
    for notice in notices {
      guard sendOne(notice, command: command, vault: vault, ctx) else { break }
    }
  }

  /// Sends one notice; false when nothing more may be sent.
  private mutating func sendOne(_ notice: Notice, command: String, vault: Vault, _ ctx: Context) -> Bool {
    do throws(IVKeysError) {
      guard try notice.claim(in: vault) else {
        claimedElsewhere.append(notice)  // another run claimed it since the plan was made
        return true
      }
    } catch {
      fail("cannot claim \(notice.label) in the vault: \(error.description)", hint: "nothing more is sent", ctx)
      return false
    }
    ctx.stderr.flush()
    do throws(IVKeysError) {
      try Sendmail.deliver(notice.message, command: command)
    } catch {
      fail(
        "\(notice.label) to \(notice.recipient) was not sent: \(error.description)",
        hint: "it is not recorded as sent; the next '\(rerun)' tries again", ctx)
      try? notice.release(in: vault)
      results.append((notice, .failed))
      return true
    }
    results.append((notice, .sent))
    do throws(IVKeysError) {
      try notice.record(in: vault)
    } catch {
      fail(
        "\(notice.label) was sent but could not be recorded: \(error.description)",
        hint:
          "a '\(rerun)' after \(Vault.notificationClaimSeconds / 60) minutes may send it again; nothing more is sent",
        ctx)
      return false
    }
    return true
  }

  private mutating func fail(_ message: String, hint: String, _ ctx: Context) {
    failures += 1
    CLI.report(message, hint: hint, to: ctx.stderr)
  }
}

/// What `notify` and `alerts notify` share: the mail command and the sender.
struct MailSettings {
  static let defaultSendmail = "/usr/sbin/sendmail -t -i"

  let command: String
  let sender: String
  let host: String
  let dryRun: Bool

  /// `--sendmail`, `--from` and `--dry-run`, checked before the vault is opened.
  init(_ inv: Invocation, _ ctx: Context) throws(IVKeysError) {
    let command = inv.value(.sendmail) ?? Self.defaultSendmail
    guard !command.allSatisfy(\.isWhitespace) else {
      throw .invalidValue(option: "--sendmail", value: command, reason: "the command is empty")
    }
    self.command = command
    host = ExpiryNotice.hostName(Sendmail.hostName())
    let user = try ctx.actor.osUser
    sender = try inv.parse(.from, Fields.email) ?? Self.defaultSender(user: user, host: host)
    dryRun = inv.flag(.dryRun)
  }

  /// The sender when `--from` is not given: the OS user at this host, with anything a header
  /// must not hold left out of the user name.
  static func defaultSender(user: String, host: String) -> String {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".unicodeScalars)
    var local = String.UnicodeScalarView()
    local.append(contentsOf: user.unicodeScalars.filter(allowed.contains))
    return "\(local.isEmpty ? "ivkeys" : String(local))@\(host)"
  }
}

extension ExpiryNotice: DeliverableNotice {
  var label: String { "the notice for key \(record.id)" }
  func claim(in vault: Vault) throws(IVKeysError) -> Bool { try vault.claimNotification(self) }
  func release(in vault: Vault) throws(IVKeysError) { try vault.releaseNotification(self) }
  func record(in vault: Vault) throws(IVKeysError) { try vault.recordNotification(self) }
}

extension AlertNotice: DeliverableNotice {
  var label: String { "the notice of alert \(alert.id)" }
  func claim(in vault: Vault) throws(IVKeysError) -> Bool { try vault.claimAlertNotice(self) }
  func release(in vault: Vault) throws(IVKeysError) { try vault.releaseAlertNotice(self) }
  func record(in vault: Vault) throws(IVKeysError) { try vault.recordAlertNotice(self) }
}
