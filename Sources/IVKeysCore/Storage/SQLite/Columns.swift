/// A table's columns as an enum whose case order is the SELECT list's order: the SELECT text
/// and the row mapping both come from it, so an index is never written by hand.
protocol Columns: CaseIterable, RawRepresentable where RawValue == Int32, AllCases == [Self] {
  /// The column's SQL name (or expression).
  var sql: String { get }
}

extension Columns {
  /// The SELECT list, in case order.
  static var selectList: String { allCases.map(\.sql).joined(separator: ", ") }
}

extension Row {
  func isNull<C: Columns>(_ c: C) -> Bool { isNull(c.rawValue) }
  func int<C: Columns>(_ c: C) -> Int64 { int(c.rawValue) }
  func optionalInt<C: Columns>(_ c: C) -> Int64? { optionalInt(c.rawValue) }
  func text<C: Columns>(_ c: C) -> String { text(c.rawValue) }
  func optionalText<C: Columns>(_ c: C) -> String? { optionalText(c.rawValue) }
  func blob<C: Columns>(_ c: C) -> [UInt8] { blob(c.rawValue) }
  func optionalBlob<C: Columns>(_ c: C) -> [UInt8]? { optionalBlob(c.rawValue) }
  func withText<C: Columns, T>(_ c: C, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T { withText(c.rawValue, body) }
}

/// The `keys` columns a `KeyRecord` is read from; the last is the effective status as of `?1`.
enum KeyColumn: Int32, Columns {
  case id, env, type, company, linkedCompanies, name, scopes, allowedIPs, expiresAt, rateLimit, metadata, tags
  case contact, status, statusReason, createdAt, createdBy, rotatedFrom, replacedBy, graceUntil, lastUsedAt
  case requestCount, errorCount, lastIP, digest, secretVersion, seal, effectiveStatus

  var sql: String {
    switch self {
    case .id: return "id"
    case .env: return "env"
    case .type: return "type"
    case .company: return "company"
    case .linkedCompanies: return "linked_companies"
    case .name: return "name"
    case .scopes: return "scopes"
    case .allowedIPs: return "allowed_ips"
    case .expiresAt: return "expires_at"
    case .rateLimit: return "rate_limit"
    case .metadata: return "metadata"
    case .tags: return "tags"
    case .contact: return "contact"
    case .status: return "status"
    case .statusReason: return "status_reason"
    case .createdAt: return "created_at"
    case .createdBy: return "created_by"
    case .rotatedFrom: return "rotated_from"
    case .replacedBy: return "replaced_by"
    case .graceUntil: return "grace_until"
    case .lastUsedAt: return "last_used_at"
    case .requestCount: return "request_count"
    case .errorCount: return "error_count"
    case .lastIP: return "last_ip"
    case .digest: return "digest"
    case .secretVersion: return "secret_version"
    case .seal: return "seal"
    case .effectiveStatus: return SQLiteStore.effectiveStatusSQL
    }
  }
}

/// The `keys` columns a seal covers, in the seal message's order: the primary key first, the
/// seal last (`SQLiteStore.sealMessage`). `verify` reads exactly these (`StoredAuthKey`).
enum SealedKeyColumn: Int32, Columns {
  case id, env, type, company, linkedCompanies, digest, scopes, allowedIPs, expiresAt, rateLimit, status, graceUntil
  case rotatedFrom, replacedBy, secretVersion, seal

  var sql: String {
    switch self {
    case .id: return "id"
    case .env: return "env"
    case .type: return "type"
    case .company: return "company"
    case .linkedCompanies: return "linked_companies"
    case .digest: return "digest"
    case .scopes: return "scopes"
    case .allowedIPs: return "allowed_ips"
    case .expiresAt: return "expires_at"
    case .rateLimit: return "rate_limit"
    case .status: return "status"
    case .graceUntil: return "grace_until"
    case .rotatedFrom: return "rotated_from"
    case .replacedBy: return "replaced_by"
    case .secretVersion: return "secret_version"
    case .seal: return "seal"
    }
  }
}

/// The `audit` columns, in the order `ivkeys audit` lists them.
enum AuditColumn: Int32, Columns {
  case seq, at, event, actor, osUser, keyID, company, ip, detail, prevHash, hash

  var sql: String {
    switch self {
    case .seq: return "seq"
    case .at: return "at"
    case .event: return "event"
    case .actor: return "actor"
    case .osUser: return "os_user"
    case .keyID: return "key_id"
    case .company: return "company"
    case .ip: return "ip"
    case .detail: return "detail"
    case .prevHash: return "prev_hash"
    case .hash: return "hash"
    }
  }

  /// The column holding a hashed field.
  init(_ field: AuditField) {
    switch field {
    case .at: self = .at
    case .event: self = .event
    case .actor: self = .actor
    case .osUser: self = .osUser
    case .keyID: self = .keyID
    case .company: self = .company
    case .ip: self = .ip
    case .detail: self = .detail
    }
  }
}

/// The `keys` columns a `KeyRecord` reads include every sealed one.
extension KeyColumn {
  /// The column of a `KeyColumn` row holding a sealed column.
  init(_ sealed: SealedKeyColumn) {
    switch sealed {
    case .id: self = .id
    case .env: self = .env
    case .type: self = .type
    case .company: self = .company
    case .linkedCompanies: self = .linkedCompanies
    case .digest: self = .digest
    case .scopes: self = .scopes
    case .allowedIPs: self = .allowedIPs
    case .expiresAt: self = .expiresAt
    case .rateLimit: self = .rateLimit
    case .status: self = .status
    case .graceUntil: self = .graceUntil
    case .rotatedFrom: self = .rotatedFrom
    case .replacedBy: self = .replacedBy
    case .secretVersion: self = .secretVersion
    case .seal: self = .seal
    }
  }
}
