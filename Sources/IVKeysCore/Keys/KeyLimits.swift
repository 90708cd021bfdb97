extension Vault {
  /// Requests left in a usage-limited key's budget as of now, refills included; nil for a key
  /// without a budget (or whose stored limits cannot be read).
  public func requestsRemaining(_ k: KeyRecord) throws(IVKeysError) -> Int64? {
    guard let budget = k.limits?.budget else { return nil }
    let state = try store.read { () throws(IVKeysError) in try store.requestBudget(keyID: k.id) }
    return budget.current(state, now: now()).remaining
  }
}
