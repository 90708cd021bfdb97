import IVKeysCore
import Testing

@Suite struct RateLogTests {
  /// Allowed request times never number more than N in any closed interval of length W.
  static func maxInAnyWindow(_ times: [Int64], windowMs: Int64) -> Int {
    var best = 0
    var lo = 0
    for hi in times.indices {
      while times[hi] - times[lo] > windowMs { lo += 1 }
      best = max(best, hi - lo + 1)
    }
    return best
  }

  @Test(arguments: [(5, 1), (3, 60), (100, 1), (20, 3600)])
  func noMoreThanNPassInAnyWindowAcrossBoundaries(count: Int, window: Int) {
    let limit = RateLimit(count: count, window: window)
    let windowMs = Int64(window) * 1000
    var log = RateLog()
    var allowed = [Int64]()
    var rng = SystemRandomNumberGenerator()
    var t: Int64 = 1_800_000_000_000 - windowMs / 2  // half a window before a clock boundary
    // Bursts and gaps: several windows' worth of arrivals, far above the limit.
    for _ in 0..<(count * 40) {
      t += Bool.random(using: &rng) ? 0 : Int64.random(in: 0...(windowMs / Int64(count)), using: &rng)
      if log.consume(limit, now: t).allowed { allowed.append(t) }
    }
    #expect(Self.maxInAnyWindow(allowed, windowMs: windowMs) <= count)
    #expect(allowed.count > count, "requests pass again once the window has moved on")
  }

  @Test func aFixedWindowsBoundaryBurstIsRefused() {
    // N just before a clock second ends and N just after: fixed windows pass 2N in 2 ms.
    let limit = RateLimit(count: 5, window: 1)
    var log = RateLog()
    var passed = 0
    for i in 0..<5 where log.consume(limit, now: 1_000_999 - Int64(i)).allowed { passed += 1 }
    for _ in 0..<5 where log.consume(limit, now: 1_001_001).allowed { passed += 1 }
    #expect(passed == 5)
    // One window after the first request, one more passes.
    #expect(log.consume(limit, now: 1_000_999 + 1001).allowed)
  }

  @Test func theStoredFormRoundTripsAndRefusesGarbage() {
    let limit = RateLimit(count: 10, window: 60)
    var log = RateLog()
    for t in stride(from: Int64(0), to: 9_000, by: 700) { _ = log.consume(limit, now: 5_000_000 + t) }
    #expect(RateLog(encoded: log.encoded) == log)
    #expect(RateLog(encoded: [1, 2, 3]) == nil)
    #expect(RateLog(encoded: [UInt8](repeating: 0, count: 16)) == nil, "an entry counts at least one request")
  }

  @Test func aLongBusyWindowStaysSmall() {
    let limit = RateLimit(count: 1_000_000, window: 3600)
    var log = RateLog()
    for t in stride(from: Int64(0), to: 3_600_000, by: 50) { _ = log.consume(limit, now: t) }
    #expect(log.encoded.count <= 16 * 129)
  }

  @Test func limitsParseAndPrintTheirStoredForm() throws {
    let both = try RequestLimits.parse("100/m max=5000 refill=1000/d")
    #expect(both.rate == RateLimit(count: 100, window: 60))
    #expect(both.budget == RequestBudget(max: 5000, refillPerDay: 1000))
    #expect(both.stored == "100/m max=5000 refill=1000/d")
    #expect(try RequestLimits.parse("max=7").stored == "max=7")
    #expect(try RequestLimits.parse("10/s").budget == nil)
    #expect(try RequestLimits.parse(nil).stored == nil)
    for bad in ["", "max=0", "refill=5/d", "10/s refill=5/d", "10/s max=5 max=6", "max=5 10/s", "10/s  max=5"] {
      #expect(throws: ValueError.self, "\(bad)") { try RequestLimits.parse(bad) }
    }
    #expect(throws: ValueError.self) { try RequestBudget.parseRefill("5/h") }
    #expect(throws: ValueError.self) { try RequestBudget.parseMax("-1") }
  }
}
