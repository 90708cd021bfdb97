#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The answer `verify` gives, as SPEC.md's decision table has it.
public enum DecisionCode: String, Sendable, CaseIterable {
  case ok
  case malformedKey = "malformed_key"
  case unknownKey = "unknown_key"
  case revoked, suspended, expired
  case wrongEnvironment = "wrong_environment"
  case wrongCompany = "wrong_company"
  case insufficientScope = "insufficient_scope"
  case ipNotAllowed = "ip_not_allowed"
  case rateLimited = "rate_limited"
  /// A `verify --batch` line that is not a request at all.
  case badRequest = "bad_request"

  /// The HTTP status InstaView's API answers with.
  public var httpStatus: Int {
    switch self {
    case .ok: return 200
    case .malformedKey, .unknownKey, .revoked, .suspended, .expired, .wrongEnvironment: return 401
    case .wrongCompany, .insufficientScope, .ipNotAllowed: return 403
    case .rateLimited: return 429
    case .badRequest: return 400
    }
  }

  /// The exit status of a single `verify`: 0, 10 (401), 11 (403), 12 (429); 2 for a bad request.
  public var exitCode: Int32 {
    switch httpStatus {
    case 200: return 0
    case 401: return 10
    case 403: return 11
    case 429: return 12
    default: return 2
    }
  }
}

/// One request to decide on.
public struct VerifyRequest: Sendable {
  /// What was presented: a bare key or an `Authorization: Bearer <key>` line. Never stored.
  public var presented: String
  public var company: String
  public var scope: String
  public var ip: IPAddress?
  public var endpoint: String?
  public var env: KeyEnvironment?

  public init(presented: String, company: String, scope: String, ip: IPAddress? = nil, endpoint: String? = nil,
              env: KeyEnvironment? = nil) {
    self.presented = presented
    self.company = company
    self.scope = scope
    self.ip = ip
    self.endpoint = endpoint
    self.env = env
  }
}

/// A decision: allowed or the reason it is not.
public struct Decision: Sendable, Equatable {
  public var code: DecisionCode
  public var message: String
  public var keyID: String?
  public var company: String?
  public var requiredScope: String?
  /// Whole seconds (at least 1) until the rate-limit window resets, for `rate_limited`.
  public var retryAfter: Int64?

  public var allowed: Bool { code == .ok }

  /// SPEC.md's decision object.
  public func writeJSON(to w: inout JSONWriter) {
    w.raw("{")
    w.key("allowed", first: true); if allowed { w.raw("true") } else { w.raw("false") }
    w.key("status"); w.int(Int64(code.httpStatus))
    w.key("code"); w.string(code.rawValue)
    w.key("message"); w.string(message)
    w.key("key_id"); w.optional(keyID)
    w.key("company"); w.optional(company)
    w.key("required_scope"); w.optional(requiredScope)
    w.key("retry_after"); if let r = retryAfter { w.int(r) } else { w.null() }
    w.raw("}")
  }

  /// A decision for a line that is not a request.
  public static func badRequest(_ message: String) -> Decision {
    Decision(code: .badRequest, message: message)
  }
}

/// What `verify` needs of a key, read once per transaction.
struct AuthKey {
  let id: String
  let env: KeyEnvironment
  let type: KeyType
  let company: String
  let links: [String]
  let scopes: [String]
  let ips: [IPRange]
  /// Whether every stored allowlist entry and the rate limit parsed; if not, the key admits
  /// nobody (an entry that cannot be read must not widen access).
  let settingsReadable: Bool
  let expiresAt: Timestamp?
  let rateLimit: RateLimit?
  let status: KeyStatus
  let graceUntil: Timestamp?
  let digest: [UInt8]
}

/// The presented credential: a bare key, `Bearer <key>` or a whole `Authorization:` line.
public enum PresentedKey {
  /// The key text, or why there is none. Surrounding whitespace is ignored; the header name and
  /// the scheme are case-insensitive (RFC 9110); any scheme but Bearer is refused.
  public enum Extraction: Equatable {
    case key(String)
    case invalid(String)
  }

  public static func extract(_ text: String) -> Extraction {
    var text = text
    return text.withUTF8 { extract(bytes: $0) }
  }

  /// The same over UTF-8 bytes: a gateway calls this once per request, so no Characters.
  static func extract(bytes b: UnsafeBufferPointer<UInt8>) -> Extraction {
    func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d }
    var lo = 0, hi = b.count
    func trim() {
      while lo < hi && isSpace(b[lo]) { lo += 1 }
      while hi > lo && isSpace(b[hi - 1]) { hi -= 1 }
    }
    func lowercased(_ r: Range<Int>) -> [UInt8] { b[r].map { $0 >= 0x41 && $0 <= 0x5a ? $0 + 0x20 : $0 } }
    func text(_ r: Range<Int>) -> String { Text.escapeControl(String(decoding: b[r].prefix(20), as: UTF8.self)) }
    trim()
    if lo == hi { return .invalid("no key was presented") }
    let bearer = Array("bearer".utf8)
    if let colon = b[lo..<hi].firstIndex(of: UInt8(ascii: ":")), lowercased(lo..<colon) == Array("authorization".utf8) {
      lo = colon + 1
      trim()
      guard lo < hi else { return .invalid("the Authorization header is empty") }
      guard let space = b[lo..<hi].firstIndex(where: isSpace) else {
        return .invalid("the Authorization header has no Bearer token")
      }
      guard lowercased(lo..<space) == bearer else {
        return .invalid("the Authorization scheme is \(text(lo..<space)), not Bearer")
      }
      lo = space
      trim()
    } else if let space = b[lo..<hi].firstIndex(where: isSpace) {
      if hi - lo >= 3 && b[lo] == UInt8(ascii: "s") && b[lo + 1] == UInt8(ascii: "k") && b[lo + 2] == UInt8(ascii: "_") {
        return .invalid("expected a single key")
      }
      guard lowercased(lo..<space) == bearer else {
        return .invalid("the Authorization scheme is \(text(lo..<space)), not Bearer")
      }
      lo = space
      trim()
    }
    if b[lo..<hi].contains(where: isSpace) { return .invalid("expected a single key") }
    return .key(String(decoding: b[lo..<hi], as: UTF8.self))
  }
}

/// Decides requests against the vault and records each decision: usage, rate-limit windows and
/// an `auth.succeeded` or `auth.failed` audit entry. Every decision of a group is taken inside
/// one IMMEDIATE transaction; nothing is reported until that transaction commits, so a decision
/// that could not be recorded is never given (fail closed).
public final class Verifier {
  let vault: Vault
  private var keys: [String: AuthKey] = [:]
  private var windows: [String: (start: Int64, count: Int64, dirty: Bool)] = [:]
  /// Usage counted in the group being decided.
  private var group: [String: KeyUsage] = [:]
  /// Usage of committed groups not yet written (batch mode only).
  private var pending: [String: KeyUsage] = [:]
  private var pendingSince: Int64 = 0
  private let batch: Bool
  /// The day of the group being decided, computed once per group.
  private var today = ""
  /// `PRAGMA data_version` when the caches were last valid: "different if changes were committed
  /// to the database by any other connection in the interim". Our own commits leave it alone,
  /// so keys and rate windows stay cached across groups until another process writes.
  private var dataVersion: Int64?

  struct EndpointKey: Hashable {
    let keyID: String
    let name: String
  }

  /// One key's counts: totals, by endpoint and by day.
  struct KeyUsage {
    var requests: Int64 = 0
    var errors: Int64 = 0
    var lastUsed: Timestamp?
    var endpoints: [String: (count: Int64, errors: Int64)] = [:]
    var days: [String: (count: Int64, errors: Int64)] = [:]

    mutating func merge(_ o: KeyUsage) {
      requests += o.requests
      errors += o.errors
      if let l = o.lastUsed { lastUsed = max(lastUsed ?? l, l) }
      for (k, v) in o.endpoints { endpoints[k, default: (0, 0)].count += v.count; endpoints[k, default: (0, 0)].errors += v.errors }
      for (k, v) in o.days { days[k, default: (0, 0)].count += v.count; days[k, default: (0, 0)].errors += v.errors }
    }
  }

  /// How long a batch keeps committed usage counts before writing them: the keys, endpoints and
  /// days a stream touches are few, so writing them once a second rather than once a group saves
  /// most of the random page writes. Decisions and their audit entries are still committed with
  /// their group; a process killed outright loses at most this much of usage statistics, which
  /// the audit log can rebuild.
  static let usageFlushMilliseconds: Int64 = 1000

  /// Prepares the vault's connection for decisions. Commits use `synchronous = NORMAL`: in WAL
  /// mode, SQLite: "a transaction committed in WAL mode with synchronous=NORMAL might roll back
  /// following a power loss or system crash", but never corrupts the database, and a crash of
  /// the process loses nothing. A per-request fsync would double the cost of a decision.
  ///
  /// A stream (`batch`) touches thousands of pages per group: keys, usage rows and the audit
  /// table. It gets a 64 MiB page cache and checkpoints when the WAL passes 64 MiB, so pages are
  /// neither re-read nor copied out after every group.
  public init(vault: Vault, batch: Bool = false) throws(IVKeysError) {
    self.vault = vault
    self.batch = batch
    try vault.db.execute("PRAGMA synchronous = NORMAL")
    if batch {
      // A group commits once for up to 5,000 decisions, so it can afford to sync: a decision a
      // stream has printed survives a power loss too.
      try vault.db.execute("PRAGMA synchronous = FULL; PRAGMA cache_size = -65536")
      vault.walCheckpointBytes = 64 << 20
    }
  }

  /// A request, or a line already found not to be one.
  public enum Item: Sendable {
    case request(VerifyRequest)
    case bad(Decision)
  }

  /// Decides every request in one transaction and returns the decisions in order, after COMMIT.
  public func decide(_ requests: [VerifyRequest]) throws(IVKeysError) -> [Decision] {
    try decide(requests.map { .request($0) })
  }

  /// The same with lines that were already found bad: those get their `bad_request` decision
  /// (and an audit entry) in place.
  public func decide(_ items: [Item]) throws(IVKeysError) -> [Decision] {
    let result: [Decision]
    var wrotePending = false
    do {
      result = try vault.write { () throws(IVKeysError) -> [Decision] in
        let version = try vault.db.scalarInt("PRAGMA data_version")
        if version != dataVersion {
          keys.removeAll(keepingCapacity: true)
          windows.removeAll(keepingCapacity: true)
          dataVersion = version
        }
        if batch, let due = pendingDue, due <= 0 {
          try write(pending)
          wrotePending = true
        }
        let decisions = try decideAll(items)
        if !batch { try write(group) }
        return decisions
      }
    } catch {
      // Whatever was cached or counted may describe a transaction that rolled back.
      dataVersion = nil
      group.removeAll(keepingCapacity: true)
      throw error
    }
    // Only now that the group committed: pending counts written in it are gone from memory,
    // and the group's own counts join the pending ones.
    if wrotePending { pending.removeAll(keepingCapacity: true) }
    if batch {
      if pending.isEmpty { pendingSince = Verifier.monotonicMilliseconds() }
      for (id, u) in group { pending[id, default: KeyUsage()].merge(u) }
    }
    group.removeAll(keepingCapacity: true)
    return result
  }

  /// Milliseconds until held usage counts are due to be written (0 or less: now); nil when
  /// nothing is held. A stream that goes quiet calls `finish` when this comes due.
  public var pendingDue: Int64? {
    pending.isEmpty ? nil : pendingSince + Verifier.usageFlushMilliseconds - Verifier.monotonicMilliseconds()
  }

  /// Writes usage still held in memory (batch mode): when due on a quiet stream, and at its end.
  public func finish() throws(IVKeysError) {
    guard !pending.isEmpty else { return }
    try vault.write { () throws(IVKeysError) in try write(pending) }
    pending.removeAll(keepingCapacity: true)
  }

  /// Milliseconds of a clock that never jumps, for group and flush deadlines.
  public static func monotonicMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
  }

  private func decideAll(_ items: [Item]) throws(IVKeysError) -> [Decision] {
    do {
      let now = vault.now()
      today = Time.day(now)
      var out = [Decision]()
      out.reserveCapacity(items.count)
      for item in items {
        switch item {
        case let .request(request): out.append(try decideOne(request, now: now))
        case let .bad(bad):
          try vault.record(AuditEntry(
            event: "auth.failed", keyID: nil, company: nil, ip: nil,
            detail: .object([("code", .string(bad.code.rawValue)), ("reason", .string(bad.message))])), at: now)
          out.append(bad)
        }
      }
      try writeRateWindows()
      return out
    }
  }

  // MARK: - One decision

  private func decideOne(_ r: VerifyRequest, now: Timestamp) throws(IVKeysError) -> Decision {
    var d = Decision(code: .ok, message: "allowed", keyID: nil, company: r.company, requiredScope: r.scope)
    var reason: String?
    var authenticated: AuthKey?
    decision: do {
      let text: String
      switch PresentedKey.extract(r.presented) {
      case let .key(t): text = t
      case let .invalid(why):
        d.code = .malformedKey
        d.message = why
        break decision
      }
      // Shape and checksum first: a mistyped or truncated key never reaches the vault.
      let key: APIKey
      switch APIKey.parse(text) {
      case let .success(k): key = k
      case let .failure(e):
        d.code = .malformedKey
        d.message = "malformed key: \(e)"
        break decision
      }
      d.keyID = key.id
      // The digest is computed before the lookup, so an unknown id and a known one take the
      // same work: timing does not tell which ids exist.
      let presentedDigest = vault.digest(key)
      guard let found = try lookup(key.id) else {
        d.code = .unknownKey
        d.message = "unknown key"
        reason = "no key with this id"
        break decision
      }
      // "CRYPTO_memcmp ... takes an amount of time dependent on len, but independent of the
      // contents of the memory regions pointed to by a and b."
      guard Crypto.constantTimeEqual(presentedDigest, found.digest) else {
        d.code = .unknownKey
        d.message = "unknown key"
        reason = "wrong secret for this id"
        break decision
      }
      authenticated = found
      if found.status == .revoked {
        d.code = .revoked
        d.message = "the key is revoked"
      } else if found.status == .suspended {
        d.code = .suspended
        d.message = "the key is suspended"
      } else if found.status == .rotating, let g = found.graceUntil, g <= now {
        d.code = .revoked
        d.message = "the key was rotated and its grace period ended"
      } else if found.status == .expired || (found.expiresAt.map { $0 <= now } ?? false) {
        d.code = .expired
        d.message = "the key expired"
      } else if let env = r.env, env != found.env {
        d.code = .wrongEnvironment
        d.message = "a \(found.env.rawValue) key cannot be used in \(env.rawValue)"
      } else if !(found.type == .regular ? found.company == r.company : found.links.contains(r.company)) {
        d.code = .wrongCompany
        d.message = "the key does not serve company \(r.company)"
      } else if !Scopes.grants(found.scopes, r.scope) {
        d.code = .insufficientScope
        d.message = "key lacks \(r.scope)"
      } else if !found.settingsReadable {
        d.code = .ipNotAllowed
        d.message = "the key's stored allowlist or rate limit cannot be read; the key admits no request"
        reason = "unreadable stored settings"
      } else if !found.ips.isEmpty && !(r.ip.map { ip in found.ips.contains { $0.contains(ip) } } ?? false) {
        d.code = .ipNotAllowed
        d.message = r.ip.map { "\($0) is not in the key's IP allowlist" } ?? "the key has an IP allowlist and no client address was given"
      } else if let limit = found.rateLimit, let retry = try consumeRate(found.id, limit, now: now) {
        d.code = .rateLimited
        d.message = "over the key's rate limit of \(limit)"
        d.retryAfter = retry
      }
    }
    if let k = authenticated { countUsage(k.id, d, endpoint: r.endpoint, now: now) }
    var detail: [(String, JSON)] = [("code", .string(d.code.rawValue)), ("scope", .string(r.scope))]
    detail.append(("endpoint", .optional(r.endpoint)))
    detail.append(("env", .optional(r.env?.rawValue)))
    if let reason { detail.append(("reason", .string(reason))) }
    if let retry = d.retryAfter { detail.append(("retry_after", .int(retry))) }
    try vault.record(AuditEntry(
      event: d.allowed ? "auth.succeeded" : "auth.failed", keyID: d.keyID, company: r.company,
      ip: r.ip?.description, detail: .object(detail)), at: now)
    return d
  }

  /// The key with this id, cached until another process writes. Misses are not cached (forged
  /// ids are free to make), and the cache is emptied at 100,000 keys.
  private func lookup(_ id: String) throws(IVKeysError) -> AuthKey? {
    if let cached = keys[id] { return cached }
    let found = try vault.db.statement(
      """
      SELECT env, type, company, linked_companies, scopes, allowed_ips, expires_at, rate_limit, status,
        grace_until, digest FROM keys WHERE id = ?
      """
    ).first([.text(id)]) { row -> AuthKey in
      let ipTexts = (try? JSON.parse(row.text(5)))?.stringArray
      let ips = (ipTexts ?? []).compactMap { try? IPRange.parse($0) }
      let limitText = row.optionalText(7)
      let limit = limitText.flatMap { try? RateLimit.parse($0) }
      let readable = ipTexts != nil && ips.count == ipTexts?.count && (limitText == nil) == (limit == nil)
      return AuthKey(
        id: id, env: KeyEnvironment(rawValue: row.text(0)) ?? .live, type: KeyType(rawValue: row.text(1)) ?? .regular,
        company: row.text(2), links: (try? JSON.parse(row.text(3)))?.stringArray ?? [],
        scopes: (try? JSON.parse(row.text(4)))?.stringArray ?? [], ips: ips, settingsReadable: readable,
        expiresAt: row.optionalInt(6), rateLimit: limit,
        status: KeyStatus(rawValue: row.text(8)) ?? .revoked, graceUntil: row.optionalInt(9), digest: row.blob(10))
    }
    guard let found else { return nil }
    if keys.count >= 100_000 { keys.removeAll(keepingCapacity: true) }
    keys[id] = found
    return found
  }

  // MARK: - Rate limits

  /// Counts one request against the key's fixed window (aligned to the window size: whole
  /// seconds, minutes or hours of UTC). Returns nil when it fits, else the seconds until the
  /// window ends (at least 1). Only requests that pass every other check count.
  private func consumeRate(_ id: String, _ limit: RateLimit, now: Timestamp) throws(IVKeysError) -> Int64? {
    let size = Int64(limit.window)
    let start = now - ((now % size) + size) % size
    var w: (start: Int64, count: Int64, dirty: Bool)
    if let cached = windows[id] {
      w = cached
    } else {
      w = try loadWindow(id) ?? (start, 0, false)
    }
    if w.start != start { w = (start, 0, true) }
    if w.count >= Int64(limit.count) {
      windows[id] = w
      return max(1, start + size - now)
    }
    w.count += 1
    w.dirty = true
    windows[id] = w
    return nil
  }

  /// The window another process (or an earlier run) left in the vault. A read error is thrown,
  /// never taken for an empty window.
  private func loadWindow(_ id: String) throws(IVKeysError) -> (start: Int64, count: Int64, dirty: Bool)? {
    let row = try vault.db.statement("SELECT window_start, count FROM rate_windows WHERE key_id = ?").first([.text(id)]) {
      row in (row.int(0), row.int(1))
    }
    guard let (s, c) = row else { return nil }
    return (s, c, false)
  }

  // MARK: - Usage

  private func countUsage(_ id: String, _ d: Decision, endpoint: String?, now: Timestamp) {
    let error: Int64 = d.allowed ? 0 : 1
    var u = group.removeValue(forKey: id) ?? KeyUsage()
    u.requests += 1
    u.errors += error
    if d.allowed { u.lastUsed = now }
    if let endpoint {
      u.endpoints[endpoint, default: (0, 0)].count += 1
      u.endpoints[endpoint, default: (0, 0)].errors += error
    }
    u.days[today, default: (0, 0)].count += 1
    u.days[today, default: (0, 0)].errors += error
    group[id] = u
  }

  /// Writes usage counts in the open transaction.
  private func write(_ usage: [String: KeyUsage]) throws(IVKeysError) {
    var endpoints = [(String, String, Int64, Int64)]()
    var days = [(String, String, Int64, Int64)]()
    for (id, u) in usage {
      for (e, c) in u.endpoints { endpoints.append((id, e, c.count, c.errors)) }
      for (d, c) in u.days { days.append((id, d, c.count, c.errors)) }
    }
    try Usage.add(vault.db, totals: usage.mapValues { ($0.requests, $0.errors, $0.lastUsed) }, endpoints: endpoints, days: days)
  }

  /// Rate windows are shared with other processes, so they are written with every group.
  private func writeRateWindows() throws(IVKeysError) {
    for (id, w) in windows where w.dirty {
      try vault.db.run(
        """
        INSERT INTO rate_windows (key_id, window_start, count) VALUES (?, ?, ?)
        ON CONFLICT (key_id) DO UPDATE SET window_start = excluded.window_start, count = excluded.count
        """, [.text(id), .int(w.start), .int(w.count)])
      windows[id] = (w.start, w.count, false)
    }
  }
}
