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
  public var contact: String?
  public var linkCompanies: [String] = []
  public var unlinkCompanies: [String] = []
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
  /// scopes change and one `key.config_changed` entry with before and after for everything else.
  public func updateKey(_ reference: String, _ changes: KeyChanges) throws(IVKeysError) -> UpdateResult {
    try write { () throws(IVKeysError) -> UpdateResult in
      let old = try resolve(reference)
      guard old.status != .revoked else {
        throw .conflict("key \(old.id) is revoked\(old.storedStatus == .revoked ? "" : " (its rotation grace ended)"); a revoked key cannot be changed")
      }
      var scopes = old.scopes
      for s in changes.removeScopes {
        guard let i = scopes.firstIndex(of: s) else {
          throw .conflict("key \(old.id) does not have the scope \(s)", hint: "its scopes are: \(scopes.joined(separator: " "))")
        }
        scopes.remove(at: i)
      }
      if !changes.addScopes.isEmpty {
        try checkScopes(changes.addScopes, option: "--add-scope")
        scopes = (scopes + changes.addScopes).uniqued()
      }
      guard !scopes.isEmpty else { throw .conflict("a key needs at least one scope; this change would remove the last") }

      var ips = changes.clearIPs ? [] : old.allowedIPs
      for r in changes.removeIPs {
        guard let i = ips.firstIndex(of: r.description) else {
          throw .conflict("key \(old.id) does not allow \(r)", hint: "its allowlist is: \(old.allowedIPs.isEmpty ? "(empty)" : old.allowedIPs.joined(separator: " "))")
        }
        ips.remove(at: i)
      }
      ips = (ips + changes.allowIPs.map(\.description)).uniqued()

      var expires = old.expiresAt
      switch changes.expiry {
      case .unchanged: break
      case .clear: expires = nil
      case let .set(t):
        guard t > now() else { throw .invalidValue(option: "--expires", value: Time.rfc3339(t), reason: "the expiry is in the past") }
        expires = t
      }

      var metadata = [String: String]()
      for (k, v) in old.metadata { metadata[k] = v }
      for k in changes.unsetMetadata {
        guard metadata.removeValue(forKey: k) != nil else { throw .conflict("key \(old.id) has no metadata \(k)") }
      }
      for (k, v) in changes.setMetadata { metadata[k] = v }

      var tags = old.tags
      for t in changes.removeTags {
        guard let i = tags.firstIndex(of: t) else { throw .conflict("key \(old.id) has no tag \(t)") }
        tags.remove(at: i)
      }
      tags = (tags + changes.addTags).uniqued()

      var rateLimit = old.rateLimit
      switch changes.rateLimit {
      case .unchanged: break
      case .clear: rateLimit = nil
      case let .set(r): rateLimit = r.description
      }

      var links = old.linkedCompanies
      if !changes.linkCompanies.isEmpty || !changes.unlinkCompanies.isEmpty {
        guard old.type == .ats else {
          throw .conflict("--link-company and --unlink-company apply only to ATS keys; \(old.id) is a regular key")
        }
        try requireAdmin("change an ATS key's linked companies")
        for c in changes.unlinkCompanies {
          guard let i = links.firstIndex(of: c) else { throw .conflict("key \(old.id) is not linked to \(c)") }
          links.remove(at: i)
        }
        links = (links + changes.linkCompanies).uniqued()
        guard !links.isEmpty else { throw .conflict("an ATS key needs at least one linked company; this change would remove the last") }
      }

      // A key `sweep` recorded as expired lives again when its expiry moves into the future:
      // only `revoked` is final.
      var storedStatus = old.storedStatus
      var statusReason = old.statusReason
      if old.storedStatus == .expired, expires != old.expiresAt, expires.map({ $0 > now() }) ?? true {
        storedStatus = old.replacedBy == nil ? .active : .rotating
        statusReason = old.replacedBy == nil ? nil : old.graceUntil.map { "rotated; valid until \(Time.rfc3339($0))" }
      }

      var new = old
      new.name = changes.name ?? old.name
      new.scopesJSON = JSON.strings(scopes).encoded
      new.allowedIPsJSON = JSON.strings(ips).encoded
      new.expiresAt = expires
      new.metadataJSON = JSON.dictionary(metadata).encoded
      new.tagsJSON = JSON.strings(tags).encoded
      new.rateLimit = rateLimit
      new.contact = changes.contact ?? old.contact
      new.linkedCompaniesJSON = JSON.strings(links).encoded

      var config = [(String, JSON)]()
      func compare(_ field: String, _ before: JSON, _ after: JSON) {
        if before != after { config.append((field, .object([("before", before), ("after", after)]))) }
      }
      compare("name", .string(old.name), .string(new.name))
      compare("allowed_ips", .strings(old.allowedIPs), .strings(ips))
      compare("expires_at", .optional(old.expiresAt.map(Time.rfc3339)), .optional(expires.map(Time.rfc3339)))
      compare("rate_limit", .optional(old.rateLimit), .optional(rateLimit))
      compare("metadata", (try? JSON.parse(old.metadataJSON)) ?? .null, (try? JSON.parse(new.metadataJSON)) ?? .null)
      compare("tags", .strings(old.tags), .strings(tags))
      compare("contact", .optional(old.contact), .optional(new.contact))
      compare("linked_companies", .strings(old.linkedCompanies), .strings(links))
      compare("status", .string(old.storedStatus.rawValue), .string(storedStatus.rawValue))
      let scopesChanged = old.scopes != scopes
      var changed = config.map(\.0)
      if scopesChanged { changed.insert("scopes", at: 0) }
      guard !changed.isEmpty else { return UpdateResult(record: old, changed: []) }

      try db.run(
        """
        UPDATE keys SET name = ?, scopes = ?, allowed_ips = ?, expires_at = ?, metadata = ?, tags = ?,
          rate_limit = ?, contact = ?, linked_companies = ?, status = ?, status_reason = ? WHERE id = ?
        """,
        [.text(new.name), .text(new.scopesJSON), .text(new.allowedIPsJSON), .optional(new.expiresAt),
         .text(new.metadataJSON), .text(new.tagsJSON), .optional(new.rateLimit), .optional(new.contact),
         .text(new.linkedCompaniesJSON), .text(storedStatus.rawValue), .optional(statusReason), .text(old.id)])
      if scopesChanged {
        try record(AuditEntry(
          event: "key.scopes_changed", keyID: old.id, company: old.company,
          detail: .object([("before", .strings(old.scopes)), ("after", .strings(scopes))])))
      }
      if !config.isEmpty {
        try record(AuditEntry(event: "key.config_changed", keyID: old.id, company: old.company, detail: .object(config)))
      }
      return UpdateResult(record: try resolve(old.id), changed: changed)
    }
  }

  // MARK: - Rotate

  /// The result of `rotate`.
  public struct Rotation: Sendable {
    public let new: CreatedKey
    public let old: KeyRecord
  }

  /// Replaces an active key with a new one carrying every setting. The old key stays valid as
  /// `rotating` until `grace` seconds pass; a grace of 0 revokes it at once. Rotating an ATS key
  /// makes a new ATS key, so it takes an administrator. `deliver` runs before COMMIT, as in
  /// `createKeys`.
  public func rotateKey(
    _ reference: String, grace: Int64,
    deliver: (Rotation) throws(IVKeysError) -> Void = { _ throws(IVKeysError) in }
  ) throws(IVKeysError) -> Rotation {
    try write { () throws(IVKeysError) -> Rotation in
      let old = try resolve(reference)
      if old.type == .ats { try requireAdmin("rotate an ATS key") }
      guard old.status == .active else {
        let why = old.status == .rotating ? "it was already rotated (replaced by \(old.replacedBy ?? "?"))" : "it is \(old.status.rawValue)"
        throw .conflict("key \(old.id) cannot be rotated: \(why)", hint: old.status == .suspended ? "resume it first" : nil)
      }
      let t = now()
      var draft = KeyDraft(company: old.company, name: old.name, scopes: old.scopes)
      draft.env = old.env
      draft.type = old.type
      draft.linkedCompanies = old.linkedCompanies
      draft.expiresAt = old.expiresAt
      draft.contact = old.contact
      draft.metadata = old.metadata
      draft.tags = old.tags
      draft.rateLimit = old.rateLimit.flatMap { try? RateLimit.parse($0) }
      let fields = KeyFields(scopes: old.scopesJSON, links: old.linkedCompaniesJSON, ips: old.allowedIPsJSON,
                             metadata: old.metadataJSON, tags: old.tagsJSON)
      let key = try APIKey.generate(env: old.env)
      let made = try insertKey(key, draft: draft, fields: fields, at: t, rotatedFrom: old.id)
      let graceUntil = t + grace
      if grace == 0 {
        try db.run(
          "UPDATE keys SET status = 'revoked', status_reason = 'rotated with no grace period', replaced_by = ?, grace_until = ? WHERE id = ?",
          [.text(key.id), .int(graceUntil), .text(old.id)])
      } else {
        try db.run(
          "UPDATE keys SET status = 'rotating', status_reason = ?, replaced_by = ?, grace_until = ? WHERE id = ?",
          [.text("rotated; valid until \(Time.rfc3339(graceUntil))"), .text(key.id), .int(graceUntil), .text(old.id)])
      }
      try record(AuditEntry(
        event: "key.created", keyID: key.id, company: old.company,
        detail: .object([
          ("env", .string(old.env.rawValue)), ("type", .string(old.type.rawValue)), ("name", .string(old.name)),
          ("scopes", .strings(old.scopes)), ("linked_companies", .strings(old.linkedCompanies)),
          ("expires_at", .optional(old.expiresAt.map(Time.rfc3339))), ("rotated_from", .string(old.id)),
        ])), at: t)
      try record(AuditEntry(
        event: "key.rotated", keyID: old.id, company: old.company,
        detail: .object([
          ("replaced_by", .string(key.id)), ("grace_seconds", .int(grace)),
          ("grace_until", .string(Time.rfc3339(graceUntil))),
        ])), at: t)
      if grace == 0 {
        try record(AuditEntry(
          event: "key.revoked", keyID: old.id, company: old.company,
          detail: .object([("reason", .string("rotated with no grace period")), ("previous_status", .string("active"))])), at: t)
      }
      let rotation = Rotation(new: CreatedKey(key: key, record: made), old: try resolve(old.id))
      try deliver(rotation)
      return rotation
    }
  }

  // MARK: - Suspend, resume, revoke

  /// A status change a user can ask for.
  public enum StatusAction: String, Sendable {
    case suspend, resume, revoke
  }

  /// Suspends, resumes or revokes one key, with its audit entry. `revoked` is final.
  public func changeStatus(_ reference: String, _ action: StatusAction, reason: String?) throws(IVKeysError) -> KeyRecord {
    try write { () throws(IVKeysError) -> KeyRecord in
      let old = try resolve(reference)
      try applyStatus(old, action, reason: reason)
      return try resolve(old.id)
    }
  }

  /// Checks that `action` applies to `old` and records it; inside `write`.
  func applyStatus(_ old: KeyRecord, _ action: StatusAction, reason: String?) throws(IVKeysError) {
    let newStatus: KeyStatus
    let event: String
    switch action {
    case .suspend:
      guard old.status == .active else {
        throw .conflict("key \(old.id) cannot be suspended: it is \(old.status.rawValue)",
                        hint: old.status == .rotating ? "revoke it instead; its replacement is \(old.replacedBy ?? "?")" : nil)
      }
      newStatus = .suspended
      event = "key.suspended"
    case .resume:
      guard old.status != .revoked else {
        throw .conflict("key \(old.id) is revoked; revocation is final", hint: "create a new key with 'ivkeys create'")
      }
      guard old.status == .suspended else {
        throw .conflict("key \(old.id) cannot be resumed: it is \(old.status.rawValue), not suspended",
                        hint: old.status == .expired ? "extend it with 'ivkeys update \(old.id) --expires-in DUR' first" : nil)
      }
      newStatus = .active
      event = "key.resumed"
    case .revoke:
      guard old.status != .revoked else {
        throw .conflict("key \(old.id) is already revoked\(old.storedStatus == .revoked ? "" : ": its rotation grace ended")")
      }
      newStatus = .revoked
      event = "key.revoked"
    }
    try db.run("UPDATE keys SET status = ?, status_reason = ? WHERE id = ?",
               [.text(newStatus.rawValue), .optional(reason), .text(old.id)])
    try record(AuditEntry(
      event: event, keyID: old.id, company: old.company,
      detail: .object([("reason", .optional(reason)), ("previous_status", .string(old.status.rawValue))])))
  }
}
