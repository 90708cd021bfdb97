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
  /// The stored `rate_limit` column: the rate limit and, for a usage-limited key, its request
  /// budget (`RequestLimits`); `limits` reads it.
  public var rateLimit: String?
  /// Requests left in a usage-limited key's budget, when the command looked them up (`show`).
  public var requestsRemaining: Int64?
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
  /// Requests refused (or, imported, answered with a status of 400 or more).
  public var errorCount: Int64 = 0
  /// The source address of the last use, when one was recorded.
  public var lastIP: String?
  /// The secret version whose digest key made the key's digest.
  public var secretVersion: Int = 1
  /// The row does not match its seal: it was changed outside ivkeys, and nothing it says can be
  /// trusted (verify refuses the key; `doctor` names it).
  public var damaged = false

  /// The status as printed: `damaged` for a row that does not match its seal.
  public var displayStatus: String { damaged ? "damaged" : status.rawValue }

  public var scopes: [String] { (try? JSON.parse(scopesJSON))?.stringArray ?? [] }
  public var linkedCompanies: [String] { (try? JSON.parse(linkedCompaniesJSON))?.stringArray ?? [] }
  public var allowedIPs: [String] { (try? JSON.parse(allowedIPsJSON))?.stringArray ?? [] }
  public var tags: [String] { (try? JSON.parse(tagsJSON))?.stringArray ?? [] }
  /// The key's rate limit and budget; nil when the stored column cannot be read.
  public var limits: RequestLimits? { try? RequestLimits.parse(rateLimit) }
  public var metadata: [(String, String)] { (try? JSON.parse(metadataJSON))?.stringPairs ?? [] }
}

extension KeyRecord {
  // MARK: - Stored settings, read strictly

  /// A list-valued setting as stored, for a change that writes it back: a value that cannot be
  /// read is an error, never taken for an empty list (which would widen or wipe the setting).
  static func storedList(_ json: String, _ column: String, of id: String) throws(IVKeysError) -> [String] {
    guard let list = (try? JSON.parse(json))?.stringArray else {
      throw .vault(
        "key \(id)'s stored \(column) cannot be read: \(Text.escapeControl(String(json.prefix(60))))",
        hint: "restore the vault from a backup, or revoke the key and create a new one")
    }
    return list
  }

  func strictScopes() throws(IVKeysError) -> [String] { try Self.storedList(scopesJSON, "scopes", of: id) }
  func strictAllowedIPs() throws(IVKeysError) -> [String] { try Self.storedList(allowedIPsJSON, "allowed_ips", of: id) }
  func strictTags() throws(IVKeysError) -> [String] { try Self.storedList(tagsJSON, "tags", of: id) }
  func strictLinkedCompanies() throws(IVKeysError) -> [String] {
    try Self.storedList(linkedCompaniesJSON, "linked_companies", of: id)
  }
  func strictMetadata() throws(IVKeysError) -> [(String, String)] {
    guard let pairs = (try? JSON.parse(metadataJSON))?.stringPairs else {
      throw .vault("key \(id)'s stored metadata cannot be read", hint: "restore the vault from a backup")
    }
    return pairs
  }

  /// The stored rate limit and budget, parsed: what cannot be read is an error, never dropped
  /// (a key copied without it would have no limit at all).
  func strictLimits() throws(IVKeysError) -> RequestLimits {
    guard let text = rateLimit else { return RequestLimits(rate: nil, budget: nil) }
    do {
      return try RequestLimits.parse(text)
    } catch {
      throw .vault(
        "key \(id)'s stored limits '\(Text.escapeControl(text))' cannot be read: \(error.reason)",
        hint:
          "set both parts anew with 'ivkeys update \(id) --rate-limit N/UNIT --max-requests N' "
          + "(or --no-rate-limit, --no-max-requests)")
    }
  }
}
