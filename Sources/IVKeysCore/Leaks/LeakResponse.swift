/// What `ivkeys leak` does about keys a scan found: for each one the vault holds and that still
/// works, a `key.leaked` audit entry with every place it was found, and the action asked for
/// (suspend, rotate with no grace, revoke), decided and applied in one write transaction so a
/// key another process changes at the same moment is never acted on twice.
///
/// A key is answered once: a key whose `key.leaked` entry exists and whose status already
/// reflects the action (or, without an action, any key with a `key.leaked` entry) is left alone,
/// so running `leak` twice on the same files does nothing new.
public enum LeakResponse {
  /// What `--action` asks for.
  public enum Action: String, Sendable, CaseIterable {
    case suspend, rotate, revoke
  }

  /// One key found by the scan, with every place it was found.
  public struct LeakedKey: Sendable {
    public let keyID: String
    public let env: KeyEnvironment
    /// Each place, `file:line`, in the order found.
    public let locations: [String]

    public init(keyID: String, env: KeyEnvironment, locations: [String]) {
      self.keyID = keyID
      self.env = env
      self.locations = locations
    }
  }

  /// What became of one key.
  public enum Outcome: String, Sendable {
    /// Recorded as leaked (`key.leaked`) and its contact told; its status left as it was.
    case reported
    case suspended, rotated, revoked
    /// Recorded and answered by an earlier `leak`: nothing new done.
    case alreadyHandled = "already_handled"
    /// Revoked or expired before any `leak` recorded it: it no longer works.
    case notLive = "not_live"
    /// Not in this vault.
    case unknown
  }

  /// The answer for one key.
  public struct Result: Sendable {
    public let leaked: LeakedKey
    /// The key after the answer (nil when the vault does not hold it).
    public let record: KeyRecord?
    public let outcome: Outcome
    /// Set when the key was (or, in a dry run, would be) recorded as leaked now: its contact is
    /// told.
    public let recorded: Bool
    /// Why the action asked for was not applied, when it was not.
    public let note: String?
    /// The rotation, for `--action rotate`; its new key is printed once.
    public let rotation: Vault.Rotation?
  }

  /// The decision for a key as it is now.
  enum Decision {
    /// Record `key.leaked` and apply `action` (nil: record only); `note` says why an action
    /// asked for is not applied.
    case record(apply: Action?, note: String?)
    case skip(Outcome)
  }

  /// The rule: dead keys are left alone; a key already recorded is left alone once the action's
  /// effect holds; otherwise record, and apply the action when the key's status allows it.
  static func decide(_ k: KeyRecord, action: Action?, recordedBefore: Bool) -> Decision {
    if k.status == .revoked || k.status == .expired { return .skip(recordedBefore ? .alreadyHandled : .notLive) }
    guard let action else { return recordedBefore ? .skip(.alreadyHandled) : .record(apply: nil, note: nil) }
    let blocked: String?
    switch action {
    case .suspend:
      if k.status == .suspended { return recordedBefore ? .skip(.alreadyHandled) : .record(apply: nil, note: nil) }
      blocked =
        k.status == .rotating
        ? "it is rotating and cannot be suspended: revoke it (--action revoke); its replacement is "
          + (k.replacedBy ?? "?") : nil
    case .rotate:
      blocked =
        k.replacedBy != nil
        ? "it was already rotated (replaced by \(k.replacedBy ?? "?")): revoke it (--action revoke) to end its grace"
        : nil
    case .revoke:
      blocked = nil
    }
    if let blocked { return recordedBefore ? .skip(.alreadyHandled) : .record(apply: nil, note: blocked) }
    return .record(apply: action, note: nil)
  }
}

extension Vault {
  // MARK: - Leaks

  /// Answers each leaked key: with `dryRun`, says what would be done and changes nothing;
  /// otherwise decides and applies everything in one write transaction. More than one key to act
  /// on (an action to apply) needs `confirmed` (`--yes`), counted inside the transaction, and a
  /// selection holding an ATS key needs an administrator; either refusal changes nothing.
  public func respondToLeaks(
    _ keys: [LeakResponse.LeakedKey], action: LeakResponse.Action?, reason: String, dryRun: Bool, confirmed: Bool
  ) throws(IVKeysError) -> [LeakResponse.Result] {
    if dryRun { return try plan(keys, action: action, reason: reason, apply: false, confirmed: true) }
    return try write { () throws(IVKeysError) -> [LeakResponse.Result] in
      try plan(keys, action: action, reason: reason, apply: true, confirmed: confirmed)
    }
  }

  /// Decides for every key and, with `apply`, records and acts; inside `write` when applying.
  private func plan(
    _ keys: [LeakResponse.LeakedKey], action: LeakResponse.Action?, reason: String, apply: Bool, confirmed: Bool
  ) throws(IVKeysError) -> [LeakResponse.Result] {
    let held = try store.effectiveStatuses(of: Set(keys.map(\.keyID)), now: now())
    let recordedBefore = try leakRecorded(among: Set(held.keys))
    var decided = [(LeakResponse.LeakedKey, KeyRecord?, LeakResponse.Decision)]()
    for leaked in keys {
      guard held[leaked.keyID] != nil else {
        decided.append((leaked, nil, .skip(.unknown)))
        continue
      }
      let k = try resolve(leaked.keyID)
      decided.append((leaked, k, LeakResponse.decide(k, action: action, recordedBefore: recordedBefore.contains(k.id))))
    }
    var acting = [KeyRecord]()
    for case (_, let k?, .record(.some, _)) in decided { acting.append(k) }
    if let action, apply {
      try requireAdmin(toChange: acting, action.rawValue)
      guard acting.count <= 1 || confirmed else {
        throw .usage(
          "\(acting.count) leaked keys to \(action.rawValue); acting on more than one key needs --yes",
          hint: "'ivkeys leak … --dry-run' lists them; add --yes to \(action.rawValue) them all")
      }
    }
    var results = [LeakResponse.Result]()
    for (leaked, k, decision) in decided {
      guard let k, case .record(let a, let note) = decision else {
        if case .skip(let outcome) = decision {
          results.append(.init(leaked: leaked, record: k, outcome: outcome, recorded: false, note: nil, rotation: nil))
        }
        continue
      }
      let outcome: LeakResponse.Outcome
      switch a {
      case nil: outcome = .reported
      case .suspend?: outcome = .suspended
      case .rotate?: outcome = .rotated
      case .revoke?: outcome = .revoked
      }
      guard apply else {
        results.append(.init(leaked: leaked, record: k, outcome: outcome, recorded: true, note: note, rotation: nil))
        continue
      }
      let rotation = try answer(leaked, k, action: a, reason: reason)
      results.append(
        .init(
          leaked: leaked, record: try resolve(k.id), outcome: outcome, recorded: true, note: note, rotation: rotation))
    }
    return results
  }

  /// Records `key.leaked` for `k`, then applies `action`; inside `write`.
  private func answer(_ leaked: LeakResponse.LeakedKey, _ k: KeyRecord, action: LeakResponse.Action?, reason: String)
    throws(IVKeysError) -> Rotation?
  {
    var detail: [(String, JSON)] = [
      ("locations", .strings(leaked.locations)), ("action", .optional(action?.rawValue)),
      ("reason", .string(reason)), ("previous_status", .string(k.status.rawValue)),
    ]
    var rotation: Rotation?
    switch action {
    case nil: break
    case .suspend?: try applyStatus(k, .suspend, reason: reason)
    case .revoke?: try applyStatus(k, .revoke, reason: reason)
    case .rotate?:
      let r = try rotate(k, grace: 0)
      detail.append(("replaced_by", .string(r.new.record.id)))
      rotation = r
    }
    try record(AuditEntry(event: .keyLeaked, keyID: k.id, company: k.company, detail: .object(detail)))
    return rotation
  }

  /// Which of `ids` have a `key.leaked` entry. One pass over the log's `key.leaked` entries
  /// whatever the number of keys: the audit table has no index on key ids (see docs/audit.md),
  /// so a query per key would read the whole log once per key.
  func leakRecorded(among ids: Set<String>) throws(IVKeysError) -> Set<String> {
    guard !ids.isEmpty else { return [] }
    var filter = AuditFilter()
    filter.events = [AuditEvent.keyLeaked.rawValue]
    var found = Set<String>()
    try store.auditEntries(filter) { e in if let id = e.keyID, ids.contains(id) { found.insert(id) } }
    return found
  }
}
