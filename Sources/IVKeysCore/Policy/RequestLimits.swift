/// A usage-limited key's request budget: at most `max` allowed requests, and with a refill,
/// `refillPerDay` more for each whole day since the budget was last refilled (never above `max`).
public struct RequestBudget: Equatable, Sendable {
  public let max: Int64
  public let refillPerDay: Int64?

  public init(max: Int64, refillPerDay: Int64? = nil) {
    self.max = max
    self.refillPerDay = refillPerDay
  }

  /// The largest budget or refill: enough for any real key, small enough never to overflow.
  static let ceiling: Int64 = 1_000_000_000_000

  /// Parses `--max-requests`: 1 to 1,000,000,000,000.
  public static func parseMax(_ text: String) throws(ValueError) -> Int64 {
    try count(text, "a request budget")
  }

  /// Parses `--refill N/d`: N requests a day, 1 to 1,000,000,000,000.
  public static func parseRefill(_ text: String) throws(ValueError) -> Int64 {
    guard text.hasSuffix("/d") else { throw ValueError("expected N/d, for example 1000/d") }
    return try count(String(text.dropLast(2)), "a refill")
  }

  private static func count(_ text: String, _ what: String) throws(ValueError) -> Int64 {
    guard !text.isEmpty, text.count <= 13, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let n = Int64(text)
    else { throw ValueError("expected a whole number, for example 1000") }
    guard n >= 1 else { throw ValueError("\(what) allows at least 1 request") }
    guard n <= ceiling else { throw ValueError("\(what) is at most \(ceiling) requests") }
    return n
  }

  /// The requests left at `now` (seconds) from a stored state, with the refills due since; the
  /// state's refill time moves forward by the whole days counted. No state: the whole budget.
  public func current(_ state: BudgetState?, now: Timestamp) -> BudgetState {
    guard var s = state else { return BudgetState(remaining: max, refilledAt: now) }
    // A row ivkeys could not have written (the table is not sealed) spends the budget: nothing
    // left until a refill counted from now, never more than the budget, never a crash.
    guard s.refilledAt >= 0, s.refilledAt <= now + 86_400 else { return BudgetState(remaining: 0, refilledAt: now) }
    s.remaining = Swift.max(0, Swift.min(s.remaining, max))
    if let perDay = refillPerDay, now >= s.refilledAt + 86_400 {
      let days = (now - s.refilledAt) / 86_400
      let added = days > Self.ceiling / perDay ? Self.ceiling : days * perDay
      s.remaining = Swift.min(max, s.remaining + added)
      s.refilledAt += days * 86_400
    }
    return s
  }

  /// The refill as written: `1000/d`.
  public var refillText: String? { refillPerDay.map { "\($0)/d" } }

  /// For people: `5000` or `5000, refills 1000 a day`.
  public var summary: String { "\(max)" + (refillPerDay.map { ", refills \($0) a day" } ?? "") }

  /// Seconds until the next refill adds requests; nil without a refill.
  public func secondsToRefill(_ state: BudgetState, now: Timestamp) -> Int64? {
    guard refillPerDay != nil else { return nil }
    return Swift.max(1, state.refilledAt + 86_400 - now)
  }
}

/// What is left of a key's request budget, as the vault keeps it (`request_budgets`).
public struct BudgetState: Equatable, Sendable {
  public var remaining: Int64
  /// When the budget was last refilled (or first used): refills count whole days from here.
  public var refilledAt: Timestamp

  public init(remaining: Int64, refilledAt: Timestamp) {
    self.remaining = remaining
    self.refilledAt = refilledAt
  }
}

/// A key's request limits as its sealed `rate_limit` column stores them: the rate limit, then
/// the budget, space-separated: `100/m`, `100/m max=5000 refill=1000/d`, `max=5000`. One sealed
/// column holds both, so the seals of keys made before budgets existed stay valid, and a binary
/// that does not know budgets cannot read the column and admits nobody with the key (fail closed).
public struct RequestLimits: Equatable, Sendable {
  public var rate: RateLimit?
  public var budget: RequestBudget?

  public init(rate: RateLimit?, budget: RequestBudget?) {
    self.rate = rate
    self.budget = budget
  }

  /// The column's text; nil when there is no limit at all.
  public var stored: String? {
    var parts = [String]()
    if let rate { parts.append(rate.description) }
    if let budget {
      parts.append("max=\(budget.max)")
      if let r = budget.refillText { parts.append("refill=" + r) }
    }
    return parts.isEmpty ? nil : parts.joined(separator: " ")
  }

  /// Reads the column (nil: no limits).
  public static func parse(_ text: String?) throws(ValueError) -> RequestLimits {
    var limits = RequestLimits(rate: nil, budget: nil)
    guard let text else { return limits }
    var max: Int64?
    var refill: Int64?
    for (i, part) in text.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
      if part.hasPrefix("max="), max == nil {
        max = try RequestBudget.parseMax(String(part.dropFirst(4)))
      } else if part.hasPrefix("refill="), max != nil, refill == nil {
        refill = try RequestBudget.parseRefill(String(part.dropFirst(7)))
      } else if i == 0 {
        limits.rate = try RateLimit.parse(String(part))
      } else {
        throw ValueError("unexpected '\(part)'")
      }
    }
    if let max { limits.budget = RequestBudget(max: max, refillPerDay: refill) }
    return limits
  }
}
