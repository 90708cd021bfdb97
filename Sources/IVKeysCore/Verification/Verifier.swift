import Glibc

/// Decides requests against the vault and records each decision: usage, rate-limit windows and
/// an `auth.succeeded` or `auth.failed` audit entry. Every decision of a group is taken inside
/// one IMMEDIATE transaction; nothing is reported until that transaction commits, so a decision
/// that could not be recorded is never given (fail closed).
public final class Verifier {
  let vault: Vault
  private var keys: [String: AuthKey] = [:]
  private var windows = RateWindows()
  /// Usage counted in the group being decided.
  private var group = UsageCounter()
  /// Usage of committed groups not yet written (batch mode only).
  private var held: HeldUsage
  private let batch: Bool
  /// Whether the caches may describe a transaction that rolled back.
  private var cachesStale = false
  /// The vault's `externalChangeEpoch` the caches were filled at.
  private var cacheEpoch = 0
  /// Ids of this group the vault was asked for together and does not hold (`prefetch`).
  private var groupMisses = Set<String>()

  /// Prepares the vault's store for decisions (`VaultStore.tuneForDecisions`): a stream
  /// (`batch`) also checkpoints only when the WAL passes 64 MiB, so pages are not copied out
  /// after every group. Deciding needs the secret: without it no digest can be compared.
  ///
  /// A stream holds committed usage counts (totals, endpoints, hourly buckets) in memory and
  /// writes them as `usage` paces it (`UsagePacing.stream` for `verify --batch`, `.serve` for
  /// `serve`): a while's groups touch each page of those tables once rather than once a group.
  /// Decisions and their audit entries are still committed with their group; the counts follow
  /// within the pacing's hold and spread, at the end of the stream and on SIGTERM, SIGINT and
  /// SIGHUP. A process killed outright loses at most that much of usage statistics; the audit
  /// entries keep every decision, its key, address and time.
  public init(vault: Vault, batch: Bool = false, usage: UsagePacing = .stream) throws(IVKeysError) {
    _ = try vault.requireSecret("verifying a key")
    self.vault = vault
    self.batch = batch
    self.held = HeldUsage(pacing: usage)
    self.cacheEpoch = vault.externalChangeEpoch
    try vault.store.tuneForDecisions(batch: batch)
    if batch { vault.walCheckpointBytes = 64 << 20 }
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
    var written: HeldUsage.Batch?
    do {
      result = try vault.write { () throws(IVKeysError) -> [Decision] in
        // Another process committed since the last group (`Vault.write` has checked the vault again
        // and followed a secret rotation), or the last group failed: nothing cached may be used.
        if vault.externalChangeEpoch != cacheEpoch || cachesStale {
          keys.removeAll(keepingCapacity: true)
          windows.removeAll()
          cachesStale = false
          cacheEpoch = vault.externalChangeEpoch
        }
        if batch, let due = held.toWrite(all: false, now: Verifier.monotonicMilliseconds()) {
          try vault.store.addUsage(due.usage.counts)
          written = due
        }
        let decisions = try decideAll(items)
        // A single decision's usage (totals, endpoint, its hour and address) is written with it.
        if !batch { try vault.store.addUsage(group.counts) }
        return decisions
      }
    } catch {
      // Whatever was cached or counted may describe a transaction that rolled back.
      cachesStale = true
      group.removeAll()
      keys.removeAll(keepingCapacity: true)
      if case .tampered = error { vault.recordTamper(error) }
      throw error
    }
    // Only now that the group committed: held counts written in it are gone from memory, and
    // the group's own counts are held.
    if let written { held.wrote(written) }
    if batch { held.add(group, now: Verifier.monotonicMilliseconds()) }
    group.removeAll()
    return result
  }

  /// Milliseconds until held usage counts are due to be written (0 or less: now); nil when
  /// nothing is held. A stream that goes quiet calls `finish` when this comes due.
  public var pendingDue: Int64? { held.due(now: Verifier.monotonicMilliseconds()) }

  /// Writes usage still held in memory (batch mode): when due on a quiet stream, and at its end.
  /// `all`: everything held; otherwise what is due, one slice of it when the pacing has slices
  /// (`pendingDue` then says when the next slice is).
  public func finish(all: Bool = true) throws(IVKeysError) {
    guard let due = held.toWrite(all: all, now: Verifier.monotonicMilliseconds()) else { return }
    try vault.write { () throws(IVKeysError) in try vault.store.addUsage(due.usage.counts) }
    held.wrote(due)
  }

  /// Nanoseconds of a clock that never jumps, for timing answers.
  public static func monotonicNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
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
      let nowMs = vault.nowMilliseconds()
      if vault.store.batchesLookups { try prefetch(items) }
      defer { groupMisses.removeAll() }
      var out = [Decision]()
      out.reserveCapacity(items.count)
      for item in items {
        switch item {
        case .request(let request): out.append(try decideOne(request, now: now, nowMs: nowMs))
        case .bad(let bad):
          try vault.record(
            AuditEntry(
              event: .authFailed, keyID: nil, company: nil, ip: nil,
              detail: .object([("code", .string(bad.code.rawValue)), ("reason", .string(bad.message))])), at: now)
          out.append(bad)
        }
      }
      try windows.save(to: vault.store)
      return out
    }
  }

  // MARK: - One decision

  private func decideOne(_ r: VerifyRequest, now: Timestamp, nowMs: Int64) throws(IVKeysError) -> Decision {
    var d = Decision(code: .ok, message: "allowed", keyID: nil, company: r.company, requiredScope: r.scope)
    // The address as the audit entry writes it, and as usage counts it (an IPv4-mapped address
    // as its IPv4 client): the same text unless mapped, made once.
    let ipText = r.ip?.description
    let ipCounted = r.ip.map { $0.isMapped ? $0.monitoringText : ipText ?? "" }
    var reason: String?
    switch try authenticate(r.presented, &d, &reason) {
    case let found?:
      try check(found, r, now: now, nowMs: nowMs, &d, &reason)
      group.count(
        found.id, error: !d.allowed, endpoint: r.endpoint, at: now, ip: ipCounted,
        refusedAddress: d.code == .ipNotAllowed)
    case nil:
      break
    }
    var detail: [(String, JSON)] = [("code", .string(d.code.rawValue)), ("scope", .string(r.scope))]
    detail.append(("endpoint", .optional(r.endpoint)))
    detail.append(("env", .string(r.env.rawValue)))
    if let reason { detail.append(("reason", .string(reason))) }
    if let retry = d.retryAfter { detail.append(("retry_after", .int(retry))) }
    try vault.record(
      AuditEntry(
        event: d.allowed ? .authSucceeded : .authFailed, keyID: d.keyID, company: r.company,
        ip: ipText, detail: .object(detail)), at: now)
    return d
  }

  /// The key the presented text is, or nil with `d` saying why not (malformed or unknown).
  private func authenticate(_ presented: String, _ d: inout Decision, _ reason: inout String?)
    throws(IVKeysError) -> AuthKey?
  {
    let text: String
    switch PresentedKey.extract(presented) {
    case .key(let t): text = t
    case .invalid(let why):
      d.code = .malformedKey
      d.message = why
      return nil
    }
    // Shape and checksum first: a mistyped or truncated key never reaches the vault.
    let key: APIKey
    switch APIKey.parse(text) {
    case .success(let k): key = k
    case .failure(let e):
      d.code = .malformedKey
      d.message = "malformed key: \(e)"
      return nil
    }
    d.keyID = key.id
    // The digest is computed before the lookup, so an unknown id and a known one take the
    // same work: timing does not tell which ids exist.
    let presentedDigest = vault.digest(key)
    guard let found = try lookup(key.id) else {
      d.code = .unknownKey
      d.message = "unknown key"
      reason = "no key with this id"
      return nil
    }
    // Nothing is decided on a row someone without the secret changed: the whole group fails
    // closed (and `decide` records what was found).
    guard found.sealIntact else { throw .tampered("key \(key.id)'s row does not match its seal") }
    // A key made under an older secret version is compared under that version, while the
    // secret file still holds it.
    var expectedDigest = presentedDigest
    if found.secretVersion != vault.secretVersion {
      guard let older = vault.digest(key, version: found.secretVersion) else {
        d.code = .unknownKey
        d.message = "unknown key"
        reason = "secret version \(found.secretVersion) is no longer in the secret file"
        return nil
      }
      expectedDigest = older
    }
    // "CRYPTO_memcmp ... takes an amount of time dependent on len, but independent of the
    // contents of the memory regions pointed to by a and b."
    guard Crypto.constantTimeEqual(expectedDigest, found.digest) else {
      d.code = .unknownKey
      d.message = "unknown key"
      reason = "wrong secret for this id"
      return nil
    }
    // The prefix is part of what the digest covers, so a row whose env differs from it was
    // changed outside ivkeys: the key is refused as unknown, and the audit entry says why.
    guard found.env == key.env else {
      d.code = .unknownKey
      d.message = "unknown key"
      reason = "the key's prefix names a different environment than its row"
      return nil
    }
    return found
  }

  /// SPEC's decision table for an authenticated key, in its order; the first refusal wins.
  private func check(
    _ found: AuthKey, _ r: VerifyRequest, now: Timestamp, nowMs: Int64, _ d: inout Decision, _ reason: inout String?
  ) throws(IVKeysError) {
    defer {
      // Every decision on a rate-limited key says where its window stands.
      if d.rateLimit == nil, let limit = found.rateLimit {
        d.rateLimit = try? windows.peek(found.id, limit, nowMs: nowMs, store: vault.store)
      }
    }
    switch found.effectiveStatus(now: now) {
    case .revoked:
      d.code = .revoked
      d.message =
        found.status != .revoked && found.graceUntil != nil
        ? "the key was rotated and its grace period ended" : "the key is revoked"
    case .suspended:
      d.code = .suspended
      d.message = "the key is suspended"
    case .expired:
      d.code = .expired
      d.message = "the key expired"
    case .active, .rotating:
      if found.env != r.env {
        d.code = .wrongEnvironment
        d.message = "\(found.env.map { "a \($0.rawValue) key" } ?? "the key") cannot be used in \(r.env.rawValue)"
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
        d.message =
          r.ip.map { "\($0) is not in the key's IP allowlist" }
          ?? "the key has an IP allowlist and no client address was given"
      } else {
        try limit(found, now: now, nowMs: nowMs, &d)
      }
    }
  }

  /// The last checks: the key's request budget, then its sliding rate window. A request spends
  /// budget and counts in the window only when it passes both.
  private func limit(_ found: AuthKey, now: Timestamp, nowMs: Int64, _ d: inout Decision) throws(IVKeysError) {
    var budgetLeft: BudgetState?
    if let budget = found.budget {
      let state = try windows.budget(found.id, budget, now: now, store: vault.store)
      guard state.remaining > 0 else {
        d.code = .usageExhausted
        d.message =
          "the key has used its budget of \(budget.max) requests"
          + (budget.refillPerDay.map { "; it refills by \($0) a day" } ?? "")
        d.retryAfter = budget.secondsToRefill(state, now: now)
        d.requestsRemaining = 0
        return
      }
      budgetLeft = state
    }
    if let limit = found.rateLimit {
      let (allowed, state) = try windows.consume(found.id, limit, nowMs: nowMs, store: vault.store)
      d.rateLimit = state
      guard allowed else {
        d.code = .rateLimited
        d.message = "over the key's rate limit of \(limit)"
        d.retryAfter = state.reset
        d.requestsRemaining = budgetLeft?.remaining
        return
      }
    }
    if let state = budgetLeft {
      windows.spend(found.id, state)
      d.requestsRemaining = state.remaining - 1
    }
  }

  /// Looks up the group's keys that are not cached in one request to the store, for an engine
  /// across a network (`VaultStore.batchesLookups`): one round trip a group, not one a key.
  private func prefetch(_ items: [Item]) throws(IVKeysError) {
    var ids = Set<String>()
    for case .request(let r) in items {
      guard case .key(let text) = PresentedKey.extract(r.presented), case .success(let key) = APIKey.parse(text),
        keys[key.id] == nil
      else { continue }
      ids.insert(key.id)
    }
    guard ids.count > 1 else { return }
    let found = try vault.store.authKeys(ids: ids)
    if keys.count + found.count >= 100_000 { keys.removeAll(keepingCapacity: true) }
    for (id, stored) in found { keys[id] = AuthKey(id: id, stored: stored) }
    groupMisses = ids.subtracting(found.keys)
  }

  /// The key with this id, cached until another process writes. Misses are not cached (forged
  /// ids are free to make), and the cache is emptied at 100,000 keys.
  private func lookup(_ id: String) throws(IVKeysError) -> AuthKey? {
    if let cached = keys[id] { return cached }
    if groupMisses.contains(id) { return nil }
    guard let stored = try vault.store.authKey(id: id) else { return nil }
    let found = AuthKey(id: id, stored: stored)
    if keys.count >= 100_000 { keys.removeAll(keepingCapacity: true) }
    keys[id] = found
    return found
  }
}
