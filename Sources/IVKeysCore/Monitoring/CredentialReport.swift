/// One row of the credential report (`ivkeys report`): what an auditor asks of each key, in the
/// report's column order.
public struct CredentialReportRow: Sendable {
  public let id: String
  public let company: String
  public let env: KeyEnvironment
  public let type: KeyType
  /// The status as printed (`damaged` for a row that does not match its seal).
  public let status: String
  public let createdAt: Timestamp
  /// Whole days since creation.
  public let ageDays: Int64
  public let expiresAt: Timestamp?
  public let lastUsedAt: Timestamp?
  public let lastIP: String?
  public let requests: Int64
  public let errors: Int64
  /// Errors over requests; nil when there were no requests.
  public let errorRate: Double?
  /// Creation plus the rotation period (`Scopes.rotationPeriod`); nil for a revoked or expired key.
  public let rotationDueAt: Timestamp?
  /// Whole days since the last use, or since creation when never used.
  public let idleDays: Int64
  public let secretVersion: Int

  /// The report's columns, in order: CSV's header and JSON's member names.
  public static let columns = [
    "id", "company", "env", "type", "status", "created_at", "age_days", "expires_at", "last_used_at", "last_ip",
    "requests", "errors", "error_rate", "rotation_due_at", "idle_days", "secret_version",
  ]

  /// The row of `k` as of `now`.
  public init(_ k: KeyRecord, now: Timestamp) {
    func days(since t: Timestamp) -> Int64 { max(0, now.subtractingReportingOverflow(t).partialValue / 86400) }
    id = k.id
    company = k.company
    env = k.env
    type = k.type
    status = k.displayStatus
    createdAt = k.createdAt
    ageDays = days(since: k.createdAt)
    expiresAt = k.expiresAt
    lastUsedAt = k.lastUsedAt
    lastIP = k.lastIP
    requests = k.requestCount
    errors = k.errorCount
    errorRate = k.requestCount > 0 ? Double(k.errorCount) / Double(k.requestCount) : nil
    if k.status == .revoked || k.status == .expired {
      rotationDueAt = nil
    } else {
      rotationDueAt = k.createdAt.addingReportingOverflow(Vault.rotationPeriod(of: k)).partialValue
    }
    idleDays = days(since: k.lastUsedAt ?? k.createdAt)
    secretVersion = k.secretVersion
  }
}

extension Vault {
  /// The rotation policy's period for a key: 90 days with any write or wildcard scope, 180
  /// read-only. Scopes that cannot be read get the shorter period: an unreadable value must not
  /// postpone a rotation.
  public static func rotationPeriod(of k: KeyRecord) -> Int64 {
    let shortest = min(Scopes.rotationPeriod(["*"]), Scopes.rotationPeriod([]))
    return (try? JSON.parse(k.scopesJSON))?.stringArray.map(Scopes.rotationPeriod) ?? shortest
  }

  /// Calls `body` with the report row of each key `filter` matches, in creation order (or the
  /// filter's), streaming from the store: a vault of any size is reported in flat memory.
  public func credentialReport(_ filter: KeyFilter, _ body: (CredentialReportRow) throws(IVKeysError) -> Void)
    throws(IVKeysError)
  {
    let t = now()
    try listKeys(filter) { k throws(IVKeysError) in try body(CredentialReportRow(k, now: t)) }
  }
}
