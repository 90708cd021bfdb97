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
  static let effectiveStatusSQL = """
    CASE WHEN status IN ('active', 'suspended', 'rotating') AND expires_at IS NOT NULL AND expires_at <= ?1 THEN 'expired'
    WHEN status = 'rotating' AND grace_until IS NOT NULL AND grace_until <= ?1 THEN 'revoked'
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

  /// The key as SPEC.md's JSON object, written straight into `out`.
  public func writeJSON(to out: inout String, plaintextKey: String? = nil) {
    func str(_ name: String, _ v: String?, first: Bool = false) {
      if !first { out += "," }
      out += "\""; out += name; out += "\":"
      if let v { JSON.writeString(v, to: &out) } else { out += "null" }
    }
    func raw(_ name: String, _ v: String) {
      out += ",\""; out += name; out += "\":"; out += v
    }
    func time(_ name: String, _ t: Timestamp?) { str(name, t.map(Time.rfc3339)) }
    out += "{"
    str("id", id, first: true)
    str("env", env.rawValue)
    str("type", type.rawValue)
    str("company", company)
    raw("linked_companies", linkedCompaniesJSON)
    str("name", name)
    raw("scopes", scopesJSON)
    raw("allowed_ips", allowedIPsJSON)
    time("expires_at", expiresAt)
    str("rate_limit", rateLimit)
    raw("metadata", metadataJSON)
    raw("tags", tagsJSON)
    str("contact", contact)
    str("status", status.rawValue)
    str("status_reason", statusReason)
    time("created_at", createdAt)
    str("created_by", createdBy)
    str("rotated_from", rotatedFrom)
    str("replaced_by", replacedBy)
    time("grace_until", graceUntil)
    time("last_used_at", lastUsedAt)
    raw("request_count", String(requestCount))
    if let plaintextKey { str("key", plaintextKey) }
    out += "}"
  }
}
