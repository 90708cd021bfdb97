import IVKeysCore

/// `ivkeys notify`: e-mails the contact of each key expiring soon, once per key and expiry.
enum NotifyCommand {
  static let defaultSendmail = "/usr/sbin/sendmail -t -i"

  /// What became of one key in the window.
  enum Outcome: String {
    case sent
    case failed
    case wouldSend = "would_send"
    case alreadySent = "already_sent"
    case inProgress = "in_progress"
    case noContact = "no_contact"
  }

  /// The sender when `--from` is not given: the OS user at this host, with anything a header
  /// must not hold left out of the user name.
  static func defaultSender(user: String, host: String) -> String {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".unicodeScalars)
    var local = String.UnicodeScalarView()
    local.append(contentsOf: user.unicodeScalars.filter(allowed.contains))
    return "\(local.isEmpty ? "ivkeys" : String(local))@\(host)"
  }

  /// One key of the plan and what became of it.
  typealias Result = (record: KeyRecord, outcome: Outcome, notice: ExpiryNotice?)

  /// What a run was asked to do.
  struct Settings {
    let within: Int64
    let command: String
    let sender: String
    let host: String
    let dryRun: Bool
  }

  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let settings = try NotifyCommand.settings(inv, ctx)
    let vault = try ctx.openVault()
    let plan = try vault.planNotifications(within: settings.within, from: settings.sender, host: settings.host)
    var sending = Sending(plan: plan)
    if settings.dryRun {
      sending.results = plan.notices.map { ($0.record, .wouldSend, $0) }
    } else {
      sending.send(plan.notices, command: settings.command, vault: vault, ctx)
    }
    let results =
      sending.results + plan.alreadySent.map { ($0, .alreadySent, nil) }
      + sending.inProgress.map { ($0, .inProgress, nil) } + plan.noContact.map { ($0, .noContact, nil) }
    printResults(results, plan: plan, dryRun: settings.dryRun, ctx)
    printNotes(plan, inProgress: sending.inProgress, settings: settings, ctx)
    return sending.failures > 0 ? 1 : 0
  }

  /// The options, checked before the vault is opened.
  static func settings(_ inv: Invocation, _ ctx: Context) throws(IVKeysError) -> Settings {
    let within = try MaintenanceCommand.window(inv)
    let command = inv.value(.sendmail) ?? defaultSendmail
    guard !command.allSatisfy(\.isWhitespace) else {
      throw .invalidValue(option: "--sendmail", value: command, reason: "the command is empty")
    }
    let host = ExpiryNotice.hostName(Sendmail.hostName())
    let user = try ctx.actor.osUser
    let sender = try inv.parse(.from, Fields.email) ?? defaultSender(user: user, host: host)
    return Settings(within: within, command: command, sender: sender, host: host, dryRun: inv.flag(.dryRun))
  }

  /// The sending of a plan's notices, and what it came to.
  struct Sending {
    var results = [Result]()
    var failures = 0
    /// Notices another run is sending: the plan's, and any claimed since the plan was made.
    var inProgress: [KeyRecord]

    init(plan: NotificationPlan) { inProgress = plan.inProgress }

    /// Each notice is claimed in the vault, sent, then recorded as sent; a refused message gives
    /// its claim back. A vault that cannot be written stops the run before anything more is sent.
    mutating func send(_ notices: [ExpiryNotice], command: String, vault: Vault, _ ctx: Context) {
      for notice in notices {
        guard sendOne(notice, command: command, vault: vault, ctx) else { break }
      }
    }

    /// Sends one notice; false when nothing more may be sent.
    private mutating func sendOne(_ notice: ExpiryNotice, command: String, vault: Vault, _ ctx: Context) -> Bool {
      let id = notice.record.id
      do throws(IVKeysError) {
        guard try vault.claimNotification(notice) else {
          inProgress.append(notice.record)  // another run claimed it since the plan was made
          return true
        }
      } catch {
        fail(
          "cannot claim the notice for key \(id) in the vault: \(error.description)", hint: "nothing more is sent", ctx)
        return false
      }
      ctx.stderr.flush()
      do throws(IVKeysError) {
        try Sendmail.deliver(notice.message, command: command)
      } catch {
        fail(
          "the notice for key \(id) to \(notice.recipient) was not sent: \(error.description)",
          hint: "it is not recorded as sent; the next 'ivkeys notify' tries again", ctx)
        try? vault.releaseNotification(notice)
        results.append((notice.record, .failed, notice))
        return true
      }
      results.append((notice.record, .sent, notice))
      do throws(IVKeysError) {
        try vault.recordNotification(notice)
      } catch {
        fail(
          "the notice for key \(id) was sent but could not be recorded: \(error.description)",
          hint:
            "a 'notify' after \(Vault.notificationClaimSeconds / 60) minutes may send it again; nothing more is sent",
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
  static func printNotes(_ plan: NotificationPlan, inProgress: [KeyRecord], settings: Settings, _ ctx: Context) {
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
    if settings.dryRun && !plan.notices.isEmpty {
      ctx.note("dry run: \(plural(plan.notices.count, "message")) not sent, nothing recorded")
    }
    if plan.notices.isEmpty && plan.alreadySent.isEmpty && plan.inProgress.isEmpty && plan.noContact.isEmpty {
      ctx.note("no active key expires within \(Time.describe(seconds: settings.within))")
    }
  }
}
