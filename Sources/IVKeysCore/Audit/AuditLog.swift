/// One event to record.
public struct AuditEntry: Sendable {
  public var event: String
  public var keyID: String?
  public var company: String?
  public var ip: String?
  /// The detail object, encoded.
  public var detail: String

  public init(event: String, keyID: String? = nil, company: String? = nil, ip: String? = nil, detail: JSON = .object([])) {
    self.init(event: event, keyID: keyID, company: company, ip: ip, encodedDetail: detail.encoded)
  }

  /// An entry whose detail is already encoded, for batches that share one.
  public init(event: String, keyID: String?, company: String?, ip: String?, encodedDetail: String) {
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

extension AuditRecord {
  /// The entry as a JSON object; `detail` is nested as the object it is.
  public func writeJSON(to w: inout JSONWriter) {
    w.raw("{")
    w.key("seq", first: true); w.int(seq)
    w.key("at"); w.string(at)
    w.key("event"); w.string(event)
    w.key("actor"); w.string(actor)
    w.key("os_user"); w.string(osUser)
    w.key("key_id"); w.optional(keyID)
    w.key("company"); w.optional(company)
    w.key("ip"); w.optional(ip)
    w.key("detail"); w.rawText(detail)
    w.key("prev_hash"); w.string(prevHash)
    w.key("hash"); w.string(hash)
    w.raw("}")
  }
}

extension AuditRecord {
  /// The CSV header row (RFC 4180).
  public static let csvHeader = "seq,at,event,actor,os_user,key_id,company,ip,detail,prev_hash,hash"

  /// The entry as one RFC 4180 record with its CRLF: fields holding a comma, a quote, CR or LF
  /// are quoted, quotes doubled; an absent value is an empty field.
  public func writeCSV(to out: inout [UInt8]) {
    func field(_ s: String?, last: Bool = false) {
      if let s {
        let needsQuotes = s.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0a || $0 == 0x0d }
        if needsQuotes {
          out.append(UInt8(ascii: "\""))
          for b in s.utf8 {
            if b == UInt8(ascii: "\"") { out.append(b) }
            out.append(b)
          }
          out.append(UInt8(ascii: "\""))
        } else {
          out.append(contentsOf: s.utf8)
        }
      }
      if last { out.append(0x0d); out.append(0x0a) } else { out.append(UInt8(ascii: ",")) }
    }
    field(String(seq)); field(at); field(event); field(actor); field(osUser); field(keyID); field(company); field(ip)
    field(detail); field(prevHash); field(hash, last: true)
  }
}

/// The append-only, hash-chained audit table.
///
/// Each entry's `hash` is HMAC-SHA256, keyed by a key derived from the server secret, over the
/// previous entry's hash (64 lowercase hex digits; 64 zeros for the first) followed by the
/// entry's canonical encoding: for each of `seq`, `at`, `event`, `actor`, `os_user`, `key_id`,
/// `company`, `ip`, `detail` in that order, one byte 0 (null) or 1 (present), then for a present
/// field its UTF-8 length as 4 bytes big-endian and its UTF-8 bytes. Someone who can write the
/// vault but lacks the secret cannot produce a valid chain.
final class AuditLog {
  static let genesis = String(repeating: "0", count: 64)
  let db: Database
  let key: HMACKey
  private var lastSeq: Int64 = 0
  private var lastHash = AuditLog.genesis
  private var lastAt: (Timestamp, String) = (-1, "")
  /// The prepared INSERT, kept at hand: bulk create and verify append thousands of entries.
  private var insert: Statement?

  init(db: Database, key: HMACKey) {
    self.db = db
    self.key = key
  }

  /// Reads the chain's tail; called at the start of each write transaction.
  func loadTail() throws(IVKeysError) {
    let tail = try db.statement("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").first { row in
      (row.int(0), row.text(1))
    }
    lastSeq = tail?.0 ?? 0
    lastHash = tail?.1 ?? AuditLog.genesis
  }

  /// The canonical encoding of an entry, as hashed.
  static func canonical(seq: Int64, at: String, event: String, actor: String, osUser: String,
                        keyID: String?, company: String?, ip: String?, detail: String) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(256)
    func field(_ s: String?) {
      guard let s else { out.append(0); return }
      out.append(1)
      let n = UInt32(s.utf8.count)
      out.append(UInt8(n >> 24)); out.append(UInt8(truncatingIfNeeded: n >> 16))
      out.append(UInt8(truncatingIfNeeded: n >> 8)); out.append(UInt8(truncatingIfNeeded: n))
      out.append(contentsOf: s.utf8)
    }
    field(String(seq)); field(at); field(event); field(actor); field(osUser)
    field(keyID); field(company); field(ip); field(detail)
    return out
  }

  /// The hash of an entry given its predecessor's hash.
  static func hash(key: HMACKey, prevHash: String, canonical: [UInt8]) -> String {
    var message = Array(prevHash.utf8)
    message.append(contentsOf: canonical)
    return Crypto.hex(key.mac(message))
  }

  /// Appends one entry after the loaded tail.
  func append(_ entry: AuditEntry, actor: Actor, at: Timestamp) throws(IVKeysError) {
    let seq = lastSeq + 1
    if lastAt.0 != at { lastAt = (at, Time.rfc3339(at)) }
    let atText = lastAt.1
    let detail = entry.detail
    let bytes = AuditLog.canonical(seq: seq, at: atText, event: entry.event, actor: actor.actor, osUser: actor.osUser,
                                   keyID: entry.keyID, company: entry.company, ip: entry.ip, detail: detail)
    let hash = AuditLog.hash(key: key, prevHash: lastHash, canonical: bytes)
    if insert == nil {
      insert = try db.statement(
        """
        INSERT INTO audit (seq, at, event, actor, os_user, key_id, company, ip, detail, prev_hash, hash)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    }
    try insert!.run(
      [.int(seq), .text(atText), .text(entry.event), .text(actor.actor), .text(actor.osUser),
       .optional(entry.keyID), .optional(entry.company), .optional(entry.ip), .text(detail),
       .text(lastHash), .text(hash)])
    lastSeq = seq
    lastHash = hash
  }
}
