import Foundation
import Testing

@testable import IVKeysCore

@Suite("verification in the library")
struct VerificationTests {
  @Test func theAuthorizationHeaderIsReadStrictly() {
    let key = "sk_live_abc"
    #expect(PresentedKey.extract(key) == .key(key))
    #expect(PresentedKey.extract("  \(key)\r\n") == .key(key))
    #expect(PresentedKey.extract("Bearer \(key)") == .key(key))
    #expect(PresentedKey.extract("bEaReR\t\(key)") == .key(key))
    #expect(PresentedKey.extract("Authorization: Bearer \(key)") == .key(key))
    #expect(PresentedKey.extract("AUTHORIZATION:Bearer   \(key)  ") == .key(key))
    for bad in [
      "", " \n", "Basic abc", "Authorization: Basic abc", "Authorization:", "Authorization: Bearer",
      "Bearer a b", "Token \(key)", "X-Api-Key: \(key)",
    ] {
      if case .key = PresentedKey.extract(bad) { Issue.record("accepted \(bad)") }
    }
  }

  @Test func decisionCodesMapToSpecStatusesAndExitCodes() {
    let table: [(DecisionCode, Int, Int32)] = [
      (.ok, 200, 0), (.malformedKey, 401, 10), (.unknownKey, 401, 10), (.revoked, 401, 10), (.suspended, 401, 10),
      (.expired, 401, 10), (.wrongEnvironment, 401, 10), (.wrongCompany, 403, 11), (.insufficientScope, 403, 11),
      (.ipNotAllowed, 403, 11), (.rateLimited, 429, 12),
    ]
    for (code, status, exit) in table {
      #expect(code.httpStatus == status, "\(code)")
      #expect(code.exitCode == exit, "\(code)")
    }
    #expect(DecisionCode.rateLimited.rawValue == "rate_limited")
    #expect(DecisionCode.malformedKey.rawValue == "malformed_key")
  }

  func vault() throws -> (Vault, URL) { try makeTestVault() }

  @Test func theRateWindowSlidesAndRetryAfterCountsDown() throws {
    let (v, dir) = try vault()
    defer { try? FileManager.default.removeItem(at: dir) }
    // 50 s into a clock minute: a fixed window would start afresh 10 s from now.
    var ms: Int64 = (1_800_000_000 - (1_800_000_000 % 60) + 50) * 1000
    v.now = { ms / 1000 }
    v.nowMilliseconds = { ms }
    var draft = KeyDraft(company: "acme", name: "n", scopes: ["jobs:read"])
    draft.rateLimit = RateLimit(count: 2, window: 60)
    let key = try v.createKeys(draft).keys[0]
    let verifier = try Verifier(vault: v)
    func ask() throws -> Decision {
      try verifier.decide([VerifyRequest(presented: key.string, company: "acme", scope: "jobs:read", env: .live)])[0]
    }
    let first = try ask()
    #expect(first.code == .ok)
    #expect(first.rateLimit == RateLog.State(limit: 2, remaining: 1, reset: 61))
    ms += 20_000
    #expect(try ask().rateLimit?.remaining == 0)
    let limited = try ask()
    #expect(limited.code == .rateLimited)
    #expect(limited.retryAfter == 41, "the first request leaves the window 60 s after it, 40.001 s from now")
    #expect(limited.rateLimit == RateLog.State(limit: 2, remaining: 0, reset: 41))
    ms += 10_000  // a new clock minute: a fixed window would let two more through here
    #expect(try ask().code == .rateLimited)
    ms += 30_000  // exactly 60 s after the first: still inside the closed window
    #expect(try ask().code == .rateLimited)
    ms += 1
    #expect(try ask().code == .ok)
    // A second verifier (another process) sees the same log through the vault.
    let other = try Verifier(vault: try reopen(dir))
    other.vault.now = { ms / 1000 }
    other.vault.nowMilliseconds = { ms }
    #expect(
      try other.decide([VerifyRequest(presented: key.string, company: "acme", scope: "jobs:read", env: .live)])[0].code
        == .rateLimited, "the other process counts the two requests of the last 60 s")
    // A refusal before the limit reports the window without using it.
    let refused = try verifier.decide([
      VerifyRequest(presented: key.string, company: "acme", scope: "jobs:write", env: .live)
    ])[0]
    #expect(refused.code == .insufficientScope)
    #expect(refused.rateLimit?.remaining == 0)
  }

  @Test func aBudgetIsSpentOnlyByAllowedRequestsAndRefillsDaily() throws {
    let (v, dir) = try vault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var clock: Timestamp = 1_800_000_000
    v.now = { clock }
    v.nowMilliseconds = { clock * 1000 }
    var draft = KeyDraft(company: "acme", name: "n", scopes: ["jobs:read"])
    draft.budget = RequestBudget(max: 3, refillPerDay: 2)
    let made = try v.createKeys(draft).keys[0]
    var verifier = try Verifier(vault: v)
    func ask(_ scope: String = "jobs:read") throws -> Decision {
      try verifier.decide([VerifyRequest(presented: made.string, company: "acme", scope: scope, env: .live)])[0]
    }
    #expect(try ask("jobs:write").code == .insufficientScope)
    #expect(try ask().requestsRemaining == 2)
    #expect(try ask().requestsRemaining == 1)
    #expect(try ask().requestsRemaining == 0)
    let spent = try ask()
    #expect(spent.code == .usageExhausted)
    #expect(spent.code.httpStatus == 429)
    #expect(spent.retryAfter == 86_400)
    #expect(try v.requestsRemaining(try v.resolve(made.id)) == 0)
    clock += 86_400 + 5
    #expect(try v.requestsRemaining(try v.resolve(made.id)) == 2, "one day's refill")
    #expect(try ask().code == .ok)
    #expect(try ask().code == .ok)
    #expect(try ask().code == .usageExhausted)
    clock += 10 * 86_400
    #expect(try v.requestsRemaining(try v.resolve(made.id)) == 3, "never above the budget")
    // Setting the budget anew starts it whole.
    var changes = KeyChanges()
    changes.budget = .set(RequestBudget(max: 1))
    let updated = try v.updateKey(made.id, changes)
    #expect(updated.changed.contains("max_requests"))
    // (A change made by another process empties a verifier's caches; here it is the same one.)
    verifier = try Verifier(vault: v)
    #expect(try ask().code == .ok)
    #expect(try ask().code == .usageExhausted)
    #expect(try ask().retryAfter == nil, "no refill: no time to wait for")
  }

  @Test func expiryIsDecidedWithoutASweep() throws {
    let (v, dir) = try vault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var clock: Timestamp = 1_800_000_000
    v.now = { clock }
    var draft = KeyDraft(company: "acme", name: "n", scopes: ["jobs:read"])
    draft.expiresAt = clock + 100
    let key = try v.createKeys(draft).keys[0]
    let verifier = try Verifier(vault: v)
    let request = VerifyRequest(presented: key.string, company: "acme", scope: "jobs:read", env: .live)
    #expect(try verifier.decide([request])[0].code == .ok)
    clock += 100
    #expect(try verifier.decide([request])[0].code == .expired)
  }

  /// The reasons the audit log gives for `auth.failed` decisions, oldest first.
  func failureReasons(_ v: Vault) throws -> [String] {
    var filter = AuditFilter()
    filter.events = ["auth.failed"]
    var reasons = [String]()
    try v.auditEntries(filter) { entry in
      let detail = try? JSON.parse(entry.detail)
      if case .object(let members)? = detail, let (_, reason) = members.first(where: { $0.0 == "reason" }),
        case .string(let text) = reason
      {
        reasons.append(text)
      } else {
        reasons.append("")
      }
    }
    return reasons
  }

  @Test func aKeyOfTheOtherEnvironmentIsWrongEnvironment() throws {
    let (v, dir) = try vault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var draft = KeyDraft(company: "acme", name: "n", scopes: ["jobs:read"])
    draft.env = .test
    let key = try v.createKeys(draft).keys[0]
    let verifier = try Verifier(vault: v)
    func ask(_ env: KeyEnvironment) throws -> Decision {
      try verifier.decide([VerifyRequest(presented: key.string, company: "acme", scope: "jobs:read", env: env)])[0]
    }
    #expect(try ask(.test).code == .ok)
    let refused = try ask(.live)
    #expect(refused.code == .wrongEnvironment)
    #expect(refused.message == "a test key cannot be used in live")
  }

  /// ivkeys never writes a row whose env differs from its key's prefix; someone who can write the
  /// vault could, to let a leaked test key into production. The key is then unknown, and the
  /// audit entry says why.
  @Test func aKeyWhosePrefixNamesAnotherEnvironmentThanItsRowIsRefused() throws {
    let (v, dir) = try vault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var draft = KeyDraft(company: "acme", name: "n", scopes: ["jobs:read"])
    draft.env = .test
    let testKey = try v.createKeys(draft).keys[0]
    draft.env = .live
    let liveKey = try v.createKeys(draft).keys[0]
    #expect(testKey.string.hasPrefix("sk_test_") && liveKey.string.hasPrefix("sk_live_"))
    func ask(_ key: APIKey, _ env: KeyEnvironment) throws -> Decision {
      // A fresh verifier each time: nothing cached from before the row changed.
      try Verifier(vault: v).decide([
        VerifyRequest(presented: key.string, company: "acme", scope: "jobs:read", env: env)
      ])[0]
    }
    #expect(try ask(testKey, .test).code == .ok)
    #expect(try ask(liveKey, .live).code == .ok)

    let db = try v.testDB
    try db.run("UPDATE keys SET env = 'live' WHERE id = ?", [.text(testKey.id)])
    try db.run("UPDATE keys SET env = 'test' WHERE id = ?", [.text(liveKey.id)])
    // Without the secret the change breaks the seals, and verify refuses outright.
    #expect(throws: IVKeysError.self) { try ask(testKey, .live) }
    // Resealed, as only someone holding the secret could: the prefix check still refuses.
    try v.resealForTest(testKey.id)
    try v.resealForTest(liveKey.id)
    let reason = "the key's prefix names a different environment than its row"
    // The test key in production: its row now says live, as the request does.
    for (key, env) in [(testKey, KeyEnvironment.live), (testKey, .test), (liveKey, .test), (liveKey, .live)] {
      let d = try ask(key, env)
      #expect(d.code == .unknownKey, "\(key.env) key asked for in \(env)")
      #expect(d.message == "unknown key", "the answer is the same as for a key the vault lacks")
      #expect(d.keyID == key.id)
      #expect(try failureReasons(v).last == reason)
    }
  }
}

/// A process that opened the vault before another one rotated the secret writes under the new
/// version: its rows are sealed, its digests made and its audit entries chained with it.
@Suite("secret rotation seen by an open vault")
struct FollowRotationTests {
  @Test func aWriteAfterAnotherProcessRotatedUsesTheNewVersion() throws {
    let (early, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let before = try early.createKeys(KeyDraft(company: "acme", name: "a", scopes: ["jobs:read"])).keys[0]
    let rotated = try Vault.open(
      path: dir.path + "/v.db", secretPath: dir.path + "/secret", actor: Actor(osUser: "tester"))
    _ = try rotated.rotateSecret()
    // `early` still holds version 1; its next write follows the rotation.
    let after = try early.createKeys(KeyDraft(company: "acme", name: "b", scopes: ["jobs:read"])).keys[0]
    #expect(early.secretVersion == 2)
    let fresh = try reopen(dir)
    #expect(try fresh.store.brokenSeals(limit: 10).isEmpty)
    #expect(try fresh.verifyAudit().intact)
    for key in [before, after] {
      let d = try Verifier(vault: fresh).decide([
        VerifyRequest(presented: key.string, company: "acme", scope: "jobs:read", env: .live)
      ])[0]
      #expect(d.code == .ok)
    }
  }
}
