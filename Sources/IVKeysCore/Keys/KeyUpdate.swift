/// How an optional setting changes in `update`.
public enum Change<Value: Sendable>: Sendable {
  case unchanged
  case set(Value)
  case clear
}

/// What `update` asks for; every value already parsed.
public struct KeyChanges: Sendable {
  public var name: String?
  public var addScopes: [String] = []
  public var removeScopes: [String] = []
  public var allowIPs: [IPRange] = []
  public var removeIPs: [IPRange] = []
  public var clearIPs = false
  public var expiry: Change<Timestamp> = .unchanged
  public var setMetadata: [(String, String)] = []
  public var unsetMetadata: [String] = []
  public var addTags: [String] = []
  public var removeTags: [String] = []
  public var rateLimit: Change<RateLimit> = .unchanged
  /// A new request budget (counted from its whole size) or none.
  public var budget: Change<RequestBudget> = .unchanged
  public var contact: String?
  public var linkCompanies: [String] = []
  public var unlinkCompanies: [String] = []
  public var workingHours: WorkingHoursChange = .unchanged
  public init() {}
}

/// The result of `update`: the key after the change, and whether anything changed.
public struct UpdateResult: Sendable {
  public let record: KeyRecord
  public let changed: [String]
}

extension Vault {
  // MARK: - Update

  /// Applies `changes` to a key in one transaction, with a `key.scopes_changed` entry when its
  /// scopes change and one `key.config_changed` entry with before and after for everything else
  /// (its own working hours included).
  /// Only an administrator changes an ATS key, in any field.
  public func updateKey(_ reference: String, _ changes: KeyChanges) throws(IVKeysError) -> UpdateResult {
    try write { () throws(IVKeysError) -> UpdateResult in
      let old = try resolve(reference)
      guard old.status != .revoked else {
        throw .conflict(
          "key \(old.id) is revoked\(old.storedStatus == .revoked ? "" : " (its rotation grace ended)"); "
            + "a revoked key cannot be changed")
      }
      try requireAdmin(toChange: [old], "change")
      let scopes = try changedScopes(old, changes)
      var new = old
      new.scopesJSON = JSON.strings(scopes).encoded
      new.allowedIPsJSON = JSON.strings(try changedIPs(old, changes)).encoded
      new.expiresAt = try changedExpiry(old, changes.expiry)
      new.metadataJSON = JSON.dictionary(try changedMetadata(old, changes)).encoded
      new.tagsJSON = JSON.strings(try changedTags(old, changes)).encoded
      new.rateLimit = try changedLimits(old, changes)
      new.linkedCompaniesJSON = JSON.strings(try changedLinks(old, changes)).encoded
      new.name = changes.name ?? old.name
      new.contact = changes.contact ?? old.contact
      reviveIfExpiryMoved(old, &new)

      var config = try configChanges(old, new)
      // A budget given anew starts whole even when its size is the same: that is a change.
      if case .set(let b) = changes.budget, !config.contains(where: { $0.0 == "max_requests" }) {
        config.append(
          ("max_requests", .object([("before", .int(b.max)), ("after", .int(b.max)), ("reset", .bool(true))])))
      }
      let hoursBefore = try workSchedule(.key(old.id))
      let hoursAfter = try changedSchedule(old, hoursBefore, changes.workingHours)
      if hoursAfter != hoursBefore {
        config.append(
          (
            "working_hours",
            .object([("before", Self.scheduleJSON(hoursBefore)), ("after", Self.scheduleJSON(hoursAfter))])
          )
        )
      }
      let scopesChanged = try old.strictScopes() != scopes
      var changed = config.map(\.0)
      if scopesChanged { changed.insert("scopes", at: 0) }
      guard !changed.isEmpty else { return UpdateResult(record: old, changed: []) }

      try store.updateKey(new)
      // A budget set anew starts whole; one removed leaves nothing behind.
      if case .unchanged = changes.budget {} else { try store.clearRequestBudget(keyID: old.id) }
      if hoursAfter != hoursBefore { try storeWorkSchedule(.key(old.id), hoursAfter) }
      if scopesChanged {
        try record(
          AuditEntry(
            event: .keyScopesChanged, keyID: old.id, company: old.company,
            detail: .object([("before", .strings(try old.strictScopes())), ("after", .strings(scopes))])))
      }
      if !config.isEmpty {
        try record(AuditEntry(event: .keyConfigChanged, keyID: old.id, company: old.company, detail: .object(config)))
      }
      return UpdateResult(record: try resolve(old.id), changed: changed)
    }
  }

  /// The scopes after removals (each must be there) and checked additions; never none.
  private func changedScopes(_ old: KeyRecord, _ changes: KeyChanges) throws(IVKeysError) -> [String] {
    var scopes = try old.strictScopes()
    for s in changes.removeScopes {
      guard let i = scopes.firstIndex(of: s) else {
        throw .conflict(
          "key \(old.id) does not have the scope \(s)", hint: "its scopes are: \(scopes.joined(separator: " "))")
      }
      scopes.remove(at: i)
    }
    if !changes.addScopes.isEmpty {
      try checkScopes(changes.addScopes, option: "--add-scope")
      scopes = (scopes + changes.addScopes).uniqued()
    }
    guard !scopes.isEmpty else { throw .conflict("a key needs at least one scope; this change would remove the last") }
    return scopes
  }

  /// The IP allowlist after removals (each must be there), clearing and additions. Removing
  /// every entry needs `clearIPs`: a key with no allowlist admits every address, so a key never
  /// opens to every address by a change that reads like a narrowing.
  private func changedIPs(_ old: KeyRecord, _ changes: KeyChanges) throws(IVKeysError) -> [String] {
    let before = try old.strictAllowedIPs()
    var ips = before
    for r in changes.removeIPs {
      guard let i = ips.firstIndex(of: r.description) else {
        let list = before.isEmpty ? "(empty)" : before.joined(separator: " ")
        throw .conflict("key \(old.id) does not allow \(r)", hint: "its allowlist is: \(list)")
      }
      ips.remove(at: i)
    }
    if changes.clearIPs { ips = [] }
    let after = (ips + changes.allowIPs.map(\.description)).uniqued()
    if after.isEmpty && !before.isEmpty && !changes.clearIPs {
      throw .usage(
        "--remove-ip would remove the last address allowed for key \(old.id)",
        hint: "a key with no allowlist admits every address; pass --clear-ips to mean that")
    }
    return after
  }

  /// The expiry after the change; a new one must be in the future.
  private func changedExpiry(_ old: KeyRecord, _ change: Change<Timestamp>) throws(IVKeysError) -> Timestamp? {
    switch change {
    case .unchanged: return old.expiresAt
    case .clear: return nil
    case .set(let t):
      try KeyPolicy.checkExpiryInFuture(t, now: now())
      return t
    }
  }

  /// The metadata after removals (each must be there) and settings.
  private func changedMetadata(_ old: KeyRecord, _ changes: KeyChanges) throws(IVKeysError) -> [String: String] {
    var metadata = [String: String]()
    for (k, v) in try old.strictMetadata() { metadata[k] = v }
    for k in changes.unsetMetadata {
      guard metadata.removeValue(forKey: k) != nil else { throw .conflict("key \(old.id) has no metadata \(k)") }
    }
    for (k, v) in changes.setMetadata { metadata[k] = v }
    return metadata
  }

  /// The tags after removals (each must be there) and additions.
  private func changedTags(_ old: KeyRecord, _ changes: KeyChanges) throws(IVKeysError) -> [String] {
    var tags = try old.strictTags()
    for t in changes.removeTags {
      guard let i = tags.firstIndex(of: t) else { throw .conflict("key \(old.id) has no tag \(t)") }
      tags.remove(at: i)
    }
    return (tags + changes.addTags).uniqued()
  }

  /// The linked companies after the change: only for ATS keys (which only an administrator
  /// changes, checked by `updateKey`), and never none.
  private func changedLinks(_ old: KeyRecord, _ changes: KeyChanges) throws(IVKeysError) -> [String] {
    var links = try old.strictLinkedCompanies()
    guard !changes.linkCompanies.isEmpty || !changes.unlinkCompanies.isEmpty else { return links }
    guard old.type == .ats else {
      throw .conflict("--link-company and --unlink-company apply only to ATS keys; \(old.id) is a regular key")
    }
    for c in changes.unlinkCompanies {
      guard let i = links.firstIndex(of: c) else { throw .conflict("key \(old.id) is not linked to \(c)") }
      links.remove(at: i)
    }
    links = (links + changes.linkCompanies).uniqued()
    guard !links.isEmpty else {
      throw .conflict("an ATS key needs at least one linked company; this change would remove the last")
    }
    return links
  }

  /// A key `sweep` recorded as expired lives again when its expiry moves into the future: only
  /// `revoked` is final.
  private func reviveIfExpiryMoved(_ old: KeyRecord, _ new: inout KeyRecord) {
    guard old.storedStatus == .expired, new.expiresAt != old.expiresAt, new.expiresAt.map({ $0 > now() }) ?? true else {
      return
    }
    new.storedStatus = old.replacedBy == nil ? .active : .rotating
    new.statusReason = old.replacedBy == nil ? nil : old.graceUntil.map { "rotated; valid until \(Time.rfc3339($0))" }
  }

  /// The stored limits after the change. A column that cannot be read is kept as it is unless
  /// both its parts are given anew: nothing unreadable is half-changed or silently dropped.
  private func changedLimits(_ old: KeyRecord, _ changes: KeyChanges) throws(IVKeysError) -> String? {
    let rateGiven: Bool
    let budgetGiven: Bool
    if case .unchanged = changes.rateLimit { rateGiven = false } else { rateGiven = true }
    if case .unchanged = changes.budget { budgetGiven = false } else { budgetGiven = true }
    guard rateGiven || budgetGiven else { return old.rateLimit }
    var limits = rateGiven && budgetGiven ? RequestLimits(rate: nil, budget: nil) : try old.strictLimits()
    switch changes.rateLimit {
    case .unchanged: break
    case .clear: limits.rate = nil
    case .set(let r): limits.rate = r
    }
    switch changes.budget {
    case .unchanged: break
    case .clear: limits.budget = nil
    case .set(let b): limits.budget = b
    }
    return limits.stored
  }

  /// Every setting but the scopes that differs, with its before and after, in a fixed order.
  private func configChanges(_ old: KeyRecord, _ new: KeyRecord) throws(IVKeysError) -> [(String, JSON)] {
    var config = [(String, JSON)]()
    func compare(_ field: String, _ before: JSON, _ after: JSON) {
      if before != after { config.append((field, .object([("before", before), ("after", after)]))) }
    }
    compare("name", .string(old.name), .string(new.name))
    compare("allowed_ips", .strings(try old.strictAllowedIPs()), .strings(try new.strictAllowedIPs()))
    compare("expires_at", .optional(old.expiresAt.map(Time.rfc3339)), .optional(new.expiresAt.map(Time.rfc3339)))
    if let before = old.limits, let after = new.limits {
      compare("rate_limit", .optional(before.rate?.description), .optional(after.rate?.description))
      compare("max_requests", before.budget.map { .int($0.max) } ?? .null, after.budget.map { .int($0.max) } ?? .null)
      compare("refill", .optional(before.budget?.refillText), .optional(after.budget?.refillText))
    } else {
      compare("rate_limit", .optional(old.rateLimit), .optional(new.rateLimit))
    }
    compare("metadata", (try? JSON.parse(old.metadataJSON)) ?? .null, (try? JSON.parse(new.metadataJSON)) ?? .null)
    compare("tags", .strings(try old.strictTags()), .strings(try new.strictTags()))
    compare("contact", .optional(old.contact), .optional(new.contact))
    compare("linked_companies", .strings(try old.strictLinkedCompanies()), .strings(try new.strictLinkedCompanies()))
    compare("status", .string(old.storedStatus.rawValue), .string(new.storedStatus.rawValue))
    return config
  }
}
