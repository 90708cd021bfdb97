import Foundation
import Testing

@testable import IVKeysCore

/// A stream's held usage counts (`Verifier` in batch mode with slices, as `serve` runs it) are
/// written a slice of keys at a time, spread over the pacing's spread, so that no transaction
/// carries a thousand keys' counts and no burst of them slows the syncs around it; none is lost or
/// written twice on the way, and none waits behind keys that keep coming.
@Suite("held usage")
struct HeldUsageTests {
  /// `serve`'s slices, held a second and not spread: what is decided before the hold ends is
  /// held, and each slice is written as soon as a group or `finish` asks.
  let unspread = UsagePacing(holdMilliseconds: 1000, slice: UsagePacing.serve.slice, spreadMilliseconds: 0)
  let slice = UsagePacing.serve.slice!

  func request(_ key: APIKey) -> VerifyRequest {
    VerifyRequest(presented: key.string, company: "acme", scope: "jobs:read", ip: nil, endpoint: nil, env: .live)
  }

  /// The requests a key's hourly buckets hold: written with the rest of a stream's usage counts.
  func written(_ v: Vault, _ key: APIKey) throws -> Int64 {
    var requests: Int64 = 0
    try v.store.forEachHourlyBucket(fromHour: 0, keyID: key.id) { requests += $0.requests }
    return requests
  }

  @Test func aQuietStreamWritesHeldCountsInSlicesAndTheEndWritesTheRest() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let keys = try v.createKeys(KeyDraft(company: "acme", name: "n", scopes: ["jobs:read"]), count: 40).keys
    let verifier = try Verifier(vault: v, batch: true, usage: unspread)
    #expect(try verifier.decide(keys.flatMap { [request($0), request($0)] }).allSatisfy { $0.code == .ok })
    func writtenKeys() throws -> [String: Int64] {
      var out = [String: Int64]()
      for key in keys {
        let n = try written(v, key)
        if n > 0 { out[key.id] = n }
      }
      return out
    }
    // Held, not yet written, and not yet due: nothing to write.
    #expect(try writtenKeys().isEmpty)
    try verifier.finish(all: false)
    #expect(try writtenKeys().isEmpty)
    while let due = verifier.pendingDue, due > 0 { usleep(UInt32(due) * 1000) }

    try verifier.finish(all: false)
    let first = try writtenKeys()
    #expect(first.count == slice)
    #expect(first.values.allSatisfy { $0 == 2 })
    // The rest is still held, and due.
    #expect(verifier.pendingDue != nil)

    try verifier.finish(all: false)
    let all = try writtenKeys()
    #expect(all.count == keys.count)
    #expect(all.values.allSatisfy { $0 == 2 })
    #expect(verifier.pendingDue == nil)
  }

  @Test func aGroupWritesOneSliceOfDueCountsWithItsDecisions() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let keys = try v.createKeys(KeyDraft(company: "acme", name: "n", scopes: ["jobs:read"]), count: 40).keys
    let verifier = try Verifier(vault: v, batch: true, usage: unspread)
    _ = try verifier.decide(keys.map(request))
    // Wait until the held counts are due; then each group writes one slice, the last key's
    // counts (decided again meanwhile) adding up exactly.
    while let due = verifier.pendingDue, due > 0 { usleep(UInt32(due) * 1000) }
    var groups = 0
    while let due = verifier.pendingDue, due <= 0, groups < 10 {
      _ = try verifier.decide([request(keys[39])])
      groups += 1
    }
    #expect(groups == 2)  // 32 keys' counts, then the other 8 keys'; then nothing is due
    try verifier.finish()
    for (i, key) in keys.enumerated() { #expect(try written(v, key) == (i == 39 ? 3 : 1)) }
  }

  @Test func countsThatCameDueAreWrittenWhileNewKeysKeepComing() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let keys = try v.createKeys(KeyDraft(company: "acme", name: "n", scopes: ["jobs:read"]), count: 100).keys
    let verifier = try Verifier(vault: v, batch: true, usage: unspread)
    let first = Array(keys[..<50])
    let others = Array(keys[50...])
    _ = try verifier.decide(first.map(request))
    while let due = verifier.pendingDue, due > 0 { usleep(UInt32(due) * 1000) }
    // Every group brings 50 keys more than a slice holds; the first 50 keys' counts, due, are
    // still written within two groups (32, then 18), not pushed back by the newcomers.
    func firstWritten() throws -> Int { try first.filter { try written(v, $0) == 1 }.count }
    _ = try verifier.decide(others.map(request))
    #expect(try firstWritten() == slice)
    _ = try verifier.decide(others.map(request))
    #expect(try firstWritten() == first.count)
    try verifier.finish()
    for key in others { #expect(try written(v, key) == 2) }
  }
}

/// `HeldUsage` on a clock the test sets: when slices come due, and what each holds.
@Suite("held usage pacing")
struct HeldUsagePacingTests {
  let pacing = UsagePacing(holdMilliseconds: 1000, slice: 32, spreadMilliseconds: 1000)

  /// Counts for `keys`, one request each.
  func counts(_ keys: some Sequence<String>) -> UsageCounter {
    var c = UsageCounter()
    for id in keys { c.count(id, error: false, endpoint: "/v1/jobs", at: 1_800_000_000, ip: "10.0.0.1") }
    return c
  }

  @Test func theSlicesOfWhatCameDueAreSpreadOverTheSpread() {
    var held = HeldUsage(pacing: pacing)
    let keys = (0..<100).map { String(format: "key%03d", $0) }
    held.add(counts(keys), now: 0)
    #expect(held.due(now: 999) == 1)
    #expect(held.toWrite(all: false, now: 999) == nil)
    // Four slices (32, 32, 32, 4 keys), one every 250 ms from the moment they came due.
    var written: [String] = []
    for (i, at) in [1000, 1250, 1500, 1750].enumerated() {
      let t = Int64(at)
      if i > 0 {
        #expect(held.due(now: t - 1) == 1)
        #expect(held.toWrite(all: false, now: t - 1) == nil)
      }
      let batch = held.toWrite(all: false, now: t)
      #expect(batch?.usage.keyIDs.count == (i < 3 ? 32 : 4))
      if let batch {
        written += batch.usage.keyIDs
        held.wrote(batch)
      }
    }
    #expect(written.sorted() == keys)
    #expect(held.due(now: 1750) == nil)
  }

  @Test func countsArrivingWhileSlicesAreWrittenWaitTheirOwnHold() {
    var held = HeldUsage(pacing: pacing)
    held.add(counts((0..<40).map { "a\($0)" }), now: 0)
    let first = held.toWrite(all: false, now: 1000)
    #expect(first?.usage.keyIDs.count == 32)
    if let first { held.wrote(first) }
    // A newcomer during the writing is not in its slices; the second slice is due at 1500.
    held.add(counts(["late"]), now: 1400)
    #expect(held.due(now: 1400) == 100)
    let second = held.toWrite(all: false, now: 1500)
    #expect(second?.usage.keyIDs.count == 8)
    #expect(second?.usage.keyIDs.contains("late") == false)
    if let second { held.wrote(second) }
    // Its own hold: due at 2400.
    #expect(held.due(now: 1500) == 900)
    #expect(held.toWrite(all: false, now: 2399) == nil)
    #expect(held.toWrite(all: false, now: 2400)?.usage.keyIDs == ["late"])
  }

  @Test func theEndWritesEverythingAtOnceWhateverThePacing() throws {
    var held = HeldUsage(pacing: pacing)
    held.add(counts((0..<40).map { "a\($0)" }), now: 0)
    let due = held.toWrite(all: false, now: 1000)
    let first = try #require(due)
    held.wrote(first)
    // A key still waiting for its slice is counted again meanwhile: the end writes both counts.
    let waiting = try #require((0..<40).map { "a\($0)" }.first { !first.usage.keyIDs.contains($0) })
    held.add(counts(["late", waiting]), now: 1100)
    let end = held.toWrite(all: true, now: 1100)
    let rest = try #require(end)
    #expect(rest.usage.keyIDs.count == 9)
    #expect(rest.usage.counts.totals[waiting]?.requests == 2)
    #expect(rest.usage.counts.totals["late"]?.requests == 1)
    held.wrote(rest)
    #expect(held.due(now: 1100) == nil)
    #expect(held.toWrite(all: true, now: 1100) == nil)
  }
}
