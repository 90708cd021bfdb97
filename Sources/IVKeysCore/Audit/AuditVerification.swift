/// What `audit verify` found.
public struct AuditVerification: Sendable {
  /// Why the chain is broken, at the first bad entry.
  public enum Problem: String, Sendable {
    /// An entry's contents do not match its hash: edited, or moved to another place.
    case modified
    /// Sequence numbers jump: entries were deleted.
    case missing
    /// An entry does not follow the one before it: inserted, reordered, or the one before was removed.
    case broken
    /// The log ends before the head kept elsewhere: entries were cut off the end.
    case truncated
    /// The expected head's sequence number is in the log with another hash.
    case headMismatch = "head_mismatch"
  }

  /// Entries checked.
  public let entries: Int64
  /// The last entry: its seq and hash.
  public let head: (seq: Int64, hash: String)?
  /// The first problem, or nil when the chain is intact.
  public let problem: Problem?
  /// The first bad seq.
  public let badSeq: Int64?
  public let message: String

  public var intact: Bool { problem == nil }
}

extension Vault {
  /// The last entry's seq and hash.
  public func auditHead() throws(IVKeysError) -> (seq: Int64, hash: String)? {
    try db.statement("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").first { row in (row.int(0), row.text(1)) }
  }

  /// Walks the audit chain in one read snapshot, recomputing every entry's HMAC, and reports the
  /// first entry that was changed, removed, inserted or moved. With `expectedHead` (a hash kept
  /// elsewhere, and its seq when known) it also reports a log that was cut off before it.
  ///
  /// What this proves: without the server secret nobody can change, remove, insert or reorder
  /// entries, or append forged ones, without this walk noticing. What it cannot prove alone: that
  /// entries were not cut off the end (that needs a head kept elsewhere), or that someone holding
  /// the secret did not rewrite the whole chain.
  public func verifyAudit(expectedHead: (seq: Int64?, hash: String)? = nil, progress: ((Int64, Int64) -> Void)? = nil)
    throws(IVKeysError) -> AuditVerification
  {
    try db.readTransaction { () throws(IVKeysError) -> AuditVerification in
      let total = try db.scalarInt("SELECT count(*) FROM audit") ?? 0
      let key = audit.key
      var expectedSeq: Int64 = 1
      var previous = Array(AuditLog.genesis.utf8)
      var message = [UInt8]()
      message.reserveCapacity(1024)
      var count: Int64 = 0
      var head: (Int64, String)?
      var failure: (AuditVerification.Problem, Int64, String)?
      var sawExpected = false
      let statement = try db.statement(
        "SELECT seq, at, event, actor, os_user, key_id, company, ip, detail, prev_hash, hash FROM audit ORDER BY seq")
      try statement.bind([])
      defer { statement.reset() }
      while failure == nil, try statement.step() {
        let row = Row(handle: statement.handle)
        let seq = row.int(0)
        count += 1
        if seq < expectedSeq {
          failure = (.broken, seq, "entry \(seq) is out of order: the log was rebuilt or an entry was inserted before the first")
          break
        }
        if seq != expectedSeq {
          failure = (.missing, expectedSeq, seq == expectedSeq + 1
            ? "entry \(expectedSeq) is missing (deleted)"
            : "entries \(expectedSeq) to \(seq - 1) are missing (deleted)")
          break
        }
        if seq == 1, !row.withText(2, { $0.elementsEqual("vault.initialized".utf8) }) {
          failure = (.broken, 1, "entry 1 is not vault.initialized: the log does not start where a vault's log starts")
          break
        }
        // The canonical encoding, straight from SQLite's column bytes (AuditLog.canonical).
        message.removeAll(keepingCapacity: true)
        let prevMatches = row.withText(9) { stored in stored.elementsEqual(previous) }
        message.append(contentsOf: row.withText(9) { Array($0) })
        func field(_ i: Int32) {
          if row.isNull(i) { message.append(0); return }
          row.withText(i) { bytes in
            let n = UInt32(bytes.count)
            message.append(1)
            message.append(UInt8(n >> 24)); message.append(UInt8(truncatingIfNeeded: n >> 16))
            message.append(UInt8(truncatingIfNeeded: n >> 8)); message.append(UInt8(truncatingIfNeeded: n))
            message.append(contentsOf: bytes)
          }
        }
        let seqText = Array(String(seq).utf8)
        message.append(1)
        message.append(contentsOf: [0, 0, 0, UInt8(seqText.count)])
        message.append(contentsOf: seqText)
        for i: Int32 in 1...8 { field(i) }
        let mac = key.mac(message)
        // The stored text must be exactly the lowercase hex of the MAC, as SPEC writes hashes.
        let expectedHex = Array(Crypto.hex(mac).utf8)
        let hashMatches = row.withText(10) { stored in stored.elementsEqual(expectedHex) }
        if !hashMatches {
          failure = (.modified, seq, "entry \(seq) does not match its hash: it was edited, or moved from another place")
          break
        }
        if !prevMatches {
          failure = (.broken, seq, "entry \(seq) does not follow entry \(seq - 1): entries were inserted, reordered or removed before it")
          break
        }
        previous = row.withText(10) { Array($0) }
        if let e = expectedHead, Array(e.hash.utf8) == previous, e.seq == nil || e.seq == seq { sawExpected = true }
        if let e = expectedHead, let s = e.seq, s == seq, Array(e.hash.utf8) != previous {
          failure = (.headMismatch, seq, "entry \(seq) is not the expected head: its hash differs from the one kept")
          break
        }
        head = (seq, String(decoding: previous, as: UTF8.self))
        expectedSeq += 1
        if let progress, count % 100_000 == 0 { progress(count, total) }
      }
      if failure == nil, count == 0 {
        failure = (.missing, 1, "the audit log is empty: every vault's log starts with vault.initialized")
      }
      if failure == nil, let e = expectedHead, !sawExpected {
        let last = head?.0 ?? 0
        if let s = e.seq, s > last {
          failure = (.truncated, last + 1, "the log ends at entry \(last), before the expected head \(s): entries were cut off")
        } else {
          failure = (.truncated, last + 1,
            "no entry has the expected head hash: entries were cut off, the log was rewritten by someone holding the secret, or the head is from another vault")
        }
      }
      if let (problem, bad, text) = failure {
        return AuditVerification(entries: count, head: head, problem: problem, badSeq: bad, message: text)
      }
      return AuditVerification(
        entries: count, head: head, problem: nil, badSeq: nil,
        message: "the audit chain is intact: \(count) entries, head \(head.map { "\($0.0) \($0.1)" } ?? "none")")
    }
  }
}
