/// Usage counted in memory before it is written: per key, its totals, its endpoints and its
/// buckets (requests per clock hour and client address, what the alert rules read). `verify`
/// counts decisions into one; `usage import` counts log lines.
///
/// Everything hangs off the key's entry, so a decision hashes its key id and nothing else while
/// a key has few buckets (a single `verify` has one; a stream's group a handful a key). A key
/// with many gets an index by hour and address. A single `verify` process never instantiates
/// that index's type: each new hashed type costs a process a scan of the conformance records.
struct UsageCounter {
  /// One key's requests from one address ("" for none) in one clock hour.
  struct Bucket {
    var hour: Int64
    var ip: String
    var first: Timestamp
    var last: Timestamp
    var requests: Int64 = 0
    var errors: Int64 = 0
    var denied: Int64 = 0
    var refused: Int64 = 0

    mutating func add(_ o: Bucket) {
      first = min(first, o.first)
      last = max(last, o.last)
      requests += o.requests
      errors += o.errors
      denied += o.denied
      refused += o.refused
    }
  }

  /// What finds one of a key's buckets once it has many.
  struct HourAddress: Hashable {
    var hour: Int64
    var ip: String
  }

  /// One key's counts.
  struct KeyUsage {
    var requests: Int64 = 0
    var errors: Int64 = 0
    var lastUsed: Timestamp?
    var lastIP: String?
    var endpoints: [String: (count: Int64, errors: Int64)] = [:]
    var buckets: [Bucket] = []
    private var index: [HourAddress: Int] = [:]

    /// The position of the bucket of an hour and address, added (empty) when new.
    mutating func bucket(_ hour: Int64, _ ip: String, at: Timestamp) -> Int {
      if buckets.count < 8 {
        if let i = buckets.firstIndex(where: { $0.hour == hour && $0.ip == ip }) { return i }
      } else {
        if index.isEmpty {
          for (i, b) in buckets.enumerated() { index[HourAddress(hour: b.hour, ip: b.ip)] = i }
        }
        let k = HourAddress(hour: hour, ip: ip)
        if let i = index[k] { return i }
        index[k] = buckets.count
      }
      buckets.append(Bucket(hour: hour, ip: ip, first: at, last: at))
      return buckets.count - 1
    }

    /// Counts one request of this key (see `UsageCounter.count`).
    mutating func count(error: Bool, endpoint: String?, at: Timestamp, ip: String?, denied: Bool, refusedAddress: Bool)
    {
      let e: Int64 = error ? 1 : 0
      requests += 1
      errors += e
      if !error, at >= (lastUsed ?? at) {
        lastUsed = at
        lastIP = ip ?? lastIP
      }
      if let endpoint {
        endpoints[endpoint, default: (0, 0)].count += 1
        endpoints[endpoint, default: (0, 0)].errors += e
      }
      let i = bucket(UsageCounter.hour(at), ip ?? "", at: at)
      buckets[i].first = min(buckets[i].first, at)
      buckets[i].last = max(buckets[i].last, at)
      buckets[i].requests += 1
      buckets[i].errors += e
      if denied { buckets[i].denied += 1 }
      if refusedAddress { buckets[i].refused += 1 }
    }

    mutating func merge(_ o: KeyUsage) {
      requests += o.requests
      errors += o.errors
      if let l = o.lastUsed, l >= (lastUsed ?? l) {
        lastUsed = l
        lastIP = o.lastIP ?? lastIP
      }
      for (k, v) in o.endpoints {
        endpoints[k, default: (0, 0)].count += v.count
        endpoints[k, default: (0, 0)].errors += v.errors
      }
      for b in o.buckets { buckets[bucket(b.hour, b.ip, at: b.first)].add(b) }
    }
  }

  private(set) var byKey: [String: KeyUsage] = [:]

  var isEmpty: Bool { byKey.isEmpty }

  /// The clock hour a time falls in: seconds since the epoch / 3600, rounded down.
  static func hour(_ t: Timestamp) -> Int64 { t >= 0 ? t / 3600 : (t - 3599) / 3600 }

  /// Counts one request: an error or not, at an endpoint and from an address (when known), at a
  /// time. A request that is not an error is the key's last use. `denied` (default: `error`):
  /// refused; `refusedAddress`: refused because the address is not in the key's allowlist.
  mutating func count(
    _ id: String, error: Bool, endpoint: String?, at: Timestamp, ip: String? = nil, denied: Bool? = nil,
    refusedAddress: Bool = false
  ) {
    // Changed in place: one lookup of the key, no copy of its entry.
    byKey[id, default: KeyUsage()].count(
      error: error, endpoint: endpoint, at: at, ip: ip, denied: denied ?? error, refusedAddress: refusedAddress)
  }

  /// Adds another counter's counts.
  mutating func merge(_ other: UsageCounter) {
    // The first group after a write: taken whole.
    guard !byKey.isEmpty else {
      byKey = other.byKey
      return
    }
    for (id, u) in other.byKey { byKey[id, default: KeyUsage()].merge(u) }
  }

  mutating func removeAll() { byKey.removeAll(keepingCapacity: true) }

  /// The ids of the keys counted.
  var keyIDs: [String] { Array(byKey.keys) }

  /// The counts of the keys `ids`, as a counter of their own.
  func only(_ ids: some Sequence<String>) -> UsageCounter {
    var out = UsageCounter()
    for id in ids { out.byKey[id] = byKey[id] }
    return out
  }

  /// Forgets the counts of the keys `ids`.
  mutating func remove(_ ids: some Sequence<String>) {
    for id in ids { byKey.removeValue(forKey: id) }
  }

  /// Everything counted, as the store adds it: keys in id order, each key's buckets by hour and
  /// address (the primary key's order, so consecutive rows land on the same or the next page).
  var counts: UsageCounts {
    var out = UsageCounts()
    for (id, u) in byKey.sorted(by: { $0.key < $1.key }) {
      out.totals[id] = UsageCounts.Total(requests: u.requests, errors: u.errors, lastUsed: u.lastUsed, lastIP: u.lastIP)
      for (e, c) in u.endpoints { out.endpoints.append(.init(keyID: id, name: e, count: c.count, errors: c.errors)) }
      let buckets =
        u.buckets.count < 2 ? u.buckets : u.buckets.sorted { $0.hour != $1.hour ? $0.hour < $1.hour : $0.ip < $1.ip }
      for b in buckets {
        out.buckets.append(
          .init(
            keyID: id, hour: b.hour, ip: b.ip, firstSeen: b.first, lastSeen: b.last, requests: b.requests,
            errors: b.errors, denied: b.denied, refused: b.refused))
      }
    }
    return out
  }
}
