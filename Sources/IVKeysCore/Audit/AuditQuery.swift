/// Which audit entries `ivkeys audit` shows; nil means any.
public struct AuditFilter: Sendable {
  /// A key id (already resolved from a prefix or whole key).
  public var keyID: String?
  public var company: String?
  /// Event names; an entry ending in `.*` (or a bare `*`) matches by prefix.
  public var events: [String] = []
  public var actor: String?
  public var since: Timestamp?
  public var until: Timestamp?
  /// Keep only the newest N, still printed oldest first.
  public var limit: Int?
  public init() {}
}

extension Vault {
  /// Calls `body` for each matching entry, oldest first, streaming from the store.
  public func auditEntries(_ filter: AuditFilter, _ body: (AuditRecord) throws(IVKeysError) -> Void) throws(IVKeysError)
  {
    try store.auditEntries(filter, body)
  }

  /// The events `--event` accepts, for checking and suggestions.
  public static let auditEvents = AuditEvent.allCases.map(\.rawValue)
}
