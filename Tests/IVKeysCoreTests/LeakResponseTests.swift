import Foundation
import Testing

@testable import IVKeysCore

/// `Vault.respondToLeaks`: the decision for each status and action, known answers.
@Suite("leak response")
struct LeakResponseTests {
  /// A key in each state, found once each.
  func keys(_ v: Vault) throws -> (active: KeyRecord, suspended: KeyRecord, rotating: KeyRecord, revoked: KeyRecord) {
    func make() throws -> KeyRecord {
      try v.createKeys(KeyDraft(company: "acme", name: "k", scopes: ["jobs:read"])).template
    }
    let active = try make()
    let suspended = try make()
    _ = try v.changeStatus(suspended.id, .suspend, reason: "paused")
    let rotating = try make()
    _ = try v.rotateKey(rotating.id, grace: 3600)
    let revoked = try make()
    _ = try v.changeStatus(revoked.id, .revoke, reason: "gone")
    return (
      try v.resolve(active.id), try v.resolve(suspended.id), try v.resolve(rotating.id), try v.resolve(revoked.id)
    )
  }

  func found(_ ids: [String]) -> [LeakResponse.LeakedKey] {
    ids.map { LeakResponse.LeakedKey(keyID: $0, env: .live, locations: ["f:1"]) }
  }

  @Test(
    arguments: [
      (nil, ["reported", "reported", "reported", "not_live", "unknown"]),
      ("suspend", ["suspended", "reported", "reported", "not_live", "unknown"]),
      ("rotate", ["rotated", "rotated", "reported", "not_live", "unknown"]),
      ("revoke", ["revoked", "revoked", "revoked", "not_live", "unknown"]),
    ] as [(String?, [String])])
  func eachStatusAndAction(action: String?, expected: [String]) throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let k = try keys(v)
    let ids = [k.active.id, k.suspended.id, k.rotating.id, k.revoked.id, String(repeating: "A", count: 32)]
    let a = action.flatMap(LeakResponse.Action.init(rawValue:))
    let dry = try v.respondToLeaks(found(ids), action: a, reason: "r", dryRun: true, confirmed: false)
    #expect(dry.map(\.outcome.rawValue) == expected)
    let results = try v.respondToLeaks(found(ids), action: a, reason: "r", dryRun: false, confirmed: true)
    #expect(results.map(\.outcome.rawValue) == expected)
    // A blocked action is said, and the key still recorded.
    #expect((results[2].note != nil) == (action == "suspend" || action == "rotate"))
    // Twice: nothing new.
    let again = try v.respondToLeaks(found(ids), action: a, reason: "r", dryRun: false, confirmed: true)
    #expect(
      again.map(\.outcome.rawValue) == ["already_handled", "already_handled", "already_handled", "not_live", "unknown"])
    #expect(again.allSatisfy { !$0.recorded && $0.rotation == nil })
  }

  @Test func refusedWithoutConfirmationChangesNothing() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let k = try keys(v)
    let before = try v.testDB.scalarInt("SELECT count(*) FROM audit")
    #expect(throws: IVKeysError.self) {
      try v.respondToLeaks(
        found([k.active.id, k.suspended.id]), action: .revoke, reason: "r", dryRun: false, confirmed: false)
    }
    #expect(try v.testDB.scalarInt("SELECT count(*) FROM audit") == before)
    #expect(try v.resolve(k.active.id).status == .active)
    // One key to act on needs no confirmation; report-only never does.
    _ = try v.respondToLeaks(
      found([k.active.id, k.suspended.id]), action: nil, reason: "r", dryRun: false, confirmed: false)
  }

  @Test func aKeyRevokedThroughAnotherConnectionIsDecidedInsideTheTransaction() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let k = try v.createKeys(KeyDraft(company: "acme", name: "k", scopes: ["jobs:read"])).template
    let planned = try v.respondToLeaks(found([k.id]), action: .revoke, reason: "r", dryRun: true, confirmed: false)
    #expect(planned.first?.outcome == .revoked)
    _ = try reopen(dir).changeStatus(k.id, .revoke, reason: "someone else")
    let r = try v.respondToLeaks(found([k.id]), action: .revoke, reason: "r", dryRun: false, confirmed: false)
    #expect(r.first?.outcome == .notLive && r.first?.recorded == false)
    #expect(try v.resolve(k.id).statusReason == "someone else")
  }
}
