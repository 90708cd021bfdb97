import Foundation
import Testing

@testable import IVKeysCore

/// Idle keys, the credential report and the hourly usage view, with a clock the test controls:
/// the boundaries are exact to the second.
@Suite("idle keys, credential report and hourly usage in the library")
struct IdleKeyTests {
  static let start: Timestamp = 1_800_000_000
  static let day: Int64 = 86400

  func key(_ v: Vault, scopes: [String] = ["jobs:read"], type: KeyType = .regular) throws -> APIKey {
    var draft = KeyDraft(company: "acme", name: "n", scopes: scopes)
    draft.type = type
    if type == .ats { draft.linkedCompanies = ["acme"] }
    return try v.createKeys(draft).keys[0]
  }

  /// Imports one gateway request for `key` at `at`.
  func use(_ v: Vault, _ key: APIKey, at: Timestamp, status: Int = 200, ip: String = "192.0.2.1", id: String) throws {
    let line =
      "{\"request_id\":\"\(id)\",\"key_id\":\"\(key.id)\",\"endpoint\":\"GET /x\",\"status\":\(status),\"at\":\"\(Time.rfc3339(at))\",\"ip\":\"\(ip)\"}"
    let r = try v.importUsage(lines: [line])
    #expect(r.imported == 1)
  }

  func unused(_ v: Vault, for d: Int64) throws -> [String] {
    var f = KeyFilter()
    f.unusedFor = d
    var ids = [String]()
    try v.listKeys(f) { ids.append($0.id) }
    return ids
  }

  @Test func unusedForIsStrictlyMoreThanTheDuration() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var clock = Self.start
    v.now = { clock }
    let used = try key(v)
    let never = try key(v)
    try use(v, used, at: Self.start + 100, id: "r1")
    clock = Self.start + 10 * Self.day
    #expect(try unused(v, for: 10 * Self.day).isEmpty, "created exactly 10 days ago: not more than")
    clock += 1
    #expect(try unused(v, for: 10 * Self.day) == [never.id])
    clock = Self.start + 100 + 10 * Self.day
    #expect(try unused(v, for: 10 * Self.day) == [never.id], "last used exactly 10 days ago")
    clock += 1
    #expect(try unused(v, for: 10 * Self.day) == [used.id, never.id])
  }

  @Test func sweepIdleHasTheSameBoundaryAndLeavesOthersAlone() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var clock = Self.start
    v.now = { clock }
    let a = try key(v)
    let b = try key(v)
    let ats = try key(v, type: .ats)
    try use(v, b, at: Self.start + 5, id: "r1")
    let policy = IdlePolicy(idleFor: 30 * Self.day, text: "30d", action: .suspend)
    clock = Self.start + 30 * Self.day
    #expect(try v.sweep(idle: policy).swept.isEmpty)
    clock += 1
    // A non-administrator's sweep (cron) leaves the ATS key alone.
    let other = try reopen(dir)
    other.now = { clock }
    let dry = try other.sweep(dryRun: true, idle: policy)
    #expect(dry.swept.map(\.record.id) == [a.id])
    #expect(dry.skippedATS.map(\.id) == [ats.id])
    #expect(try v.resolve(a.id).status == .active, "a dry run changes nothing")
    let result = try other.sweep(idle: policy)
    #expect(result.swept.map(\.record.id) == [a.id])
    #expect(result.swept.first?.idle?.since == Self.start)
    #expect(result.swept.first?.newStatus == .suspended)
    #expect(result.skippedATS.map(\.id) == [ats.id])
    #expect(try v.resolve(a.id).storedStatus == .suspended)
    #expect(try v.resolve(a.id).statusReason == "unused for 30d")
    #expect(try v.resolve(ats.id).status == .active)
    // The administrator's sweep takes it; b is idle 5 seconds later.
    clock += 5
    let admin = try v.sweep(idle: policy)
    #expect(admin.swept.map(\.record.id) == [b.id, ats.id])
    #expect(admin.skippedATS.isEmpty)
    // Revoking takes suspended idle keys too.
    let revoke = try v.sweep(idle: IdlePolicy(idleFor: 30 * Self.day, text: "30d", action: .revoke))
    #expect(revoke.swept.map(\.record.id) == [a.id, b.id, ats.id])
    #expect(revoke.swept.allSatisfy { $0.newStatus == .revoked && $0.previousStatus == .suspended })
  }

  @Test func sweepPrunesBucketsOlderThanTheRetention() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var clock = Self.start
    v.now = { clock }
    let k = try key(v)
    try use(v, k, at: Self.start, id: "r1")
    try use(v, k, at: Self.start + 3600, id: "r2")
    clock = Self.start + 90 * Self.day
    #expect(try v.sweep(dryRun: true).pruned.total == 0)
    #expect(try v.sweep().pruned.total == 0, "exactly 90 days: kept")
    clock += 3600
    let pruned = try v.sweep().pruned
    #expect(pruned.hours == 1 && pruned.total == 1)
    var left = [Int64]()
    try v.store.forEachHourlyBucket(fromHour: 0, keyID: k.id) { left.append($0.hour) }
    #expect(left == [Self.start / 3600 + 1])
  }

  @Test func reportRowsCountWholeDaysAndTheRotationPolicy() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var clock = Self.start
    v.now = { clock }
    let read = try key(v)
    let write = try key(v, scopes: ["jobs:write"])
    try use(v, read, at: Self.start + Self.day, id: "r1")
    try use(v, read, at: Self.start + Self.day, status: 500, id: "r2")
    try use(v, read, at: Self.start + Self.day, status: 404, ip: "2001:db8::5", id: "r3")
    clock = Self.start + 3 * Self.day - 1
    var rows = [CredentialReportRow]()
    try v.credentialReport(KeyFilter()) { rows.append($0) }
    #expect(rows.map(\.id) == [read.id, write.id])
    #expect(rows[0].ageDays == 2 && rows[0].idleDays == 1)
    #expect(rows[0].requests == 3 && rows[0].errors == 2)
    #expect(rows[0].errorRate == 2.0 / 3.0)
    #expect(rows[0].rotationDueAt == Self.start + 180 * Self.day)
    #expect(rows[1].errorRate == nil && rows[1].idleDays == 2 && rows[1].lastUsedAt == nil)
    #expect(rows[1].rotationDueAt == Self.start + 90 * Self.day)
    _ = try v.changeStatus(write.id, .revoke, reason: "r")
    rows = []
    try v.credentialReport(KeyFilter()) { rows.append($0) }
    #expect(rows[1].rotationDueAt == nil && rows[1].status == "revoked")
  }

  @Test func hourlyUsageIsTheLast24ClockHoursWithZeros() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let hour: Int64 = 500_000
    var clock = hour * 3600
    v.now = { clock }
    let k = try key(v)
    try use(v, k, at: clock - 24 * 3600, id: "too-old")
    try use(v, k, at: clock - 23 * 3600, id: "first")
    try use(v, k, at: clock + 10, status: 503, id: "last")
    clock += 59
    let r = try v.usage(k.id, top: 5)
    #expect(r.hourly.map(\.hour) == Array((hour - 23)...hour))
    #expect(r.hourly.first?.requests == 1 && r.hourly.last?.requests == 1 && r.hourly.last?.errors == 1)
    #expect(r.hourly.dropFirst().dropLast().allSatisfy { $0.requests == 0 })
    #expect(r.addresses.map(\.requests) == [3])
  }

  @Test func sortParsesFieldsAliasesAndDirection() throws {
    #expect(try KeySort.parse("request_count") == KeySort(.requestCount))
    #expect(try KeySort.parse("-requests") == KeySort(.requestCount, descending: true))
    #expect(try KeySort.parse("last_used") == KeySort(.lastUsedAt))
    #expect(try KeySort.parse("-expires") == KeySort(.expiresAt, descending: true))
    #expect(throws: ValueError.self) { try KeySort.parse("--name") }
    #expect(throws: ValueError.self) { try KeySort.parse("Name") }
    #expect(throws: ValueError.self) { try KeySort.parse("") }
  }
}
