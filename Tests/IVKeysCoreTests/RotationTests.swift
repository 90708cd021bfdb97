import Foundation
import Testing

@testable import IVKeysCore

@Suite("rotation and rotation policy")
struct RotationTests {
  @Test func aStoredRateLimitThatCannotBeReadFailsTheRotationInsteadOfBeingDropped() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var draft = KeyDraft(company: "acme", name: "k", scopes: ["jobs:read"])
    draft.rateLimit = try RateLimit.parse("100/m")
    let made = try v.createKeys(draft).template
    try v.testDB.run("UPDATE keys SET rate_limit = '100 per fortnight' WHERE id = ?", [.text(made.id)])
    try v.resealForTest(made.id)
    do {
      _ = try v.rotateKey(made.id, grace: 3600)
      Issue.record("rotating a key whose rate limit cannot be read must fail")
    } catch {
      #expect(error.description.contains("rate limit '100 per fortnight' cannot be read"))
      #expect(error.hint?.contains("--rate-limit") == true)
    }
    // Nothing changed: no new key, the old one still active.
    var count = 0
    try v.listKeys(KeyFilter()) { _ in count += 1 }
    #expect(count == 1)
    #expect(try v.resolve(made.id).status == .active)
  }

  @Test func aReadableRateLimitIsCarriedOver() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var draft = KeyDraft(company: "acme", name: "k", scopes: ["jobs:read"])
    draft.rateLimit = try RateLimit.parse("100/m")
    let made = try v.createKeys(draft).template
    let rotation = try v.rotateKey(made.id, grace: 3600)
    #expect(rotation.new.record.rateLimit == made.rateLimit)
    #expect(try v.resolve(rotation.new.key.id).rateLimit == made.rateLimit)
  }

  @Test func rotationDueWithinListsKeysAboutToBeDueWithTheirDueDate() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let t0 = Time.now()
    v.now = { t0 }
    let writer = try v.createKeys(KeyDraft(company: "acme", name: "w", scopes: ["jobs:write"])).template
    let reader = try v.createKeys(KeyDraft(company: "acme", name: "r", scopes: ["jobs:read"])).template
    let day: Int64 = 86400
    v.now = { t0 + 85 * day }  // the writer is due at 90 days, the reader at 180
    #expect(try v.rotationDue().isEmpty)
    let soon = try v.rotationDue(within: 7 * day)
    #expect(soon.map(\.record.id) == [writer.id])
    #expect(soon.first?.dueAt == writer.createdAt + 90 * day)
    #expect(soon.first?.overdue == -5 * day)
    #expect(try v.rotationDue(within: 4 * day).isEmpty)
    #expect(try v.rotationDue(within: 96 * day).map(\.record.id) == [writer.id, reader.id])
  }
}
