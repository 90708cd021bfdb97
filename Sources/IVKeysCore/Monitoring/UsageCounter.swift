/// Usage counted in memory before it is written: per key, its totals and its endpoints; per key
/// and clock hour, and per key, hour and source address, the buckets the alert rules read.
/// `verify` counts decisions into one; `usage import` counts log lines.
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

  struct HourKey: Hashable {
    var key: String
    var hour: Int64
  }

  struct AddressKey: Hashable {
    var key: String
    var hour: Int64
    var ip: String
  }

  struct AddressUsage {
    var first: Timestamp
    var last: Timestamp
    var requests: Int64 = 0
    var denied: Int64 = 0
    var refused: Int64 = 0
  }

  private(set) var byKey: [String: KeyUsage] = [:]
  /// The hourly and per-address buckets: written with the decisions that made them.
  private(set) var hours: [HourKey: (requests: Int64, errors: Int64)] = [:]
  private(set) var addresses: [AddressKey: AddressUsage] = [:]

  var isEmpty: Bool { byKey.isEmpty && hours.isEmpty && addresses.isEmpty }

  /// The clock hour a time falls in: seconds since the epoch / 3600, rounded down.
  static func hour(_ t: Timestamp) -> Int64 { t >= 0 ? t / 3600 : (t - 3599) / 3600 }

  /// Counts one request: an error (refused) or not, at an endpoint and from an address (when
  /// known), at a time. A request that is not an error is the key's last use. `refusedAddress`:
  /// refused because the address is not in the key's allowlist.
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
    let hour = Self.hour(at)
    hours[HourKey(key: id, hour: hour), default: (0, 0)].requests += 1
    hours[HourKey(key: id, hour: hour), default: (0, 0)].errors += e
    if let ip {
      let k = AddressKey(key: id, hour: hour, ip: ip)
      var a = addresses[k] ?? AddressUsage(first: at, last: at)
      a.first = min(a.first, at)
      a.last = max(a.last, at)
      a.requests += 1
      if denied ?? error { a.denied += 1 }
      if refusedAddress { a.refused += 1 }
      addresses[k] = a
    }
  }

  /// Adds another counter's totals and endpoints (its buckets are written by their own group).
  mutating func mergeTotals(_ other: UsageCounter) {
    for (id, u) in other.byKey { byKey[id, default: KeyUsage()].merge(u) }
  }

  mutating func removeAll() {
    byKey.removeAll(keepingCapacity: true)
    removeBuckets()
  }

  mutating func removeBuckets() {
    hours.removeAll(keepingCapacity: true)
    addresses.removeAll(keepingCapacity: true)
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

  /// The hourly and per-address buckets only.
  var bucketCounts: UsageCounts {
    var out = UsageCounts()
    out.hours.reserveCapacity(hours.count)
    for (k, v) in hours { out.hours.append(.init(keyID: k.key, hour: k.hour, requests: v.requests, errors: v.errors)) }
    out.addresses.reserveCapacity(addresses.count)
    for (k, a) in addresses {
      out.addresses.append(
        .init(
          keyID: k.key, hour: k.hour, ip: k.ip, firstSeen: a.first, lastSeen: a.last, requests: a.requests,
          denied: a.denied, refused: a.refused))
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
