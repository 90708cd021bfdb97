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
  /// Calls `body` for each matching entry, oldest first, streaming.
  public func auditEntries(_ filter: AuditFilter, _ body: (AuditRecord) throws(IVKeysError) -> Void) throws(IVKeysError) {
    var clauses = [String]()
    var values = [SQLValue]()
    if let k = filter.keyID { clauses.append("key_id = ?"); values.append(.text(k)) }
    if let c = filter.company { clauses.append("company = ?"); values.append(.text(c)) }
    if let a = filter.actor {
      // The OS user, the person behind sudo, or a claimed name: any of the names an entry carries.
      clauses.append("(actor = ? OR os_user = ? OR instr(actor, ?) > 0 OR instr(actor, ?) > 0)")
      values += [.text(a), .text(a), .text("(sudo \(a))"), .text("(claims \(a))")]
    }
    if let s = filter.since { clauses.append("at >= ?"); values.append(.text(Time.rfc3339(s))) }
    if let u = filter.until { clauses.append("at <= ?"); values.append(.text(Time.rfc3339(u))) }
    if !filter.events.isEmpty {
      var any = [String]()
      for e in filter.events {
        if e == "*" {
          any.append("1")
        } else if e.hasSuffix(".*") {
          any.append("substr(event, 1, ?) = ?")
          values.append(.int(Int64(e.utf8.count - 1)))
          values.append(.text(String(e.dropLast())))
        } else {
          any.append("event = ?")
          values.append(.text(e))
        }
      }
      clauses.append("(" + any.joined(separator: " OR ") + ")")
    }
    let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
    let columns = "seq, at, event, actor, os_user, key_id, company, ip, detail, prev_hash, hash"
    var sql = "SELECT \(columns) FROM audit\(whereSQL) ORDER BY seq"
    if let limit = filter.limit {
      sql = "SELECT * FROM (SELECT \(columns) FROM audit\(whereSQL) ORDER BY seq DESC LIMIT ?) ORDER BY seq"
      values.append(.int(Int64(limit)))
    }
    let statement = try db.statement(sql)
    try db.readTransaction { () throws(IVKeysError) in
      try statement.forEach(values) { row throws(IVKeysError) in
        try body(AuditRecord(
          seq: row.int(0), at: row.text(1), event: row.text(2), actor: row.text(3), osUser: row.text(4),
          keyID: row.optionalText(5), company: row.optionalText(6), ip: row.optionalText(7), detail: row.text(8),
          prevHash: row.text(9), hash: row.text(10)))
      }
    }
  }

  /// The events `--event` accepts, for checking and suggestions.
  public static let auditEvents = [
    "vault.initialized", "key.created", "key.scopes_changed", "key.config_changed", "key.suspended",
    "key.resumed", "key.revoked", "key.rotated", "key.expired", "auth.succeeded", "auth.failed",
    "notification.sent", "admin.added", "admin.removed", "scope.added",
  ]
}
