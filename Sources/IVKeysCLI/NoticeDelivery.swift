import IVKeysCore

/// A message `notify` or `alerts notify` sends at most once: claimed in the vault, handed to the
/// mail command, then recorded as sent.
protocol DeliverableNotice {
  /// What a notice is about: a key, an alert.
  associatedtype Subject
  var subject: Subject { get }
  /// The id `-q` prints for a subject.
  static func id(_ subject: Subject) -> String
  /// The `--json` members that name a subject and its recipient (the notice's, else the contact).
  static func writeSubject(_ subject: Subject, _ notice: Self?, to w: inout JSONWriter)
  /// How messages name it: `the notice for key ID`.
  var label: String { get }
  var recipient: String { get }
  var messageID: String { get }
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

/// A plan's notices, and the subjects it sends none for: what `planNotifications` and
/// `planAlertNotices` return.
protocol NoticePlan<Notice> {
  associatedtype Notice: DeliverableNotice
  var notices: [Notice] { get }
  /// Told before.
  var alreadySent: [Notice.Subject] { get }
  /// Claimed by another run.
  var inProgress: [Notice.Subject] { get }
  /// No usable contact.
  var noContact: [Notice.Subject] { get }
}

extension NotificationPlan: NoticePlan {}
extension AlertNoticePlan: NoticePlan {}

/// How a notify command words what it did.
struct NoticeWording<Subject> {
  /// The command, for hints: `ivkeys notify`.
  let command: String
  /// The line printed for a message sent.
  let sent: (Subject, String) -> String
  /// The note for `n` subjects told before.
  let alreadySent: (Int) -> String
  /// The warning for a subject without a contact (nil: none for it).
  let noContact: (Subject) -> String?
  /// The note when there was nothing at all to send.
  let nothing: String
}

extension MailSettings {
  /// Runs a notify command: its mail options (checked before the vault is opened), the plan
  /// `plan` makes, and its delivery.
  static func run<P: NoticePlan>(
    _ inv: Invocation, _ ctx: Context, wording: NoticeWording<P.Notice.Subject>,
    plan: (Vault, MailSettings) throws(IVKeysError) -> P
  ) throws(IVKeysError) -> Int32 {
    let mail = try MailSettings(inv, ctx)
    let vault = try ctx.openVault()
    return mail.deliver(try plan(vault, mail), wording: wording, vault: vault, ctx)
  }

  /// Sends a plan (or, with `--dry-run`, prints it), prints what became of each subject, and
  /// returns the exit status: 1 when a message could not be sent or recorded.
  func deliver<N: DeliverableNotice>(
    _ plan: some NoticePlan<N>, wording: NoticeWording<N.Subject>, vault: Vault, _ ctx: Context
  ) -> Int32 {
    var sending = NoticeSending<N>(rerun: wording.command)
    if dryRun {
      sending.results = plan.notices.map { ($0, .wouldSend) }
    } else {
      sending.send(plan.notices, command: command, vault: vault, ctx)
    }
    let inProgress = plan.inProgress + sending.claimedElsewhere.map(\.subject)
    let results: [(subject: N.Subject, outcome: DeliveryOutcome, notice: N?)] =
      sending.results.map { ($0.notice.subject, $0.outcome, $0.notice) }
      + plan.alreadySent.map { ($0, .alreadySent, nil) } + inProgress.map { ($0, .inProgress, nil) }
      + plan.noContact.map { ($0, .noContact, nil) }
    switch ctx.format {
    case .quiet:
      for r in results where r.outcome == .sent || r.outcome == .wouldSend { ctx.stdout.line(N.id(r.subject)) }
    case .json:
      ctx.stdout.line(
        results.map { NoticeResult<N>(subject: $0.subject, outcome: $0.outcome, notice: $0.notice, dryRun: dryRun) }
          .json)
    case .table:
      if dryRun {
        for (i, notice) in plan.notices.enumerated() {
          if i > 0 { ctx.stdout.line("") }
          ctx.stdout.write(notice.message)  // free text in it is already escaped
        }
      } else {
        for r in results where r.outcome == .sent {
          ctx.stdout.line(wording.sent(r.subject, r.notice?.recipient ?? ""))
        }
      }
    }
    printNotes(plan, inProgress: inProgress.count, wording: wording, ctx)
    return sending.failures > 0 ? 1 : 0
  }

  /// What was not sent and why, on stderr.
  private func printNotes<N: DeliverableNotice>(
    _ plan: some NoticePlan<N>, inProgress n: Int, wording: NoticeWording<N.Subject>, _ ctx: Context
  ) {
    if !plan.alreadySent.isEmpty { ctx.note(wording.alreadySent(plan.alreadySent.count)) }
    if n > 0 {
      ctx.note(
        "\(n) notice\(n == 1 ? " is" : "s are") being sent by another '\(wording.command)' (or it stopped while "
          + "sending: a claim lapses after \(Vault.notificationClaimSeconds / 60) minutes and the notice is sent then)")
    }
    for s in plan.noContact { if let w = wording.noContact(s) { ctx.warning(w) } }
    if !plan.noContact.isEmpty { ctx.hint("set one with 'ivkeys update ID --contact EMAIL'") }
    if dryRun && !plan.notices.isEmpty {
      ctx.note("dry run: \(plural(plan.notices.count, "message")) not sent, nothing recorded")
    }
    if plan.notices.isEmpty && plan.alreadySent.isEmpty && plan.inProgress.isEmpty && plan.noContact.isEmpty {
      ctx.note(wording.nothing)
    }
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
  var subject: KeyRecord { record }
  static func id(_ subject: KeyRecord) -> String { subject.id }
  static func writeSubject(_ k: KeyRecord, _ notice: ExpiryNotice?, to w: inout JSONWriter) {
    w.member("key_id", k.id)
    w.member("company", k.company)
    w.member("to", notice?.recipient ?? k.contact)
    w.member("expires_at", time: k.expiresAt)
  }
  var label: String { "the notice for key \(record.id)" }
  func claim(in vault: Vault) throws(IVKeysError) -> Bool { try vault.claimNotification(self) }
  func release(in vault: Vault) throws(IVKeysError) { try vault.releaseNotification(self) }
  func record(in vault: Vault) throws(IVKeysError) { try vault.recordNotification(self) }
}

extension AlertNotice: DeliverableNotice {
  var subject: Alert { alert }
  static func id(_ subject: Alert) -> String { subject.id }
  static func writeSubject(_ a: Alert, _ notice: AlertNotice?, to w: inout JSONWriter) {
    w.member("alert", a.id)
    w.member("key_id", a.keyID)
    w.member("company", a.company)
    w.member("to", notice?.recipient)
  }
  var label: String { "the notice of alert \(alert.id)" }
  func claim(in vault: Vault) throws(IVKeysError) -> Bool { try vault.claimAlertNotice(self) }
  func release(in vault: Vault) throws(IVKeysError) { try vault.releaseAlertNotice(self) }
  func record(in vault: Vault) throws(IVKeysError) { try vault.recordAlertNotice(self) }
}
