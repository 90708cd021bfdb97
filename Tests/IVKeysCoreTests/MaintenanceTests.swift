import Foundation
import Testing

@testable import IVKeysCore

/// Time-driven operations with an injected clock: nothing here waits for time to pass.
@Suite("expiry notices, sweep and rotation policy in the library")
struct MaintenanceTests {
  static let start: Timestamp = 1_800_000_000

  func key(_ v: Vault, expiresIn: Int64? = nil, scopes: [String] = ["jobs:read"], contact: String? = "ops@example.com")
    throws -> APIKey
  {
    var draft = KeyDraft(company: "acme", name: "n", scopes: scopes)
    draft.expiresAt = expiresIn.map { v.now() + $0 }
    draft.contact = contact
    return try v.createKeys(draft).keys[0]
  }

  @Test func aNoticeIsClaimedOnceEvenWhenTwoRunsPlannedIt() throws {
    let (a, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let b = try reopen(dir)
    var clock = Self.start
    a.now = { clock }
    b.now = { clock }
    _ = try key(a, expiresIn: 3 * 86400)
    // Both runs plan before either claims: the claim decides.
    let planA = try a.planNotifications(within: 7 * 86400, from: "keys@example.com", host: "h")
    let planB = try b.planNotifications(within: 7 * 86400, from: "keys@example.com", host: "h")
    #expect(planA.notices.count == 1 && planB.notices.count == 1)
    #expect(try a.claimNotification(planA.notices[0]))
    #expect(try !b.claimNotification(planB.notices[0]))
    // While the claim is fresh, a new plan sees the notice as being sent, not as sent.
    let during = try b.planNotifications(within: 7 * 86400, from: "k@example.com", host: "h")
    #expect(during.inProgress.count == 1 && during.alreadySent.isEmpty && during.notices.isEmpty)
    try a.recordNotification(planA.notices[0])
    clock += 86400
    let later = try b.planNotifications(within: 7 * 86400, from: "k@example.com", host: "h")
    #expect(
      later.notices.isEmpty && later.alreadySent.count == 1 && later.inProgress.isEmpty,
      "sent is sent, however long ago")
    #expect(try a.testDB.scalarInt("SELECT count(*) FROM audit WHERE event = 'notification.sent'") == 1)
  }

  @Test func aRefusedOrAbandonedClaimLetsTheNoticeGoOutLater() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var clock = Self.start
    v.now = { clock }
    _ = try key(v, expiresIn: 3 * 86400)
    let first = try v.planNotifications(within: 7 * 86400, from: "k@example.com", host: "h").notices[0]
    #expect(try v.claimNotification(first))
    try v.releaseNotification(first)  // the mail command refused it
    let second = try v.planNotifications(within: 7 * 86400, from: "k@example.com", host: "h").notices
    #expect(second.count == 1)
    #expect(try v.claimNotification(second[0]))
    // The run that claimed it dies before recording: after the claim lapses another run sends it.
    clock += Vault.notificationClaimSeconds - 1
    #expect(try v.planNotifications(within: 7 * 86400, from: "k@example.com", host: "h").notices.isEmpty)
    clock += 2
    let third = try v.planNotifications(within: 7 * 86400, from: "k@example.com", host: "h").notices
    #expect(third.count == 1)
    #expect(try v.claimNotification(third[0]))
    #expect(try v.testDB.scalarInt("SELECT count(*) FROM audit WHERE event = 'notification.sent'") == 0)
  }

  @Test func theMessageDateFollowsRFC5322() {
    #expect(ExpiryNotice.rfc5322Date(0) == "Thu, 01 Jan 1970 00:00:00 +0000")
    #expect(ExpiryNotice.rfc5322Date(1_795_922_164) == "Sun, 29 Nov 2026 03:16:04 +0000")
    #expect(ExpiryNotice.rfc5322Date(951_782_400) == "Tue, 29 Feb 2000 00:00:00 +0000")
    #expect(ExpiryNotice.hostName("mail.example.com") == "mail.example.com")
    #expect(ExpiryNotice.hostName("evil\r\nBcc: x") == "localhost")
  }

  @Test func sweepFollowsTheClock() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var clock = Self.start
    v.now = { clock }
    let old = try key(v)
    _ = try v.rotateKey(old.id, grace: 3600)
    let short = try key(v, expiresIn: 7200)
    #expect(try v.sweep().swept.isEmpty)
    clock += 3600
    #expect(try v.sweep().swept.map(\.record.id) == [old.id], "the grace ends at grace_until itself")
    #expect(try v.sweep().swept.isEmpty)
    clock += 3600
    let swept = try v.sweep().swept
    #expect(swept.map(\.record.id) == [short.id] && swept[0].newStatus == .expired)
    #expect(try v.resolve(short.id).storedStatus == .expired)
    #expect(try v.sweep(dryRun: true).swept.isEmpty)
  }

  @Test func rotationIsDueAfterTheScopesPeriod() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var clock = Self.start
    v.now = { clock }
    let writer = try key(v, scopes: ["jobs:write"])
    let reader = try key(v, scopes: ["jobs:read"])
    clock += 90 * 86400 - 1
    #expect(try v.rotationDue().isEmpty)
    clock += 1
    #expect(try v.rotationDue().map(\.record.id) == [writer.id])
    clock += 90 * 86400
    let due = try v.rotationDue()
    #expect(due.map(\.record.id) == [writer.id, reader.id])
    #expect(due.map(\.overdue) == [90 * 86400, 0])
  }
}
