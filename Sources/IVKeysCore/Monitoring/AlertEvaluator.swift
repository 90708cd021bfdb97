/// Evaluates the alert rules over the usage buckets, which the store streams key by key, each
/// key's hours in order: only the current key's state is held, and it is reused from key to key.
struct AlertEvaluator {
  let rules: AlertRules
  let enabled: Set<AlertRule>
  /// The first and last hour alerts are raised for (seconds since the epoch / 3600).
  let firstHour: Int64
  let lastHour: Int64
  /// The working hours a key's after_hours alerts follow (nil: none, the rule skips the key).
  let schedule: (String) throws(IVKeysError) -> WorkSchedule?
  /// The store's answers for new_ip: a key's first hour with traffic, an address's last hour
  /// before a given one.
  let firstTrafficHour: (String) throws(IVKeysError) -> Int64?
  let lastAddressHour: (String, String, Int64) throws(IVKeysError) -> Int64?

  init(
    rules: AlertRules, enabled: Set<AlertRule>, firstHour: Int64, lastHour: Int64,
    schedule: @escaping (String) throws(IVKeysError) -> WorkSchedule?,
    firstTrafficHour: @escaping (String) throws(IVKeysError) -> Int64?,
    lastAddressHour: @escaping (String, String, Int64) throws(IVKeysError) -> Int64?
  ) {
    self.rules = rules
    self.enabled = enabled
    self.firstHour = firstHour
    self.lastHour = lastHour
    self.schedule = schedule
    self.firstTrafficHour = firstTrafficHour
    self.lastAddressHour = lastAddressHour
  }

  private(set) var alerts: [Alert] = []
  /// One clock for the whole evaluation: it keeps each zone's hours it converted.
  private var clock = ZoneClock()

  // MARK: - Hourly buckets: volume, error_rate, after_hours

  /// The hour the hourly buckets must be read from: the window, and before it the volume baseline.
  var hourlyFrom: Int64 { enabled.contains(.volume) ? firstHour - rules.volumeBaselineDays * 24 : firstHour }

  /// Whether the hourly buckets are needed at all.
  var needsHourly: Bool { enabled.contains(.volume) || enabled.contains(.errorRate) || enabled.contains(.afterHours) }

  private var hourlyKey = ""
  private var baseline = Baseline()
  /// The current key's schedule, once looked up.
  private var keySchedule: WorkSchedule??

  /// Takes one hourly bucket, in the store's order.
  mutating func add(_ b: UsageCounts.Hour) throws(IVKeysError) {
    if b.keyID != hourlyKey {
      hourlyKey = b.keyID
      baseline.reset()
      keySchedule = nil
    }
    let volume = enabled.contains(.volume)
    if volume { baseline.evict(before: b.hour - rules.volumeBaselineDays * 24) }
    if b.hour >= firstHour && b.hour <= lastHour {
      if volume && b.requests >= rules.volumeMinRequests, let median = baseline.median() {
        let threshold = rules.volumeFactor * median
        if Double(b.requests) > threshold {
          alerts.append(
            Alert(
              rule: .volume, keyID: b.keyID, hour: b.hour, observed: Double(b.requests), threshold: threshold,
              message: "\(b.requests) requests, above \(AlertParameter.format(rules.volumeFactor)) x the median "
                + "\(AlertParameter.format(median)) of the hours with traffic in the previous "
                + "\(Self.days(rules.volumeBaselineDays))"))
        }
      }
      if enabled.contains(.errorRate) && b.requests >= rules.errorRateMinRequests {
        let share = Double(b.errors) / Double(b.requests)
        if share >= rules.errorRate {
          alerts.append(
            Alert(
              rule: .errorRate, keyID: b.keyID, hour: b.hour, observed: share, threshold: rules.errorRate,
              message: "\(Self.percent(share)) of \(b.requests) requests refused or failed (the rule fires from "
                + "\(Self.percent(rules.errorRate)))"))
        }
      }
      if enabled.contains(.afterHours) && b.requests > 0 {
        try afterHours(b)
      }
    }
    if volume && b.requests > 0 { baseline.add(hour: b.hour, requests: b.requests) }
  }

  private mutating func afterHours(_ b: UsageCounts.Hour) throws(IVKeysError) {
    if keySchedule == nil { keySchedule = .some(try schedule(b.keyID)) }
    guard let s = keySchedule ?? nil, s.isAfterHours(hour: b.hour, clock: &clock) else { return }
    alerts.append(
      Alert(
        rule: .afterHours, keyID: b.keyID, hour: b.hour, observed: Double(b.requests), threshold: 0,
        message: "\(b.requests) request\(b.requests == 1 ? "" : "s") outside the working hours \(s.hours) (\(s.zone))"))
  }

  // MARK: - Address buckets: new_ip

  private var addressKey = ""
  /// The current key's first hour with traffic, once looked up (.some(nil): none recorded).
  private var firstTraffic: Int64??
  /// The last hour of the window each address was seen in, for the current key.
  private var seen: [String: Int64] = [:]
  /// The hour being gathered, and its addresses that are new or refused.
  private var pendingHour: Int64 = .min
  private var pending: [(ip: String, refused: Bool)] = []

  /// Takes one per-address bucket, in the store's order (key, hour, address).
  mutating func add(_ a: UsageCounts.Address) throws(IVKeysError) {
    guard a.hour >= firstHour && a.hour <= lastHour else { return }
    if a.keyID != addressKey || a.hour != pendingHour { flushAddresses() }
    if a.keyID != addressKey {
      addressKey = a.keyID
      firstTraffic = nil
      seen.removeAll(keepingCapacity: true)
    }
    pendingHour = a.hour
    let refused = a.refused > 0
    var new = false
    if try hasHistory(a.keyID, at: a.hour) {
      let previous: Int64?
      if let inWindow = seen[a.ip] {
        previous = inWindow
      } else {
        previous = try lastAddressHour(a.keyID, a.ip, a.hour)
      }
      new = previous.map { $0 < a.hour - rules.newIPLookbackDays * 24 } ?? true
    }
    seen[a.ip] = a.hour
    if refused || new { pending.append((a.ip, refused)) }
  }

  /// Whether the key's first recorded request is at least `min_history_days` before `hour`.
  private mutating func hasHistory(_ key: String, at hour: Int64) throws(IVKeysError) -> Bool {
    let days = rules.newIPMinHistoryDays
    if days == 0 { return true }
    if firstTraffic == nil { firstTraffic = .some(try firstTrafficHour(key)) }
    guard let first = firstTraffic ?? nil else { return false }
    return first <= hour - days * 24
  }

  /// Raises the new_ip alert of the hour gathered, if it has addresses.
  mutating func flushAddresses() {
    defer { pending.removeAll(keepingCapacity: true) }
    guard !pending.isEmpty else { return }
    let n = pending.count
    var names = pending.prefix(5).map { $0.refused ? "\($0.ip) (refused)" : $0.ip }.joined(separator: ", ")
    if n > 5 { names += " and \(n - 5) more" }
    alerts.append(
      Alert(
        rule: .newIP, keyID: addressKey, hour: pendingHour, observed: Double(n), threshold: 0,
        message: "requests from \(n) address\(n == 1 ? "" : "es") not seen for the key in the previous "
          + "\(Self.days(rules.newIPLookbackDays)) or refused by its allowlist: \(names)",
        ips: pending.map(\.ip)))
  }

  // MARK: - Wording

  static func days(_ n: Int64) -> String { n == 1 ? "day" : "\(n) days" }

  /// A share as a percentage: `35%`, `12.5%`.
  static func percent(_ share: Double) -> String { AlertParameter.format((share * 1000).rounded() / 10) + "%" }
}

/// The volume baseline of one key: the hours with traffic in the days before the hour being
/// evaluated, in hour order (to drop the oldest) and sorted by requests (for the median).
struct Baseline {
  private var hours: [Int64] = []
  private var requests: [Int64] = []
  private var head = 0
  private var sorted: [Int64] = []

  mutating func reset() {
    hours.removeAll(keepingCapacity: true)
    requests.removeAll(keepingCapacity: true)
    sorted.removeAll(keepingCapacity: true)
    head = 0
  }

  /// Drops the hours before `hour`.
  mutating func evict(before hour: Int64) {
    while head < hours.count && hours[head] < hour {
      sorted.remove(at: Self.lowerBound(sorted, requests[head]))
      head += 1
    }
    if head > 512 && head * 2 > hours.count {
      hours.removeSubrange(0..<head)
      requests.removeSubrange(0..<head)
      head = 0
    }
  }

  /// Adds an hour with traffic, later than every hour held.
  mutating func add(hour: Int64, requests r: Int64) {
    hours.append(hour)
    requests.append(r)
    sorted.insert(r, at: Self.lowerBound(sorted, r))
  }

  /// The median of the hours held (the mean of the two middle ones for an even count); nil for none.
  func median() -> Double? {
    let n = sorted.count
    guard n > 0 else { return nil }
    if n % 2 == 1 { return Double(sorted[n / 2]) }
    return (Double(sorted[n / 2 - 1]) + Double(sorted[n / 2])) / 2
  }

  /// The first index whose value is not below `v`.
  private static func lowerBound(_ a: [Int64], _ v: Int64) -> Int {
    var lo = 0
    var hi = a.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if a[mid] < v { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }
}
