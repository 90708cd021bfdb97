import Foundation
import Testing

@testable import IVKeysCore

/// A stream's held usage counts (`Verifier` in batch mode with a usage slice, as `serve` runs it)
/// are written a slice of keys at a time, so that no transaction carries a thousand keys' counts;
/// none is lost or written twice on the way, and none waits behind keys that keep coming.
@Suite("held usage")
struct HeldUsageTests {
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
    let verifier = try Verifier(vault: v, batch: true, usageSlice: Verifier.usageFlushKeys)
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
    #expect(first.count == Verifier.usageFlushKeys)
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
    let verifier = try Verifier(vault: v, batch: true, usageSlice: Verifier.usageFlushKeys)
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
    let verifier = try Verifier(vault: v, batch: true, usageSlice: Verifier.usageFlushKeys)
    let first = Array(keys[..<50])
    let others = Array(keys[50...])
    _ = try verifier.decide(first.map(request))
    while let due = verifier.pendingDue, due > 0 { usleep(UInt32(due) * 1000) }
    // Every group brings 50 keys more than a slice holds; the first 50 keys' counts, due, are
    // still written within two groups (32, then 18), not pushed back by the newcomers.
    func firstWritten() throws -> Int { try first.filter { try written(v, $0) == 1 }.count }
    _ = try verifier.decide(others.map(request))
    #expect(try firstWritten() == Verifier.usageFlushKeys)
    _ = try verifier.decide(others.map(request))
    #expect(try firstWritten() == first.count)
    try verifier.finish()
    for key in others { #expect(try written(v, key) == 2) }
  }
}
