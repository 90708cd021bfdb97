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
  public func auditHead() throws(IVKeysError) -> (seq: Int64, hash: String)? { try store.auditTail() }

  /// Walks the audit chain in one read snapshot, recomputing every entry's HMAC (`AuditChain`),
  /// and reports the first entry that was changed, removed, inserted or moved. With
  /// `expectedHead` (a hash kept elsewhere, and its seq when known) it also reports a log that
  /// was cut off before it.
  ///
  /// What this proves: without the server secret nobody can change, remove, insert or reorder
  /// entries, or append forged ones, without this walk noticing. What it cannot prove alone: that
  /// entries were not cut off the end (that needs a head kept elsewhere), or that someone holding
  /// the secret did not rewrite the whole chain. Without the secret it cannot run at all.
  public func verifyAudit(expectedHead: (seq: Int64?, hash: String)? = nil, progress: ((Int64, Int64) -> Void)? = nil)
    throws(IVKeysError) -> AuditVerification
  {
    let key = try requireSecret("checking the audit chain").auditKey
    return try store.read { () throws(IVKeysError) -> AuditVerification in
      var walk = ChainWalk(key: key, expectedHead: expectedHead)
      let total = try store.auditCount()
      try store.walkAudit { entry in
        walk.check(entry)
        if let progress, walk.count % 100_000 == 0 { progress(walk.count, total) }
        return walk.failure == nil
      }
      return walk.result()
    }
  }
}

/// The state of a walk along the chain: where it is, and the first problem found.
struct ChainWalk {
  let key: HMACKey
  let expectedHead: (seq: Int64?, hash: String)?
  var expectedSeq: Int64 = 1
  var previous = Array(AuditChain.genesis.utf8)
  var message = [UInt8]()
  var count: Int64 = 0
  var head: (Int64, String)?
  var failure: (AuditVerification.Problem, Int64, String)?
  var sawExpected = false

  init(key: HMACKey, expectedHead: (seq: Int64?, hash: String)?) {
    self.key = key
    self.expectedHead = expectedHead
    message.reserveCapacity(1024)
  }

  /// Checks the next entry; sets `failure` at the first problem.
  mutating func check(_ entry: any StoredAuditEntry) {
    let seq = entry.seq
    count += 1
    if seq < expectedSeq {
      failure = (
        .broken, seq, "entry \(seq) is out of order: the log was rebuilt or an entry was inserted before the first"
      )
      return
    }
    if seq != expectedSeq {
      failure = (
        .missing, expectedSeq,
        seq == expectedSeq + 1
          ? "entry \(expectedSeq) is missing (deleted)" : "entries \(expectedSeq) to \(seq - 1) are missing (deleted)"
      )
      return
    }
    if seq == 1,
      !entry.withField(.event, { $0.map { $0.elementsEqual(AuditEvent.vaultInitialized.rawValue.utf8) } ?? false })
    {
      failure = (.broken, 1, "entry 1 is not vault.initialized: the log does not start where a vault's log starts")
      return
    }
    // The MAC over the stored prev_hash and the canonical encoding, straight from the stored bytes.
    let prevMatches = entry.withPrevHash { $0.elementsEqual(previous) }
    message.removeAll(keepingCapacity: true)
    entry.withPrevHash { stored in AuditChain.message(prevHash: stored, entry: entry, into: &message) }
    // The stored text must be exactly the lowercase hex of the MAC, as SPEC writes hashes.
    let expectedHex = Array(Crypto.hex(key.mac(message)).utf8)
    guard entry.withHash({ $0.elementsEqual(expectedHex) }) else {
      failure = (.modified, seq, "entry \(seq) does not match its hash: it was edited, or moved from another place")
      return
    }
    guard prevMatches else {
      failure = (
        .broken, seq,
        "entry \(seq) does not follow entry \(seq - 1): entries were inserted, reordered or removed before it"
      )
      return
    }
    previous = expectedHex
    if let e = expectedHead, Array(e.hash.utf8) == previous, e.seq == nil || e.seq == seq { sawExpected = true }
    if let e = expectedHead, let s = e.seq, s == seq, Array(e.hash.utf8) != previous {
      failure = (.headMismatch, seq, "entry \(seq) is not the expected head: its hash differs from the one kept")
      return
    }
    head = (seq, String(decoding: previous, as: UTF8.self))
    expectedSeq += 1
  }

  /// What the walk found, once every entry was checked (or the first problem).
  mutating func result() -> AuditVerification {
    if failure == nil, count == 0 {
      failure = (.missing, 1, "the audit log is empty: every vault's log starts with vault.initialized")
    }
    if failure == nil, let e = expectedHead, !sawExpected {
      let last = head?.0 ?? 0
      if let s = e.seq, s > last {
        failure = (
          .truncated, last + 1, "the log ends at entry \(last), before the expected head \(s): entries were cut off"
        )
      } else {
        failure = (
          .truncated, last + 1,
          "no entry has the expected head hash: entries were cut off, the log was rewritten by someone holding the "
            + "secret, or the head is from another vault"
        )
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
