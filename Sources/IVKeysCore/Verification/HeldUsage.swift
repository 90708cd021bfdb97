/// Usage counts of a stream's committed groups not yet written (`Verifier` in batch mode): held
/// up to `Verifier.usageFlushMilliseconds`, then written with a later group or, on a quiet
/// stream, alone.
///
/// With a `slice` (`serve`), what was held when it came due is written that many keys a
/// transaction, in id order, while counts arriving meanwhile are held for their own second. No
/// transaction carries a thousand keys' counts (12 ms that every waiting request waited too), and
/// no key waits behind keys that keep coming: what came due is written within
/// keys ÷ `slice` transactions. Without one (`verify --batch`), everything due is written at once.
struct HeldUsage {
  /// What one transaction writes (`toWrite`), and what `wrote` then forgets.
  struct Batch {
    let usage: UsageCounter
    /// The positions in `order` written; nil: everything held.
    fileprivate let keys: Range<Int>?
  }

  let slice: Int?
  /// Counts since the last came due.
  private var held = UsageCounter()
  private var heldSince: Int64 = 0
  /// Counts that came due and are not yet written; their keys in id order, `next` the first
  /// unwritten.
  private var draining = UsageCounter()
  private var order: [String] = []
  private var next = 0

  init(slice: Int?) { self.slice = slice }

  /// Milliseconds until counts are due (0 or less: now); nil when none is held.
  func due(now: Int64) -> Int64? {
    if next < order.count { return 0 }
    return held.isEmpty ? nil : heldSince + Verifier.usageFlushMilliseconds - now
  }

  /// What the next transaction writes; nil when nothing is due. `all`: everything held, due or
  /// not (a stream's end).
  mutating func toWrite(all: Bool, now: Int64) -> Batch? {
    if !all {
      guard let d = due(now: now), d <= 0 else { return nil }
    }
    guard let slice, !all else {
      var everything = draining
      everything.merge(held)
      return everything.isEmpty ? nil : Batch(usage: everything, keys: nil)
    }
    if next == order.count {
      draining = held
      held = UsageCounter()
      order = draining.keyIDs.sorted()
      next = 0
    }
    let keys = next..<min(next + slice, order.count)
    return Batch(usage: draining.only(order[keys]), keys: keys)
  }

  /// After the commit that wrote `batch` (the last `toWrite`'s).
  mutating func wrote(_ batch: Batch) {
    guard let keys = batch.keys else {
      held.removeAll()
      draining = UsageCounter()
      order = []
      next = 0
      return
    }
    draining.remove(order[keys])
    next = keys.upperBound
    if next == order.count {
      order = []
      next = 0
    }
  }

  /// Holds a committed group's counts.
  mutating func add(_ group: UsageCounter, now: Int64) {
    if held.isEmpty { heldSince = now }
    held.merge(group)
  }
}
