/// One event to record.
public struct AuditEntry: Sendable {
  public var event: AuditEvent
  public var keyID: String?
  public var company: String?
  public var ip: String?
  /// The detail object, encoded.
  public var detail: String

  public init(
    event: AuditEvent, keyID: String? = nil, company: String? = nil, ip: String? = nil, detail: JSON = .object([])
  ) {
    self.init(event: event, keyID: keyID, company: company, ip: ip, encodedDetail: detail.encoded)
  }

  /// An entry whose detail is already encoded, for batches that share one.
  public init(event: AuditEvent, keyID: String?, company: String?, ip: String?, encodedDetail: String) {
    self.event = event
    self.keyID = keyID
    self.company = company
    self.ip = ip
    self.detail = encodedDetail
  }
}

/// A stored audit entry, as `ivkeys audit` lists it.
public struct AuditRecord: Sendable {
  public let seq: Int64
  public let at: String
  public let event: String
  public let actor: String
  public let osUser: String
  public let keyID: String?
  public let company: String?
  public let ip: String?
  /// The detail object as stored (compact JSON).
  public let detail: String
  public let prevHash: String
  public let hash: String
}

/// The writer of the append-only, hash-chained audit log: it keeps the chain's tail and appends
/// entries after it, hashed by `AuditChain` (where the rule is written down).
final class AuditLog {
  let store: any VaultStore
  var key: HMACKey
  private var lastSeq: Int64 = 0
  private var lastHash = AuditChain.genesis
  private var lastAt: (Timestamp, String) = (-1, "")
  /// The bytes hashed for the next entry (previous hash, then canonical encoding), reused.
  private var message = [UInt8]()

  init(store: any VaultStore, key: HMACKey) {
    self.store = store
    self.key = key
  }

  /// Reads the chain's tail; called at the start of each write transaction.
  func loadTail() throws(IVKeysError) {
    let tail = try store.auditTail()
    lastSeq = tail?.seq ?? 0
    lastHash = tail?.hash ?? AuditChain.genesis
  }

  /// Appends one entry after the loaded tail.
  func append(_ entry: AuditEntry, actor: Actor, at: Timestamp) throws(IVKeysError) {
    if lastAt.0 != at { lastAt = (at, Time.rfc3339(at)) }
    var row = AuditRow(
      seq: lastSeq + 1, at: lastAt.1, event: entry.event.rawValue, actor: actor.actor, osUser: actor.osUser,
      keyID: entry.keyID, company: entry.company, ip: entry.ip, detail: entry.detail, prevHash: lastHash, hash: "")
    row.hash = AuditChain.hash(key: key, prevHash: lastHash.utf8, entry: row, buffer: &message)
    try store.appendAudit(row)
    lastSeq = row.seq
    lastHash = row.hash
  }
}
