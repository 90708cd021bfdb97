/// Usage counted in memory before it is written: per key, its totals and its endpoints; per key,
/// clock hour and client address, the buckets the alert rules read. `verify` counts decisions
/// into one; `usage import` counts log lines.
///
/// A single `verify` process pays for each new generic type it instantiates (the runtime looks
/// its conformances up), so its path hashes only `String` keys.
struct UsageCounter {
  /// One key's totals.
  struct KeyUsage {
    var requests: Int64 = 0
    var errors: Int64 = 0
    var lastUsed: Timestamp?
    var lastIP: String?
    var endpoints: [String: (count: Int64, errors: Int64)] = [:]

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
    }
  }

  /// One key's requests from one address ("" for none) in one hour.
  struct Bucket {
    var key: String
    var hour: Int64
    var ip: String
    var first: Timestamp
    var last: Timestamp
    var requests: Int64 = 0
    var errors: Int64 = 0
    var denied: Int64 = 0
    var refused: Int64 = 0
  }

  /// What finds a bucket once there are many.
  struct BucketKey: Hashable {
    var key: String
    var hour: Int64
    var ip: String
  }

  private(set) var byKey: [String: KeyUsage] = [:]
  /// The buckets, written with the decisions that made them; `index` finds one by key, hour and
  /// address once there are more than a few (a single `verify` has one, and never instantiates
  /// the index's type: each new hashed type costs a process a conformance scan).
  private(set) var buckets: [Bucket] = []
  private var index: [BucketKey: Int] = [:]

  var isEmpty: Bool { byKey.isEmpty && buckets.isEmpty }

  /// The clock hour a time falls in: seconds since the epoch / 3600, rounded down.
  static func hour(_ t: Timestamp) -> Int64 { t >= 0 ? t / 3600 : (t - 3599) / 3600 }

  /// Counts one request: an error or not, at an endpoint and from an address (when known), at a
  /// time. A request that is not an error is the key's last use. `denied` (default: `error`):
  /// refused; `refusedAddress`: refused because the address is not in the key's allowlist.
  mutating func count(
    _ id: String, error: Bool, endpoint: String?, at: Timestamp, ip: String? = nil, denied: Bool? = nil,
    refusedAddress: Bool = false
  ) {
    let e: Int64 = error ? 1 : 0
    var u = byKey.removeValue(forKey: id) ?? KeyUsage()
    u.requests += 1
    u.errors += e
    if !error, at >= (u.lastUsed ?? at) {
      u.lastUsed = at
      u.lastIP = ip ?? u.lastIP
    }
    if let endpoint {
      u.endpoints[endpoint, default: (0, 0)].count += 1
      u.endpoints[endpoint, default: (0, 0)].errors += e
    }
    byKey[id] = u

    let i = bucketIndex(id, Self.hour(at), ip ?? "", at)
    buckets[i].first = min(buckets[i].first, at)
    buckets[i].last = max(buckets[i].last, at)
    buckets[i].requests += 1
    buckets[i].errors += e
    if denied ?? error { buckets[i].denied += 1 }
    if refusedAddress { buckets[i].refused += 1 }
  }

  /// The position of the bucket of a key, hour and address, added when new.
  private mutating func bucketIndex(_ key: String, _ hour: Int64, _ ip: String, _ at: Timestamp) -> Int {
    if buckets.count <= 8 {
      if let i = buckets.firstIndex(where: { $0.hour == hour && $0.key == key && $0.ip == ip }) { return i }
    } else {
      if index.isEmpty {
        for (i, b) in buckets.enumerated() { index[BucketKey(key: b.key, hour: b.hour, ip: b.ip)] = i }
      }
      let k = BucketKey(key: key, hour: hour, ip: ip)
      if let i = index[k] { return i }
      index[k] = buckets.count
    }
    buckets.append(Bucket(key: key, hour: hour, ip: ip, first: at, last: at))
    return buckets.count - 1
  }

  /// Adds another counter's totals and endpoints (its buckets are written by their own group).
  mutating func mergeTotals(_ other: UsageCounter) {
    for (id, u) in other.byKey { byKey[id, default: KeyUsage()].merge(u) }
  }

  /// Adds another counter's counts, buckets included.
  mutating func merge(_ other: UsageCounter) {
    mergeTotals(other)
    for b in other.buckets {
      let i = bucketIndex(b.key, b.hour, b.ip, b.first)
      buckets[i].first = min(buckets[i].first, b.first)
      buckets[i].last = max(buckets[i].last, b.last)
      buckets[i].requests += b.requests
      buckets[i].errors += b.errors
      buckets[i].denied += b.denied
      buckets[i].refused += b.refused
    }
  }

  mutating func removeAll() {
    byKey.removeAll(keepingCapacity: true)
    removeBuckets()
  }

  mutating func removeBuckets() {
    buckets.removeAll(keepingCapacity: true)
    index.removeAll(keepingCapacity: true)
  }

  /// Everything counted, as the store adds it.
  var counts: UsageCounts {
    var out = bucketCounts
    addTotals(to: &out)
    return out
  }

  /// The totals and endpoints only.
  var totalCounts: UsageCounts {
    var out = UsageCounts()
    addTotals(to: &out)
    return out
  }

  /// The buckets only.
  var bucketCounts: UsageCounts {
    var out = UsageCounts()
    out.buckets = buckets.map { b in
      UsageCounts.Address(
        keyID: b.key, hour: b.hour, ip: b.ip, firstSeen: b.first, lastSeen: b.last, requests: b.requests,
        errors: b.errors, denied: b.denied, refused: b.refused)
    }
    return out
  }

  private func addTotals(to out: inout UsageCounts) {
    for (id, u) in byKey {
      out.totals[id] = UsageCounts.Total(requests: u.requests, errors: u.errors, lastUsed: u.lastUsed, lastIP: u.lastIP)
      for (e, c) in u.endpoints { out.endpoints.append(.init(keyID: id, name: e, count: c.count, errors: c.errors)) }
    }
  }
}
