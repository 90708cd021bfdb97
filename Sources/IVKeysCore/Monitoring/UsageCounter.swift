/// Usage counted in memory before it is written: per key, its totals, its endpoints and its
/// days. `verify` counts decisions into one; `usage import` counts log lines.
struct UsageCounter {
  /// One key's counts.
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
      for (k, v) in o.endpoints {
        endpoints[k, default: (0, 0)].count += v.count
        endpoints[k, default: (0, 0)].errors += v.errors
      }
      for (k, v) in o.days {
        days[k, default: (0, 0)].count += v.count
        days[k, default: (0, 0)].errors += v.errors
      }
    }
  }

  private(set) var byKey: [String: KeyUsage] = [:]

  var isEmpty: Bool { byKey.isEmpty }

  /// Counts one request: an error or not, at an endpoint (when known), on a day. A request that
  /// is not an error is the key's last use.
  mutating func count(_ id: String, error: Bool, endpoint: String?, day: String, at: Timestamp) {
    let e: Int64 = error ? 1 : 0
    var u = byKey.removeValue(forKey: id) ?? KeyUsage()
    u.requests += 1
    u.errors += e
    if !error { u.lastUsed = max(u.lastUsed ?? at, at) }
    if let endpoint {
      u.endpoints[endpoint, default: (0, 0)].count += 1
      u.endpoints[endpoint, default: (0, 0)].errors += e
    }
    u.days[day, default: (0, 0)].count += 1
    u.days[day, default: (0, 0)].errors += e
    byKey[id] = u
  }

  /// Adds another counter's counts.
  mutating func merge(_ other: UsageCounter) {
    for (id, u) in other.byKey { byKey[id, default: KeyUsage()].merge(u) }
  }

  mutating func removeAll() { byKey.removeAll(keepingCapacity: true) }

  /// The counts as the store adds them.
  var counts: UsageCounts {
    var out = UsageCounts()
    for (id, u) in byKey {
      out.totals[id] = UsageCounts.Total(requests: u.requests, errors: u.errors, lastUsed: u.lastUsed)
      for (e, c) in u.endpoints { out.endpoints.append(.init(keyID: id, name: e, count: c.count, errors: c.errors)) }
      for (d, c) in u.days { out.days.append(.init(keyID: id, name: d, count: c.count, errors: c.errors)) }
    }
    return out
  }
}
