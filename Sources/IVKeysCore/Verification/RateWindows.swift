/// The request counters a decision consumes, cached across groups and shared with other
/// processes through the store (written with every group): each rate-limited key's sliding
/// log (`RateLog`) and each usage-limited key's budget. A cache is dropped whenever another
/// process wrote (`Verifier`), so every process decides on the counts the vault holds.
struct RateWindows {
  private var logs: [String: (log: RateLog, dirty: Bool)] = [:]
  private var budgets: [String: (state: BudgetState?, dirty: Bool)] = [:]
  /// The ids whose entry is dirty, each once: saving visits these, not the whole cache.
  private var dirtyLogs: [String] = []
  private var dirtyBudgets: [String] = []

  mutating func removeAll() {
    logs.removeAll(keepingCapacity: true)
    budgets.removeAll(keepingCapacity: true)
    dirtyLogs.removeAll()
    dirtyBudgets.removeAll()
  }

  private mutating func setLog(_ id: String, _ log: RateLog) {
    if logs.updateValue((log, true), forKey: id)?.dirty != true { dirtyLogs.append(id) }
  }

  private mutating func log(_ id: String, _ limit: RateLimit, nowMs: Int64, store: any VaultStore)
    throws(IVKeysError) -> RateLog
  {
    if let cached = logs[id] { return cached.log }
    guard let bytes = try store.rateLog(keyID: id) else { return RateLog() }
    if let log = RateLog(encoded: bytes) { return log }
    // Bytes that are not a log: the key admits nothing for a window (fail closed), then heals.
    let full = RateLog.full(limit, now: nowMs)
    setLog(id, full)
    return full
  }

  /// Counts one request against the key's sliding window. Returns whether it passed and the
  /// window's state after it. A read error is thrown, never taken for an empty window.
  mutating func consume(_ id: String, _ limit: RateLimit, nowMs: Int64, store: any VaultStore)
    throws(IVKeysError) -> (allowed: Bool, state: RateLog.State)
  {
    var log = try log(id, limit, nowMs: nowMs, store: store)
    let result = log.consume(limit, now: nowMs)
    if result.allowed { setLog(id, log) } else if logs[id] == nil { logs[id] = (log, false) }
    return result
  }

  /// The window's state without counting a request (for a decision refused before it).
  mutating func peek(_ id: String, _ limit: RateLimit, nowMs: Int64, store: any VaultStore)
    throws(IVKeysError) -> RateLog.State
  {
    let log = try log(id, limit, nowMs: nowMs, store: store)
    if logs[id] == nil { logs[id] = (log, false) }
    return log.state(limit, now: nowMs)
  }

  /// The key's budget as of `now`, refills included.
  mutating func budget(_ id: String, _ budget: RequestBudget, now: Timestamp, store: any VaultStore)
    throws(IVKeysError) -> BudgetState
  {
    let stored: BudgetState?
    if let cached = budgets[id] {
      stored = cached.state
    } else {
      stored = try store.requestBudget(keyID: id)
      budgets[id] = (stored, false)
    }
    return budget.current(stored, now: now)
  }

  /// Spends one request of the key's budget (the caller checked one is left).
  mutating func spend(_ id: String, _ state: BudgetState) {
    var s = state
    s.remaining -= 1
    if budgets.updateValue((s, true), forKey: id)?.dirty != true { dirtyBudgets.append(id) }
  }

  /// Writes the counters changed since the last write, in the open transaction.
  /// The caches are emptied past this many keys, as the Verifier's key cache is.
  static let capacity = 100_000

  mutating func save(to store: any VaultStore) throws(IVKeysError) {
    for id in dirtyLogs {
      guard let log = logs[id]?.log else { continue }
      try store.saveRateLog(keyID: id, log.encoded)
      logs[id] = (log, false)
    }
    dirtyLogs.removeAll(keepingCapacity: true)
    for id in dirtyBudgets {
      guard let state = budgets[id]?.state else { continue }
      try store.saveRequestBudget(keyID: id, state)
      budgets[id] = (state, false)
    }
    dirtyBudgets.removeAll(keepingCapacity: true)
    if logs.count > Self.capacity { logs.removeAll(keepingCapacity: true) }
    if budgets.count > Self.capacity { budgets.removeAll(keepingCapacity: true) }
  }
}
