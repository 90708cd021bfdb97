/// A key's sliding-window rate limit: the requests it was allowed in the last window, as a log
/// of (millisecond, count) entries, oldest first.
///
/// The rule: a request at time `t` passes when fewer than N requests were allowed in the closed
/// interval [t − W, t]. So every closed interval of length W holds at most N allowed requests:
/// take the last one allowed in it, at `t`; every other allowed request of the interval lies in
/// [t − W, t] and was counted when `t` was decided. Fixed windows let 2N through across a
/// boundary; this does not.
///
/// Bounded size: requests within one slot of W/128 share an entry, stamped with the slot's
/// latest request. An entry's stamp is never earlier than any request it counts, so a request
/// counted exactly would also be counted here: the log only ever over-counts, which can refuse
/// a request up to W/128 early but never let one more through. At most 129 entries a key.
public struct RateLog: Equatable, Sendable {
  struct Entry: Equatable {
    var at: Int64
    var count: Int64
  }
  private(set) var entries: [Entry] = []

  public init() {}

  /// The state a decision reports: the limit, the requests still allowed now, and the seconds
  /// until the oldest counted request leaves the window (when one more is allowed); 0 when none
  /// is counted.
  public struct State: Equatable, Sendable {
    public var limit: Int64
    public var remaining: Int64
    public var reset: Int64
  }

  private static func slot(_ windowMs: Int64) -> Int64 { max(1, windowMs / 128) }

  /// Drops the entries that left the window ending at `now`.
  private mutating func expire(now: Int64, windowMs: Int64) {
    if let i = entries.firstIndex(where: { $0.at >= now - windowMs }) {
      if i > 0 { entries.removeFirst(i) }
    } else {
      entries.removeAll()
    }
  }

  private var total: Int64 { entries.reduce(0) { $0 + $1.count } }

  /// Counts one request at `now` (milliseconds) if the limit allows it. Returns whether it passed
  /// and the state after it.
  public mutating func consume(_ limit: RateLimit, now: Int64) -> (allowed: Bool, state: State) {
    let windowMs = Int64(limit.window) * 1000
    // A clock that stepped back stamps the request at the latest entry: later, never earlier.
    let now = max(now, entries.last?.at ?? now)
    expire(now: now, windowMs: windowMs)
    let n = Int64(limit.count)
    guard total < n else { return (false, state(limit, now: now)) }
    if var last = entries.last, last.at / Self.slot(windowMs) == now / Self.slot(windowMs) {
      last.at = now
      last.count += 1
      entries[entries.count - 1] = last
    } else {
      entries.append(Entry(at: now, count: 1))
    }
    return (true, state(limit, now: now))
  }

  /// The state at `now` without counting a request.
  public func state(_ limit: RateLimit, now: Int64) -> State {
    let windowMs = Int64(limit.window) * 1000
    var copy = self
    copy.expire(now: now, windowMs: windowMs)
    let n = Int64(limit.count)
    let used = copy.total
    guard let first = copy.entries.first else { return State(limit: n, remaining: n, reset: 0) }
    // When enough requests have left for one more to pass: the entry whose expiry brings the
    // count below the limit (the first one when it is not reached).
    var excess = used - n + 1
    var leaves = first.at
    for e in copy.entries {
      leaves = e.at
      excess -= e.count
      if excess <= 0 { break }
    }
    // An entry leaves when now > at + W: one millisecond after; whole seconds, rounded up.
    let ms = leaves + windowMs + 1 - now
    return State(limit: n, remaining: max(0, n - used), reset: max(1, (ms + 999) / 1000))
  }

  /// A log that counts `limit` requests at `now`: what an unreadable stored log is taken for,
  /// so the key admits nothing more until a whole window has passed (fail closed).
  public static func full(_ limit: RateLimit, now: Int64) -> RateLog {
    var log = RateLog()
    log.entries = [Entry(at: now, count: Int64(limit.count))]
    return log
  }

  // MARK: - Stored form

  /// 16 bytes an entry: the millisecond and the count, little-endian.
  public var encoded: [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(entries.count * 16)
    for e in entries {
      withUnsafeBytes(of: e.at.littleEndian) { out.append(contentsOf: $0) }
      withUnsafeBytes(of: e.count.littleEndian) { out.append(contentsOf: $0) }
    }
    return out
  }

  /// Reads a stored log; nil for bytes that are not one (the caller fails closed).
  public init?(encoded bytes: [UInt8]) {
    guard bytes.count % 16 == 0, bytes.count <= 16 * 4096 else { return nil }
    func int(_ at: Int) -> Int64 {
      var v: Int64 = 0
      for i in (0..<8).reversed() { v = v << 8 | Int64(bytes[at + i]) }
      return v
    }
    var entries = [Entry]()
    var i = 0
    while i < bytes.count {
      let e = Entry(at: int(i), count: int(i + 8))
      // Stored by ivkeys, never outside these (counts up to a limit's 1e9, times before the
      // year 30000): anything else was written by someone else, and is refused, never summed.
      guard e.count > 0, e.count <= 1_000_000_000, e.at >= 0, e.at <= 900_000_000_000_000,
        entries.last.map({ $0.at <= e.at }) ?? true
      else { return nil }
      entries.append(e)
      i += 16
    }
    self.entries = entries
  }
}
