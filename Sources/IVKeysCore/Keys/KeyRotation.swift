extension Vault {
  // MARK: - Rotate

  /// The result of `rotate`.
  public struct Rotation: Sendable {
    public let new: CreatedKey
    /// The old key after the rotation.
    public let old: KeyRecord
    /// The old key's stored status and reason before the rotation, for `undoRotation`.
    public let previousStatus: KeyStatus
    public let previousReason: String?
  }

  /// Replaces an active or suspended key with a new, active one carrying every setting (its own
  /// working hours included). An
  /// active old key stays valid as `rotating` until `grace` seconds pass; a suspended one stays
  /// suspended and is revoked when the grace ends (a leaked key can be suspended first and
  /// replaced after); a grace of 0 revokes it at once. Only an administrator rotates an ATS key.
  /// As in `createKeys`, the new key is returned once the transaction has committed; a caller
  /// that cannot deliver it calls `undoRotation`.
  public func rotateKey(_ reference: String, grace: Int64) throws(IVKeysError) -> Rotation {
    try write { () throws(IVKeysError) -> Rotation in try rotate(try resolve(reference), grace: grace) }
  }

  /// `rotateKey`'s work on the resolved key `old`; inside `write` (`leak --action rotate` rotates
  /// in the transaction that decides the leak).
  func rotate(_ old: KeyRecord, grace: Int64) throws(IVKeysError) -> Rotation {
    try requireAdmin(toChange: [old], "rotate")
    guard old.status == .active || (old.status == .suspended && old.replacedBy == nil) else {
      let why =
        old.replacedBy != nil
        ? "it was already rotated (replaced by \(old.replacedBy ?? "?"))" : "it is \(old.status.rawValue)"
      throw .conflict("key \(old.id) cannot be rotated: \(why)")
    }
    let t = now()
    // A suspended key keeps its expiry while suspended; its replacement would inherit a
    // passed one and be expired at birth.
    if let e = old.expiresAt, e <= t {
      throw .conflict(
        "key \(old.id) cannot be rotated: it expired at \(Time.rfc3339(e)), and its replacement would too",
        hint: "move its expiry first: 'ivkeys update \(old.id) --expires-in DUR'")
    }
    // Every setting is read strictly: one that cannot be read fails the rotation rather than
    // being dropped from the new key (a lost rate limit or allowlist would widen access).
    let scopes = try old.strictScopes()
    let links = try old.strictLinkedCompanies()
    _ = try old.strictAllowedIPs()
    var draft = KeyDraft(company: old.company, name: old.name, scopes: scopes)
    draft.env = old.env
    draft.type = old.type
    draft.linkedCompanies = links
    draft.expiresAt = old.expiresAt
    draft.contact = old.contact
    draft.metadata = try old.strictMetadata()
    draft.tags = try old.strictTags()
    let limits = try old.strictLimits()
    draft.rateLimit = limits.rate
    draft.budget = limits.budget
    let fields = KeyFields(
      scopes: old.scopesJSON, links: old.linkedCompaniesJSON, ips: old.allowedIPsJSON,
      metadata: old.metadataJSON, tags: old.tagsJSON)
    let key = try APIKey.generate(env: old.env)
    let made = try insertKey(key, draft: draft, fields: fields, at: t, rotatedFrom: old.id)
    // The new key goes on with what is left of the old one's budget: rotating does not refill it.
    // (During a grace period the old key still spends from its own.)
    if limits.budget != nil, let left = try store.requestBudget(keyID: old.id) {
      try store.saveRequestBudget(keyID: key.id, left)
    }
    let hours = try copyWorkSchedule(from: old.id, to: key.id)
    let graceUntil = t + grace
    if grace == 0 {
      try store.markReplaced(
        id: old.id, replacedBy: key.id, graceUntil: graceUntil, status: .revoked,
        reason: "rotated with no grace period")
    } else if old.status == .suspended {
      try store.markReplaced(
        id: old.id, replacedBy: key.id, graceUntil: graceUntil, status: .suspended,
        reason: "\(old.statusReason ?? "suspended"); rotated, revoked at \(Time.rfc3339(graceUntil))")
    } else {
      try store.markReplaced(
        id: old.id, replacedBy: key.id, graceUntil: graceUntil, status: .rotating,
        reason: "rotated; valid until \(Time.rfc3339(graceUntil))")
    }
    var created: [(String, JSON)] = [
      ("env", .string(old.env.rawValue)), ("type", .string(old.type.rawValue)), ("name", .string(old.name)),
      ("scopes", .strings(scopes)), ("linked_companies", .strings(links)),
      ("expires_at", .optional(old.expiresAt.map(Time.rfc3339))), ("rotated_from", .string(old.id)),
    ]
    if let hours { created.append(("working_hours", Self.scheduleJSON(hours))) }
    try record(AuditEntry(event: .keyCreated, keyID: key.id, company: old.company, detail: .object(created)), at: t)
    try record(
      AuditEntry(
        event: .keyRotated, keyID: old.id, company: old.company,
        detail: .object([
          ("replaced_by", .string(key.id)), ("grace_seconds", .int(grace)),
          ("grace_until", .string(Time.rfc3339(graceUntil))), ("previous_status", .string(old.status.rawValue)),
        ])), at: t)
    if grace == 0 {
      try record(
        AuditEntry(
          event: .keyRevoked, keyID: old.id, company: old.company,
          detail: .object([
            ("reason", .string("rotated with no grace period")),
            ("previous_status", .string(old.status.rawValue)),
          ])), at: t)
    }
    return Rotation(
      new: CreatedKey(key: key, record: made), old: try resolve(old.id), previousStatus: old.storedStatus,
      previousReason: old.statusReason)
  }

  // MARK: - Suspend, resume, revoke

  /// A status change a user can ask for.
  public enum StatusAction: String, Sendable {
    case suspend, resume, revoke

    /// The status the action leaves a key in.
    public var target: KeyStatus {
      switch self {
      case .suspend: return .suspended
      case .resume: return .active
      case .revoke: return .revoked
      }
    }
  }

  /// Suspends, resumes or revokes one key, with its audit entry. `revoked` is final.
  ///
  /// Idempotent, as the bulk forms are: a key already in the state asked for is left as it is,
  /// with no audit entry, and `changed` is false. A change the key's status does not allow
  /// (resume a revoked key) is an error.
  public func changeStatus(_ reference: String, _ action: StatusAction, reason: String?)
    throws(IVKeysError) -> (record: KeyRecord, changed: Bool)
  {
    try write { () throws(IVKeysError) -> (record: KeyRecord, changed: Bool) in
      let old = try resolve(reference)
      if old.status == action.target { return (old, false) }
      try applyStatus(old, action, reason: reason)
      return (try resolve(old.id), true)
    }
  }

  /// Checks that `action` applies to `old` (and that only an administrator changes an ATS key)
  /// and records it; inside `write`.
  func applyStatus(_ old: KeyRecord, _ action: StatusAction, reason: String?) throws(IVKeysError) {
    try requireAdmin(toChange: [old], action.rawValue)
    let newStatus: KeyStatus
    let event: AuditEvent
    switch action {
    case .suspend:
      guard old.status == .active else {
        throw .conflict(
          "key \(old.id) cannot be suspended: it is \(old.status.rawValue)",
          hint: old.status == .rotating ? "revoke it instead; its replacement is \(old.replacedBy ?? "?")" : nil)
      }
      newStatus = .suspended
      event = .keySuspended
    case .resume:
      guard old.status != .revoked else {
        throw .conflict("key \(old.id) is revoked; revocation is final", hint: "create a new key with 'ivkeys create'")
      }
      guard old.status == .suspended else {
        throw .conflict(
          "key \(old.id) cannot be resumed: it is \(old.status.rawValue), not suspended",
          hint: old.status == .expired ? "extend it with 'ivkeys update \(old.id) --expires-in DUR' first" : nil)
      }
      // A key rotated while suspended goes back to what rotation made of it: valid until its
      // grace ends, as `rotating`, never `active` beside its replacement.
      newStatus = old.replacedBy == nil ? .active : .rotating
      event = .keyResumed
    case .revoke:
      guard old.status != .revoked else {
        throw .conflict(
          "key \(old.id) is already revoked\(old.storedStatus == .revoked ? "" : ": its rotation grace ended")")
      }
      newStatus = .revoked
      event = .keyRevoked
    }
    let storedReason =
      newStatus == .rotating ? old.graceUntil.map { "rotated; valid until \(Time.rfc3339($0))" } : reason
    try store.setStatus(id: old.id, newStatus, reason: storedReason)
    try record(
      AuditEntry(
        event: event, keyID: old.id, company: old.company,
        detail: .object([("reason", .optional(reason)), ("previous_status", .string(old.status.rawValue))])))
  }
}
