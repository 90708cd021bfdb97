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
      #expect(error.description.contains("limits '100 per fortnight' cannot be read"))
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

  @Test func aSuspendedKeyRotatesStaysSuspendedAndIsRevokedWhenTheGraceEnds() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let t0 = Time.now()
    v.now = { t0 }
    var draft = KeyDraft(company: "acme", name: "k", scopes: ["jobs:read"])
    draft.rateLimit = try RateLimit.parse("100/m")
    let made = try v.createKeys(draft).template
    _ = try v.changeStatus(made.id, .suspend, reason: "leaked in a log")
    let rotation = try v.rotateKey(made.id, grace: 3600)
    #expect(rotation.new.record.status == .active)
    #expect(try v.resolve(rotation.new.key.id).status == .active)
    #expect(try v.resolve(rotation.new.key.id).rateLimit == "100/m")
    let old = try v.resolve(made.id)
    #expect(old.status == .suspended && old.storedStatus == .suspended)
    #expect(old.replacedBy == rotation.new.key.id)
    #expect(old.graceUntil == t0 + 3600)
    #expect(old.statusReason?.hasPrefix("leaked in a log; rotated, revoked at ") == true)
    // Once rotated it cannot be rotated again.
    #expect(throws: IVKeysError.self) { try v.rotateKey(made.id, grace: 3600) }

    // Time passes: the effective status says revoked before sweep records it.
    v.now = { t0 + 3599 }
    #expect(try v.resolve(made.id).status == .suspended)
    #expect(try v.sweep(dryRun: true).swept.isEmpty)
    v.now = { t0 + 3600 }
    #expect(try v.resolve(made.id).status == .revoked)
    var revoked = KeyFilter()
    revoked.status = .revoked
    var listed = [String]()
    try v.listKeys(revoked) { listed.append($0.id) }
    #expect(listed == [made.id], "list --status revoked agrees")
    let swept = try v.sweep().swept
    #expect(swept.map(\.record.id) == [made.id])
    #expect(swept.first?.newStatus == .revoked && swept.first?.previousStatus == .suspended)
    #expect(try v.resolve(made.id).storedStatus == .revoked)
    #expect(try v.sweep().swept.isEmpty)
  }

  @Test func aKeyRotatedWhileSuspendedResumesAsRotating() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let made = try v.createKeys(KeyDraft(company: "acme", name: "k", scopes: ["jobs:read"])).template
    _ = try v.changeStatus(made.id, .suspend, reason: "check")
    let rotation = try v.rotateKey(made.id, grace: 3600)
    let (resumed, changed) = try v.changeStatus(made.id, .resume, reason: nil)
    #expect(changed)
    #expect(resumed.status == .rotating, "valid until its grace ends, never active beside its replacement")
    #expect(resumed.replacedBy == rotation.new.key.id)
    #expect(resumed.statusReason?.hasPrefix("rotated; valid until ") == true)
  }

  @Test func aSuspendedKeyPastItsExpiryIsNotRotatedIntoAnExpiredKey() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let t0 = Time.now()
    v.now = { t0 }
    var draft = KeyDraft(company: "acme", name: "k", scopes: ["jobs:read"])
    draft.expiresAt = t0 + 60
    let made = try v.createKeys(draft).template
    _ = try v.changeStatus(made.id, .suspend, reason: "check")
    v.now = { t0 + 120 }
    #expect(try v.resolve(made.id).status == .suspended)
    do {
      _ = try v.rotateKey(made.id, grace: 3600)
      Issue.record("a rotation into an expired key must fail")
    } catch {
      #expect(error.description.contains("cannot be rotated: it expired at"))
    }
    var count = 0
    try v.listKeys(KeyFilter()) { _ in count += 1 }
    #expect(count == 1)
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
