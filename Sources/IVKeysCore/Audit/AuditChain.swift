/// One field of an audit entry, in the order the canonical encoding hashes them (after `seq`).
public enum AuditField: Int, CaseIterable, Sendable {
  case at, event, actor, osUser, keyID, company, ip, detail
}

/// An audit entry's fields as UTF-8 bytes: a row about to be written, or one read back.
public protocol AuditFields {
  /// The entry's sequence number.
  var seq: Int64 { get }
  /// Calls `body` with the field's UTF-8 bytes, or nil when the field is absent (NULL).
  func withField<R>(_ field: AuditField, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R
}

/// An entry as the store holds it: its fields, and the hashes stored with it.
public protocol StoredAuditEntry: AuditFields {
  /// Calls `body` with the stored `prev_hash` text.
  func withPrevHash<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R
  /// Calls `body` with the stored `hash` text.
  func withHash<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R
}

/// The audit chain's one rule, shared by the writer (`AuditLog`) and the verifier
/// (`Vault.verifyAudit`).
///
/// Each entry's `hash` is HMAC-SHA256, keyed by the audit key (HMAC-SHA256 of the server secret
/// over "ivkeys audit chain v1"), over the previous entry's hash (64 lowercase hex digits; 64
/// zeros for the first) followed by the entry's canonical encoding: for each of `seq`, `at`,
/// `event`, `actor`, `os_user`, `key_id`, `company`, `ip`, `detail` in that order, one byte 0
/// (null) or 1 (present), then for a present field its UTF-8 length as 4 bytes big-endian and
/// its UTF-8 bytes (`seq` as decimal text). The stored hash is the MAC in lowercase hex. Someone
/// who can write the vault but lacks the secret cannot produce a valid chain.
public enum AuditChain {
  /// The previous hash of the first entry.
  public static let genesis = String(repeating: "0", count: 64)

  /// Appends the message the MAC covers to `out`: `prevHash`, then the canonical encoding.
  public static func message(prevHash: some Sequence<UInt8>, entry: some AuditFields, into out: inout [UInt8]) {
    out.append(contentsOf: prevHash)
    var seq = String(entry.seq)
    seq.withUTF8 { append(field: $0, to: &out) }
    for field in AuditField.allCases {
      entry.withField(field) { append(field: $0, to: &out) }
    }
  }

  /// The hash of an entry after `prevHash`, as stored: lowercase hex.
  public static func hash(key: HMACKey, prevHash: some Sequence<UInt8>, entry: some AuditFields) -> String {
    var message = [UInt8]()
    message.reserveCapacity(512)
    return hash(key: key, prevHash: prevHash, entry: entry, buffer: &message)
  }

  /// The same, building the message in `buffer` (emptied first, its capacity kept): a writer
  /// appending thousands of entries reuses one array instead of allocating one per entry.
  public static func hash(key: HMACKey, prevHash: some Sequence<UInt8>, entry: some AuditFields, buffer: inout [UInt8])
    -> String
  {
    buffer.removeAll(keepingCapacity: true)
    message(prevHash: prevHash, entry: entry, into: &buffer)
    return Crypto.hex(key.mac(buffer))
  }

  /// One field of the canonical encoding: 0 for absent, else 1, its length (4 bytes, big-endian)
  /// and its bytes.
  static func append(field bytes: UnsafeBufferPointer<UInt8>?, to out: inout [UInt8]) {
    guard let bytes else {
      out.append(0)
      return
    }
    let n = UInt32(bytes.count)
    out.append(1)
    out.append(UInt8(n >> 24))
    out.append(UInt8(truncatingIfNeeded: n >> 16))
    out.append(UInt8(truncatingIfNeeded: n >> 8))
    out.append(UInt8(truncatingIfNeeded: n))
    out.append(contentsOf: bytes)
  }
}

/// An audit entry as written: every column of the row.
public struct AuditRow: Sendable, AuditFields {
  public var seq: Int64
  public var at: String
  public var event: String
  public var actor: String
  public var osUser: String
  public var keyID: String?
  public var company: String?
  public var ip: String?
  /// The detail object, encoded (compact JSON).
  public var detail: String
  public var prevHash: String
  public var hash: String

  public func withField<R>(_ field: AuditField, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
    var text: String?
    switch field {
    case .at: text = at
    case .event: text = event
    case .actor: text = actor
    case .osUser: text = osUser
    case .keyID: text = keyID
    case .company: text = company
    case .ip: text = ip
    case .detail: text = detail
    }
    guard var s = text else { return body(nil) }
    return s.withUTF8 { body($0) }
  }
}
