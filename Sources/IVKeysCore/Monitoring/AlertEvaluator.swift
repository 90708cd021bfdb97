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
    volume = enabled.contains(.volume)
    errorRate = enabled.contains(.errorRate)
    afterHours = enabled.contains(.afterHours)
    factor = rules.volumeFactor
    volumeMin = rules.volumeMinRequests
    baselineHours = rules.volumeBaselineDays * 24
    errorMin = rules.errorRateMinRequests
    rate = rules.errorRate
    lookbackHours = rules.newIPLookbackDays * 24
    historyHours = rules.newIPMinHistoryDays * 24
    self.firstHour = firstHour
    self.lastHour = lastHour
    self.schedule = schedule
    self.firstTrafficHour = firstTrafficHour
    self.lastAddressHour = lastAddressHour
  }

  // The rules and parameters, read once: each row is checked against them.
  private let volume: Bool
  private let errorRate: Bool
  private let afterHours: Bool
  private let factor: Double
  private let volumeMin: Int64
  private let baselineHours: Int64
  private let errorMin: Int64
  private let rate: Double
  private let lookbackHours: Int64
  private let historyHours: Int64

  private(set) var alerts: [Alert] = []
  /// One clock for the whole evaluation: it keeps each zone's hours it converted.
  private var clock = ZoneClock()

  // MARK: - Hourly buckets: volume, error_rate, after_hours

  // The hourly buckets are read in two passes. The first reads the window of every key: error_rate
  // and after_hours, and the keys with an hour busy enough for volume. The second reads only
  // those keys again, from the start of their baseline: most keys never have such an hour, and
  // the whole baseline of 10,000 keys is 1.9 million rows (8 days) where the window is 240,000.

  /// Whether the hourly buckets are needed at all.
  var needsHourly: Bool { volume || errorRate || afterHours }

  /// The hour the second pass reads each candidate key from.
  var baselineFrom: Int64 { firstHour - baselineHours }

  /// The keys the first pass found with an hour of at least `volume.min_requests`, in its order.
  private(set) var volumeCandidates: [String] = []
  /// Whether the buckets now coming are the second pass's.
  private var volumePass = false

  private var hourlyKey = ""
  private var baseline = Baseline()
  /// The current key's schedule, as an index into `schedules`, once looked up (-1: none).
  private var keySchedule: Int?
  /// The schedules keys follow (a company's is shared by its keys), each with its message text
  /// and, by hour, whether the hour is after hours.
  private var schedules: [(schedule: WorkSchedule, text: String, afterHours: [Int64: Bool])] = []

  /// Ends the first pass: the buckets that follow are the volume candidates' from `baselineFrom`.
  mutating func startVolumePass() {
    volumePass = true
    hourlyKey = ""
  }

  /// Takes one hourly bucket, in the store's order.
  mutating func add(_ b: UsageCounts.Hour) throws(IVKeysError) {
    if b.keyID != hourlyKey {
      hourlyKey = b.keyID
      baseline.reset()
      keySchedule = nil
    }
    let inWindow = b.hour >= firstHour && b.hour <= lastHour
    if volumePass {
      baseline.evict(before: b.hour - baselineHours)
      if inWindow && b.requests >= volumeMin, let median = baseline.median(), Double(b.requests) > factor * median {
        alerts.append(
          Alert(
            rule: .volume, keyID: b.keyID, hour: b.hour, observed: Double(b.requests), threshold: factor * median,
            message: "\(b.requests) requests, above \(AlertParameter.format(factor)) x the median "
              + "\(AlertParameter.format(median)) of the hours with traffic in the previous "
              + "\(Self.days(rules.volumeBaselineDays))"))
      }
      if b.requests > 0 { baseline.add(hour: b.hour, requests: b.requests) }
      return
    }
    guard inWindow else { return }
    if volume && b.requests >= volumeMin && volumeCandidates.last != b.keyID { volumeCandidates.append(b.keyID) }
    if errorRate && b.requests >= errorMin, Double(b.errors) / Double(b.requests) >= rate {
      let share = Double(b.errors) / Double(b.requests)
      alerts.append(
        Alert(
          rule: .errorRate, keyID: b.keyID, hour: b.hour, observed: share, threshold: rate,
          message: "\(Self.percent(share)) of \(b.requests) requests refused or failed (the rule fires from "
            + "\(Self.percent(rate)))"))
    }
    if afterHours && b.requests > 0 { try checkAfterHours(b) }
  }

  private mutating func checkAfterHours(_ b: UsageCounts.Hour) throws(IVKeysError) {
    if keySchedule == nil { keySchedule = try scheduleIndex(b.keyID) }
    guard let i = keySchedule, i >= 0 else { return }
    let after: Bool
    if let known = schedules[i].afterHours[b.hour] {
      after = known
    } else {
      after = schedules[i].schedule.isAfterHours(hour: b.hour, clock: &clock)
      schedules[i].afterHours[b.hour] = after
    }
    guard after else { return }
    alerts.append(
      Alert(
        rule: .afterHours, keyID: b.keyID, hour: b.hour, observed: Double(b.requests), threshold: 0,
        message: schedules[i].text, countsRequests: true))
  }

  /// The index in `schedules` of the schedule a key follows, -1 for none.
  private mutating func scheduleIndex(_ key: String) throws(IVKeysError) -> Int {
    guard let s = try schedule(key) else { return -1 }
    if let i = schedules.firstIndex(where: { $0.schedule == s }) { return i }
    schedules.append((s, "outside the working hours \(s.hours) (\(s.zone))", [:]))
    return schedules.count - 1
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
    // The address's last sighting first: for a key in steady use it was seen lately, and the
    // key's history need not be looked up at all.
    let previous: Int64?
    if let inWindow = seen[a.ip] {
      previous = inWindow
    } else {
      previous = try lastAddressHour(a.keyID, a.ip, a.hour)
    }
    var new = previous.map { $0 < a.hour - lookbackHours } ?? true
    if new { new = try hasHistory(a.keyID, at: a.hour) }
    seen[a.ip] = a.hour
    if refused || new { pending.append((a.ip, refused)) }
  }

  /// Whether the key's first recorded request is at least `min_history_days` before `hour`.
  private mutating func hasHistory(_ key: String, at hour: Int64) throws(IVKeysError) -> Bool {
    if historyHours == 0 { return true }
    if firstTraffic == nil { firstTraffic = .some(try firstTrafficHour(key)) }
    guard let first = firstTraffic ?? nil else { return false }
    return first <= hour - historyHours
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
/// evaluated, in hour order (to drop the oldest) and, once a median is asked for, also sorted by
/// requests, kept sorted from then on. Most hours have too few requests to be evaluated, so most
/// keys never sort.
struct Baseline {
  private var hours: [Int64] = []
  private var requests: [Int64] = []
  private var head = 0
  private var sorted: [Int64] = []
  /// Whether `sorted` holds the requests from `head` on.
  private var isSorted = false

  mutating func reset() {
    hours.removeAll(keepingCapacity: true)
    requests.removeAll(keepingCapacity: true)
    head = 0
    isSorted = false
  }

  /// Drops the hours before `hour`.
  mutating func evict(before hour: Int64) {
    while head < hours.count && hours[head] < hour {
      if isSorted { sorted.remove(at: Self.lowerBound(sorted, requests[head])) }
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
    if isSorted { sorted.insert(r, at: Self.lowerBound(sorted, r)) }
  }

  /// The median of the hours held (the mean of the two middle ones for an even count); nil for none.
  mutating func median() -> Double? {
    if !isSorted {
      sorted.removeAll(keepingCapacity: true)
      sorted.append(contentsOf: requests[head...])
      sorted.sort()
      isSorted = true
    }
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
