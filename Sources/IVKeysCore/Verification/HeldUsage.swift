/// How a stream writes the usage counts of its committed groups (`HeldUsage`): how long they are
/// held, how many keys' counts one transaction writes, and over how long those transactions are
/// spread.
public struct UsagePacing: Sendable {
  /// Milliseconds counts are held before they come due.
  public let holdMilliseconds: Int64
  /// Keys' counts one transaction writes; nil: everything due at once (and no spread).
  public let slice: Int?
  /// Milliseconds over which the slices of what came due are spread (0: one after another).
  public let spreadMilliseconds: Int64

  /// A spread no longer than the hold: counts arriving while the slices are written wait for
  /// the last of them, so a longer spread would hold them longer than their hold.
  public init(holdMilliseconds: Int64, slice: Int? = nil, spreadMilliseconds: Int64 = 0) {
    precondition(
      holdMilliseconds >= 0 && (slice ?? 1) > 0, "a usage pacing needs a hold and a slice of one key or more")
    precondition(
      spreadMilliseconds >= 0 && spreadMilliseconds <= holdMilliseconds, "a usage pacing spreads within its hold")
    self.holdMilliseconds = holdMilliseconds
    self.slice = slice
    self.spreadMilliseconds = spreadMilliseconds
  }

  /// `verify --batch`: a second's counts, written at once when due. Measured on `make bench`'s
  /// stream (100,000 decisions over 1,000 keys from 1,000 addresses, nearly every key and address
  /// pair new): writing the buckets with every group made the stream about 60 % slower than
  /// before monitoring (each group's commit wrote and synced a page of the bucket table for most
  /// of its decisions), holding them a second about 25 %; with 3 addresses a key, as behind a
  /// gateway, about 5 %.
  public static let stream = UsagePacing(holdMilliseconds: 1000)

  /// `serve`: three seconds' counts, written 32 keys a transaction over the next two seconds.
  /// Each key's counts touch three pages at random places in the vault (its row, its endpoint and
  /// its bucket), which the WAL, the checkpoint and both their syncs then carry; a thousand keys'
  /// counts written at once took 12 ms that every waiting request waited too, and the syncs of
  /// those pages slowed the syncs of the decisions answered after them. On `make bench`'s serve
  /// load (1,000 keys) wrk's p99 went from 6–8 ms (a second, slices one after another) to about
  /// 3.5 ms; with 4,000 keys, from 21 ms to 6–7.
  public static let serve = UsagePacing(holdMilliseconds: 3000, slice: 32, spreadMilliseconds: 2000)
}

/// Usage counts of a stream's committed groups not yet written (`Verifier` in batch mode): held
/// for the pacing's hold, then written with a later group or, on a quiet stream, alone.
///
/// With a slice (`serve`), what was held when it came due is written that many keys a
/// transaction, in id order, the transactions spread over the pacing's spread, while counts
/// arriving meanwhile are held for their own hold (or until the last slice, if that is later:
/// a write that failed is retried a second later). No transaction carries a thousand keys'
/// counts, no burst of them slows the syncs around it, and no key waits behind keys that keep
/// coming: what came due is written within the spread, each slice with a group or, on a quiet
/// stream, alone. Without one (`verify --batch`), everything due is written at once.
struct HeldUsage {
  /// What one transaction writes (`toWrite`), and what `wrote` then forgets.
  struct Batch {
    let usage: UsageCounter
    /// The positions in `order` written; nil: everything held.
    fileprivate let keys: Range<Int>?
  }

  let pacing: UsagePacing
  /// Counts since the last came due.
  private var held = UsageCounter()
  private var heldSince: Int64 = 0
  /// Counts that came due and are not yet written; their keys in id order, `next` the first
  /// unwritten.
  private var draining = UsageCounter()
  private var order: [String] = []
  private var next = 0
  /// When the first slice of the counts being written was taken.
  private var drainStart: Int64 = 0

  init(pacing: UsagePacing) { self.pacing = pacing }

  /// Milliseconds until counts are due (0 or less: now); nil when none is held. While counts
  /// that came due are written in slices, the next slice's time.
  func due(now: Int64) -> Int64? {
    if next < order.count, let slice = pacing.slice {
      let slices = (order.count + slice - 1) / slice
      return drainStart + Int64(next / slice) * pacing.spreadMilliseconds / Int64(slices) - now
    }
    return held.isEmpty ? nil : heldSince + pacing.holdMilliseconds - now
  }

  /// What the next transaction writes; nil when nothing is due. `all`: everything held, due or
  /// not (a stream's end).
  mutating func toWrite(all: Bool, now: Int64) -> Batch? {
    if !all {
      guard let d = due(now: now), d <= 0 else { return nil }
    }
    guard let slice = pacing.slice, !all else {
      var everything = draining
      everything.merge(held)
      return everything.isEmpty ? nil : Batch(usage: everything, keys: nil)
    }
    if next == order.count {
      draining = held
      held = UsageCounter()
      order = draining.keyIDs.sorted()
      next = 0
      drainStart = now
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
