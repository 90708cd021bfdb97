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
    _ = try requireSecret("checking the audit chain")
    return try store.read { () throws(IVKeysError) -> AuditVerification in
      var walk = ChainWalk(keys: chainKeys(), expectedHead: expectedHead)
      walk.checkpoints = try retiredCheckpoints()
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

extension Vault {
  /// The audit chain key of each secret version the file holds.
  func chainKeys() -> [Int: HMACKey] {
    var keys = [Int: HMACKey]()
    for v in secretFile?.versions ?? [] { keys[v.number] = v.auditKey }
    return keys
  }

  /// The checkpoints `secret retire` recorded, by the version whose entries each covers. Read
  /// only when a version was retired (the read scans the log).
  func retiredCheckpoints() throws(IVKeysError) -> [Int: ChainCheckpoint] {
    guard try store.schemaVersion() >= SQLiteSchema.sealedSince, try store.hasRetiredSecretVersion() else { return [:] }
    var out = [Int: ChainCheckpoint]()
    var filter = AuditFilter()
    filter.events = [AuditEvent.secretRetired.rawValue]
    try store.auditEntries(filter) { record in
      if let c = ChainCheckpoint(detail: record.detail) { out[c.version] = c }
    }
    return out
  }
}

/// What `secret retire` records before a version leaves the secret file: a keyless digest of the
/// entries that version chained, so the chain stays provable without its key (the checkpoint's
/// own entry is chained under a version still held).
struct ChainCheckpoint: Equatable {
  let version: Int
  let firstSeq: Int64
  let lastSeq: Int64
  /// SHA-256 folded over the entries: d = SHA-256(d ‖ prev_hash ‖ canonical encoding ‖ hash),
  /// starting from 32 zero bytes.
  let digest: String

  init(version: Int, firstSeq: Int64, lastSeq: Int64, digest: String) {
    self.version = version
    self.firstSeq = firstSeq
    self.lastSeq = lastSeq
    self.digest = digest
  }

  init?(detail: String) {
    guard let json = try? JSON.parse(detail), let v = json["version"]?.int64Value,
      let first = json["first_seq"]?.int64Value,
      let last = json["last_seq"]?.int64Value, let digest = json["sha256"]?.stringValue
    else { return nil }
    self.init(version: Int(v), firstSeq: first, lastSeq: last, digest: digest)
  }

  var detail: [(String, JSON)] {
    [
      ("version", .int(Int64(version))), ("first_seq", .int(firstSeq)), ("last_seq", .int(lastSeq)),
      ("entries", .int(lastSeq - firstSeq + 1)), ("sha256", .string(digest)),
    ]
  }

  /// One step of the fold.
  static func fold(_ digest: [UInt8], message: [UInt8], hash: UnsafeBufferPointer<UInt8>) -> [UInt8] {
    var bytes = digest
    bytes.append(contentsOf: message)
    bytes.append(contentsOf: hash)
    return Crypto.sha256(bytes)
  }
}

/// The state of a walk along the chain: where it is, and the first problem found.
struct ChainWalk {
  /// The chain key of each secret version at hand.
  let keys: [Int: HMACKey]
  /// Checkpoints covering versions whose keys are gone.
  var checkpoints: [Int: ChainCheckpoint] = [:]
  /// The version chaining the entries being walked: 1 until a `secret.rotated` entry.
  var version = 1
  /// Its chain key, when the file still holds it.
  var currentKey: HMACKey?
  /// The first entry of the current version, and the fold of its entries so far (kept when
  /// asked for, or when the version's key is gone).
  var versionStart: Int64 = 1
  var fold = [UInt8](repeating: 0, count: 32)
  /// Fold the entries of this version even though its key is at hand (`secret retire`).
  var foldVersion: Int?
  let expectedHead: (seq: Int64?, hash: String)?
  var expectedSeq: Int64 = 1
  var previous = Array(AuditChain.genesis.utf8)
  var message = [UInt8]()
  var count: Int64 = 0
  var head: (Int64, String)?
  var failure: (AuditVerification.Problem, Int64, String)?
  var sawExpected = false

  init(keys: [Int: HMACKey], expectedHead: (seq: Int64?, hash: String)?) {
    self.keys = keys
    self.currentKey = keys[1]
    self.expectedHead = expectedHead
    message.reserveCapacity(1024)
  }

  /// A `secret.rotated` entry starts the next version: the one its detail names.
  mutating func enterVersion(of entry: any StoredAuditEntry, seq: Int64) -> Bool {
    // Most entries are decisions: the length, then the first byte, rule them out cheaply.
    let rotated = entry.withField(.event) { bytes -> Bool in
      guard let bytes, bytes.count == Self.rotatedEvent.count, bytes.first == Self.rotatedEvent.first else {
        return false
      }
      return bytes.elementsEqual(Self.rotatedEvent)
    }
    guard rotated else { return true }
    let detail = entry.withField(.detail) { $0.map { String(decoding: $0, as: UTF8.self) } ?? "" }
    guard let next = (try? JSON.parse(detail))?["version"]?.int64Value, Int(next) > version else {
      failure = (.modified, seq, "entry \(seq) (secret.rotated) does not name a later secret version")
      return false
    }
    guard finishVersion(endingBefore: seq) else { return false }
    version = Int(next)
    currentKey = keys[version]
    versionStart = seq
    fold = [UInt8](repeating: 0, count: 32)
    return true
  }

  static let rotatedEvent = Array(AuditEvent.secretRotated.rawValue.utf8)

  /// At the end of a version whose key is gone, its checkpoint must cover exactly its entries.
  mutating func finishVersion(endingBefore seq: Int64) -> Bool {
    guard keys[version] == nil else { return true }
    guard let c = checkpoints[version] else {
      failure = (
        .modified, versionStart,
        "entries \(versionStart) to \(seq - 1) were chained with secret version \(version), which the secret file "
          + "no longer holds, and no secret.retired checkpoint covers them"
      )
      return false
    }
    guard c.firstSeq == versionStart, c.lastSeq == seq - 1, c.digest == Crypto.hex(fold) else {
      failure = (
        .modified, versionStart,
        "entries \(versionStart) to \(seq - 1) (secret version \(version), retired) do not match the checkpoint recorded "
          + "when it was retired"
      )
      return false
    }
    return true
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
    guard enterVersion(of: entry, seq: seq) else { return }
    // The MAC over the stored prev_hash and the canonical encoding, straight from the stored bytes.
    let prevMatches = entry.withPrevHash { $0.elementsEqual(previous) }
    message.removeAll(keepingCapacity: true)
    entry.withPrevHash { stored in AuditChain.message(prevHash: stored, entry: entry, into: &message) }
    let expectedHex: [UInt8]
    if let key = currentKey {
      // The stored text must be exactly the lowercase hex of the MAC, as SPEC writes hashes.
      expectedHex = Array(Crypto.hex(key.mac(message)).utf8)
      guard entry.withHash({ $0.elementsEqual(expectedHex) }) else {
        failure = (.modified, seq, "entry \(seq) does not match its hash: it was edited, or moved from another place")
        return
      }
      if foldVersion == version { fold = entry.withHash { ChainCheckpoint.fold(fold, message: message, hash: $0) } }
    } else {
      // A retired version's entries: the checkpoint proves them (`finishVersion`).
      expectedHex = entry.withHash { Array($0) }
      fold = entry.withHash { ChainCheckpoint.fold(fold, message: message, hash: $0) }
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
    if failure == nil, count > 0 { _ = finishVersion(endingBefore: expectedSeq) }
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
