/// A key whose rotation is overdue under the rotation policy.
public struct RotationDue: Sendable {
  public let record: KeyRecord
  /// The policy's period for this key, in seconds: 90 days for high-privilege keys, 180 for
  /// read-only ones.
  public let period: Int64
  /// How long past its period the key is, in seconds: at least 0, unless it was listed because
  /// it becomes due within a window (then minus the time left).
  public let overdue: Int64
  /// Why it is listed when the age policy is not the reason: its secret version is being retired.
  public var reason: String?

  /// When the key is (or was) due: its creation plus its period.
  public var dueAt: Timestamp { record.createdAt.addingReportingOverflow(period).partialValue }
}

/// One thing `sweep` records: a key whose status time has changed, or an idle key put out of use.
public struct SweptKey: Sendable {
  /// The key as it was before the sweep recorded the change.
  public let record: KeyRecord
  /// `revoked` (its rotation grace ended), `expired` (its expiry passed), or, for an idle key,
  /// the idle policy's `suspended` or `revoked`.
  public let newStatus: KeyStatus
  /// Set when the key was swept for being idle (`sweep --idle`).
  public var idle: IdleCause?
  /// The status the vault held before.
  public var previousStatus: KeyStatus { record.storedStatus }

  public init(record: KeyRecord, newStatus: KeyStatus) {
    self.record = record
    self.newStatus = newStatus
  }
}

/// Which keys a bulk suspend, resume or revoke changes; each part given must match.
public struct KeySelector: Sendable {
  /// Keys owned by this company (not ATS keys merely linked to it).
  public var company: String?
  public var tag: String?
  public var env: KeyEnvironment?
  public init() {}

  /// Whether nothing is selected by.
  public var isEmpty: Bool { company == nil && tag == nil && env == nil }
}

/// The reason `sweep` records for a rotation grace that ended.
public let rotationGraceEndedReason = "rotation grace ended"

extension Vault {
  // MARK: - Expiring

  /// Active keys whose expiry falls within `within` seconds from now, soonest first; with
  /// `includeExpired`, also keys whose expiry has passed (and that are not revoked).
  public func expiringKeys(within: Int64, company: String? = nil, includeExpired: Bool = false) throws(IVKeysError)
    -> [KeyRecord]
  {
    let t = now()
    var query = KeyQuery([.expiresBy(t + within)], order: .expiry)
    query.conditions.append(.effectiveStatus(in: includeExpired ? [.active, .expired] : [.active]))
    if let company { query.conditions.append(.servesCompany(company)) }
    var keys = [KeyRecord]()
    try store.forEachKey(query, now: t) { keys.append($0) }
    return keys
  }

  // MARK: - Rotation policy

  /// Active keys older than the rotation policy allows (SPEC: high-privilege keys every 90
  /// days, read-only keys every 180, counted from the creation of the current key), most
  /// overdue first. With `within`, also keys that become due within that many seconds from now
  /// (their `overdue` is negative: minus the time left).
  public func rotationDue(company: String? = nil, within: Int64 = 0) throws(IVKeysError) -> [RotationDue] {
    let t = now()
    // Every key older than the shorter period is a candidate; its scopes decide its period.
    let shortest = min(Scopes.rotationPeriod(["*"]), Scopes.rotationPeriod([]))
    var query = KeyQuery([.effectiveStatus(in: [.active]), .createdBy(t + within - shortest)])
    if let company { query.conditions.append(.servesCompany(company)) }
    var due = [RotationDue]()
    try store.forEachKey(query, now: t) { k in
      let period = Self.rotationPeriod(of: k)
      let overdue = t.subtractingReportingOverflow(k.createdAt).partialValue.subtractingReportingOverflow(period)
        .partialValue
      if overdue + within >= 0 { due.append(RotationDue(record: k, period: period, overdue: overdue)) }
    }
    // Keys made under an older secret version are due whatever their age: rotating them is how
    // that version can be retired.
    if let current = secret?.number {
      // Every key not revoked: a suspended or rotating one also keeps the version from retiring.
      var older = KeyQuery([.effectiveStatusIsNot(.revoked), .secretVersionBelow(current)])
      if let company { older.conditions.append(.servesCompany(company)) }
      let listed = Set(due.map(\.record.id))
      try store.forEachKey(older, now: t) { k in
        let period = Self.rotationPeriod(of: k)
        let overdue = max(
          0, t.subtractingReportingOverflow(k.createdAt).partialValue.subtractingReportingOverflow(period).partialValue)
        let reason = "secret version \(k.secretVersion) is being retired"
        if let i = due.firstIndex(where: { $0.record.id == k.id }) {
          due[i].reason = reason
        } else if !listed.contains(k.id) {
          var d = RotationDue(record: k, period: period, overdue: overdue)
          d.reason = reason
          due.append(d)
        }
      }
    }
    return due.sorted { $0.overdue != $1.overdue ? $0.overdue > $1.overdue : $0.record.id < $1.record.id }
  }

  // MARK: - Sweep

  /// Records what time has done: each key whose rotation grace ended becomes `revoked` (reason
  /// "rotation grace ended", a `key.revoked` entry) and each key whose expiry passed becomes
  /// `expired` (a `key.expired` entry); with `idle`, idle keys are then suspended or revoked
  /// (`IdleSweep.swift`); and monitoring data older than the retention is pruned. All in one
  /// transaction. A second sweep finds nothing until time does more. With `dryRun` nothing is
  /// written and nothing pruned.
  public func sweep(dryRun: Bool = false, idle: IdlePolicy? = nil) throws(IVKeysError) -> SweepResult {
    // Only active and rotating keys change with time, and suspended keys rotated while
    // suspended (revoked when the grace ends); other suspended keys stay suspended (verify
    // refuses them as such) and revoked and expired are where time leads.
    let query = KeyQuery([
      .storedStatus(in: [.active, .rotating, .suspended]), .effectiveStatusDiffersFromStored,
    ])
    func pending() throws(IVKeysError) -> SweepResult {
      var found = SweepResult()
      try store.forEachKey(query, now: now()) { k in found.swept.append(SweptKey(record: k, newStatus: k.status)) }
      // Time's changes are applied first, so an idle key is one whose status time left alone:
      // the two lists never share a key (an idle key's effective status is its stored one).
      if let idle { try findIdleKeys(idle, into: &found) }
      return found
    }
    if dryRun { return try pending() }
    return try write { () throws(IVKeysError) -> SweepResult in
      var result = try pending()
      for s in result.swept {
        if let cause = s.idle {
          try applyIdle(s, cause)
          continue
        }
        let k = s.record
        switch s.newStatus {
        case .revoked:
          try store.setStatus(id: k.id, .revoked, reason: rotationGraceEndedReason)
          try record(
            AuditEntry(
              event: .keyRevoked, keyID: k.id, company: k.company,
              detail: .object([
                ("reason", .string(rotationGraceEndedReason)), ("previous_status", .string(k.storedStatus.rawValue)),
                ("grace_until", .optional(k.graceUntil.map(Time.rfc3339))), ("replaced_by", .optional(k.replacedBy)),
              ])))
        case .expired:
          let reason = "expired at \(Time.rfc3339(k.expiresAt ?? 0))"
          try store.setStatus(id: k.id, .expired, reason: reason)
          try record(
            AuditEntry(
              event: .keyExpired, keyID: k.id, company: k.company,
              detail: .object([
                ("expires_at", .optional(k.expiresAt.map(Time.rfc3339))),
                ("previous_status", .string(k.storedStatus.rawValue)),
              ])))
        default:
          continue
        }
      }
      result.pruned = try pruneMonitoring()
      return result
    }
  }

  // MARK: - Bulk status changes

  /// The keys a bulk `action` would change: those `selector` matches whose status the action
  /// applies to (suspend: active; resume: suspended; revoke: anything not yet revoked), oldest
  /// first.
  public func keys(matching selector: KeySelector, for action: StatusAction) throws(IVKeysError) -> [KeyRecord] {
    guard !selector.isEmpty else { throw .usage("give a key ID, or select keys with --company, --tag or --env") }
    var query = KeyQuery()
    if let c = selector.company { query.conditions.append(.ownedBy(c)) }
    if let t = selector.tag { query.conditions.append(.tag(t)) }
    if let e = selector.env { query.conditions.append(.env(e)) }
    switch action {
    case .suspend: query.conditions.append(.effectiveStatus(in: [.active]))
    case .resume: query.conditions.append(.effectiveStatus(in: [.suspended]))
    case .revoke: query.conditions.append(.effectiveStatusIsNot(.revoked))
    }
    var found = [KeyRecord]()
    try store.forEachKey(query, now: now()) { found.append($0) }
    return found
  }

  /// Applies `action` to every key `selector` matches, in one transaction with one audit entry
  /// per key, and returns the keys after the change. More than one match needs `confirmed`
  /// (`--yes`); the matches are counted inside the transaction, so what is changed is exactly
  /// what was counted. A selection holding an ATS key is refused whole, before anything
  /// changes, unless the OS user is an administrator.
  public func changeStatus(
    matching selector: KeySelector, _ action: StatusAction, reason: String?, confirmed: Bool
  ) throws(IVKeysError) -> [KeyRecord] {
    try write { () throws(IVKeysError) -> [KeyRecord] in
      let matched = try keys(matching: selector, for: action)
      try requireAdmin(toChange: matched, action.rawValue)
      guard matched.count <= 1 || confirmed else {
        throw .usage(
          "\(matched.count) keys match; changing more than one key needs --yes",
          hint: "'ivkeys \(action.rawValue) … --dry-run' lists them; add --yes to \(action.rawValue) them all")
      }
      for k in matched { try applyStatus(k, action, reason: reason) }
      var after = [KeyRecord]()
      after.reserveCapacity(matched.count)
      for k in matched { after.append(try resolve(k.id)) }
      return after
    }
  }
}
