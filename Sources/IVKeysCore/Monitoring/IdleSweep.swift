/// What `sweep --idle DUR --action suspend|revoke` asks for: keys unused for that long are put
/// out of use (GitHub revokes tokens unused for a year). Off unless asked.
public struct IdlePolicy: Sendable {
  /// What happens to an idle key.
  public enum Action: String, Sendable, CaseIterable {
    /// Active idle keys become suspended.
    case suspend
    /// Active or suspended idle keys become revoked.
    case revoke
  }

  /// Seconds without use (since creation, for a key never used) that make a key idle.
  public var idleFor: Int64
  /// The duration as the user wrote it (`90d`), for the recorded reason.
  public var text: String
  public var action: Action

  public init(idleFor: Int64, text: String, action: Action) {
    self.idleFor = idleFor
    self.text = text
    self.action = action
  }

  /// The reason recorded on each key: `unused for 90d`.
  public var reason: String { "unused for \(text)" }
}

/// Why `sweep` put a key out of use for being idle.
public struct IdleCause: Sendable {
  /// The key's last use, or its creation when it was never used.
  public let since: Timestamp
  /// `unused for <DUR>`.
  public let reason: String
}

/// What one `sweep` recorded (or, with `--dry-run`, would record).
public struct SweepResult: Sendable {
  /// Keys whose status changed, time's changes first, then idle keys.
  public var swept: [SweptKey] = []
  /// Idle ATS keys left alone: only an administrator changes an ATS key, and the OS user is not one.
  public var skippedATS: [KeyRecord] = []
  /// Idle keys left alone because their row does not match its seal (`doctor` names them); only
  /// revoking needs no intact seal.
  public var skippedDamaged: [KeyRecord] = []
  /// Monitoring rows older than the retention, deleted (none with `--dry-run`).
  public var pruned = PrunedUsage()
  public init() {}
}

/// How long monitoring data (hourly and per-address buckets, alert states) is kept: 90 days.
public let monitoringRetentionHours: Int64 = 90 * 24

extension Vault {
  // MARK: - Idle keys

  /// Adds to `result` the keys `policy` finds idle as of now: active ones for `suspend`, active
  /// or suspended ones for `revoke`, whose last use (or creation) is more than `idleFor` ago,
  /// exactly the keys `list --unused-for` lists. ATS keys are skipped unless the OS user is an
  /// administrator, damaged keys unless they are revoked.
  func findIdleKeys(_ policy: IdlePolicy, into result: inout SweepResult) throws(IVKeysError) {
    let t = now()
    let statuses: [KeyStatus] = policy.action == .suspend ? [.active] : [.active, .suspended]
    let query = KeyQuery([
      .effectiveStatus(in: statuses), .lastActivityBefore(t.subtractingReportingOverflow(policy.idleFor).partialValue),
    ])
    var admin: Bool?
    var found = [KeyRecord]()
    try store.forEachKey(query, now: t) { found.append($0) }
    for k in found {
      if k.type == .ats {
        if admin == nil { admin = try isAdmin(actor.osUser) }
        if admin != true {
          result.skippedATS.append(k)
          continue
        }
      }
      if k.damaged && policy.action == .suspend {
        result.skippedDamaged.append(k)
        continue
      }
      var swept = SweptKey(record: k, newStatus: policy.action == .suspend ? .suspended : .revoked)
      swept.idle = IdleCause(since: k.lastUsedAt ?? k.createdAt, reason: policy.reason)
      result.swept.append(swept)
    }
  }

  /// Records one idle key's change with its `key.suspended` or `key.revoked` entry; inside `write`.
  func applyIdle(_ s: SweptKey, _ cause: IdleCause) throws(IVKeysError) {
    let k = s.record
    try store.setStatus(id: k.id, s.newStatus, reason: cause.reason)
    try record(
      AuditEntry(
        event: s.newStatus == .suspended ? .keySuspended : .keyRevoked, keyID: k.id, company: k.company,
        detail: .object([
          ("reason", .string(cause.reason)), ("previous_status", .string(k.status.rawValue)),
          ("idle_since", .string(Time.rfc3339(cause.since))),
        ])))
  }

  /// Deletes monitoring data older than the retention; inside `write`.
  func pruneMonitoring() throws(IVKeysError) -> PrunedUsage {
    try store.pruneUsage(beforeHour: now() / 3600 - monitoringRetentionHours)
  }
}
