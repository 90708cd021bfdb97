/// A key's type.
public enum KeyType: String, CaseIterable, Sendable {
  /// Serves one company.
  case regular
  /// A multi-tenant ATS integration: serves every company linked to it.
  case ats
}

/// A key's lifecycle state.
public enum KeyStatus: String, CaseIterable, Sendable {
  case active, suspended, rotating, revoked, expired
}

/// Everything the vault knows about one key, never its secret or digest.
///
/// List-valued fields keep the compact JSON the vault stores, so `list --json` streams them
/// without parsing; the typed accessors parse on demand.
public struct KeyRecord: Sendable {
  public var id: String
  public var env: KeyEnvironment
  public var type: KeyType
  public var company: String
  public var linkedCompaniesJSON: String
  public var name: String
  public var scopesJSON: String
  public var allowedIPsJSON: String
  public var expiresAt: Timestamp?
  public var rateLimit: String?
  public var metadataJSON: String
  public var tagsJSON: String
  public var contact: String?
  /// The status as of now: an active key past its expiry is `expired`, a rotating key past its
  /// grace is `revoked`, whether or not `sweep` has recorded it yet.
  public var status: KeyStatus
  /// The status the vault records.
  public var storedStatus: KeyStatus
  public var statusReason: String?
  public var createdAt: Timestamp
  public var createdBy: String
  public var rotatedFrom: String?
  public var replacedBy: String?
  public var graceUntil: Timestamp?
  public var lastUsedAt: Timestamp?
  public var requestCount: Int64

  public var scopes: [String] { (try? JSON.parse(scopesJSON))?.stringArray ?? [] }
  public var linkedCompanies: [String] { (try? JSON.parse(linkedCompaniesJSON))?.stringArray ?? [] }
  public var allowedIPs: [String] { (try? JSON.parse(allowedIPsJSON))?.stringArray ?? [] }
  public var tags: [String] { (try? JSON.parse(tagsJSON))?.stringArray ?? [] }
  public var metadata: [(String, String)] { (try? JSON.parse(metadataJSON))?.stringPairs ?? [] }

  /// The columns `Row` decoding expects, in order; `?1` is the current time.
  static let columns = """
    id, env, type, company, linked_companies, name, scopes, allowed_ips, expires_at, rate_limit,
    metadata, tags, contact, status, status_reason, created_at, created_by, rotated_from,
    replaced_by, grace_until, last_used_at, request_count, \(effectiveStatusSQL)
    """

  /// The status as of `?1`, in SQL, so `list --status` filters on what `show` prints.
  /// The checks run in verify's order: revoked, suspended, a rotation grace that ended (revoked),
  /// then expiry; so `show` and `verify` never disagree about a key.
  static let effectiveStatusSQL = """
    CASE WHEN status IN ('revoked', 'suspended', 'expired') THEN status
    WHEN status = 'rotating' AND grace_until IS NOT NULL AND grace_until <= ?1 THEN 'revoked'
    WHEN expires_at IS NOT NULL AND expires_at <= ?1 THEN 'expired'
    ELSE status END
    """

}

extension KeyRecord {
  init(row: Row) {
    id = row.text(0)
    env = KeyEnvironment(rawValue: row.text(1)) ?? .live
    type = KeyType(rawValue: row.text(2)) ?? .regular
    company = row.text(3)
    linkedCompaniesJSON = row.text(4)
    name = row.text(5)
    scopesJSON = row.text(6)
    allowedIPsJSON = row.text(7)
    expiresAt = row.optionalInt(8)
    rateLimit = row.optionalText(9)
    metadataJSON = row.text(10)
    tagsJSON = row.text(11)
    contact = row.optionalText(12)
    storedStatus = KeyStatus(rawValue: row.text(13)) ?? .revoked
    statusReason = row.optionalText(14)
    createdAt = row.int(15)
    createdBy = row.text(16)
    rotatedFrom = row.optionalText(17)
    replacedBy = row.optionalText(18)
    graceUntil = row.optionalInt(19)
    lastUsedAt = row.optionalInt(20)
    requestCount = row.int(21)
    status = KeyStatus(rawValue: row.text(22)) ?? storedStatus
    if status != storedStatus {
      if status == .expired { statusReason = "expired at \(Time.rfc3339(expiresAt ?? 0))" }
      if status == .revoked { statusReason = "rotation grace ended" }
    }
  }

  /// The key as SPEC.md's JSON object, written straight into `w`. List-valued fields are the
  /// vault's own compact JSON, copied as they are.
  public func writeJSON(to w: inout JSONWriter, plaintextKey: String? = nil) {
    w.raw("{")
    w.key("id", first: true); w.string(id)
    w.key("env"); w.string(env.rawValue)
    w.key("type"); w.string(type.rawValue)
    w.key("company"); w.string(company)
    w.key("linked_companies"); w.rawText(linkedCompaniesJSON)
    w.key("name"); w.string(name)
    w.key("scopes"); w.rawText(scopesJSON)
    w.key("allowed_ips"); w.rawText(allowedIPsJSON)
    w.key("expires_at"); w.time(expiresAt)
    w.key("rate_limit"); w.optional(rateLimit)
    w.key("metadata"); w.rawText(metadataJSON)
    w.key("tags"); w.rawText(tagsJSON)
    w.key("contact"); w.optional(contact)
    w.key("status"); w.string(status.rawValue)
    w.key("status_reason"); w.optional(statusReason)
    w.key("created_at"); w.time(createdAt)
    w.key("created_by"); w.string(createdBy)
    w.key("rotated_from"); w.optional(rotatedFrom)
    w.key("replaced_by"); w.optional(replacedBy)
    w.key("grace_until"); w.time(graceUntil)
    w.key("last_used_at"); w.time(lastUsedAt)
    w.key("request_count"); w.int(requestCount)
    if let plaintextKey { w.key("key"); w.string(plaintextKey) }
    w.raw("}")
  }
}
