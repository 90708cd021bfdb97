import Foundation
import Testing

@testable import IVKeysCore

/// The monitoring data (SPEC "Monitoring"): hourly buckets per key and per key and source address,
/// written by every decision and imported line, with the decision's own transaction.
@Suite("usage buckets")
struct UsageBucketTests {
  /// A vault with one key allowing 10.0.0.0/8, its clock at `start`.
  func setUp(_ start: Timestamp) throws -> (Vault, URL, APIKey) {
    let (v, dir) = try makeTestVault()
    v.now = { start }
    var draft = KeyDraft(company: "acme", name: "n", scopes: ["jobs:read"])
    draft.allowedIPs = [try IPRange.parse("10.0.0.0/8"), try IPRange.parse("::ffff:192.0.2.0/120")]
    return (v, dir, try v.createKeys(draft).keys[0])
  }

  func request(_ key: APIKey, ip: String?, scope: String = "jobs:read") throws -> VerifyRequest {
    VerifyRequest(
      presented: key.string, company: "acme", scope: scope, ip: try ip.map { try IPAddress.parse($0) },
      endpoint: "GET /v1/jobs", env: .live)
  }

  func hours(_ v: Vault, _ id: String) throws -> [UsageCounts.Hour] {
    var out = [UsageCounts.Hour]()
    try v.store.forEachHourlyBucket(fromHour: 0, keyID: id) { out.append($0) }
    return out
  }

  func addresses(_ v: Vault, _ id: String) throws -> [UsageCounts.Address] {
    var out = [UsageCounts.Address]()
    try v.store.forEachAddressBucket(fromHour: 0, keyID: id) { out.append($0) }
    return out
  }

  @Test func eachDecisionCountsInItsClockHourAndUnderItsAddress() throws {
    let hour: Int64 = 490_000  // 2025-11-24T16:00Z
    var clock = hour * 3600 + 3598
    let (v, dir, key) = try setUp(clock)
    defer { try? FileManager.default.removeItem(at: dir) }
    v.now = { clock }
    let verifier = try Verifier(vault: v)
    #expect(try verifier.decide([try request(key, ip: "10.1.2.3")])[0].code == .ok)
    clock += 1
    #expect(try verifier.decide([try request(key, ip: "192.168.0.1")])[0].code == .ipNotAllowed)
    clock += 1  // the next hour starts
    // Written as IPv4-mapped IPv6, counted as the IPv4 client it is.
    #expect(try verifier.decide([try request(key, ip: "::ffff:10.1.2.3")])[0].code == .ok)
    #expect(try verifier.decide([try request(key, ip: "10.1.2.3", scope: "jobs:write")])[0].code == .insufficientScope)
    #expect(try verifier.decide([try request(key, ip: nil)])[0].code == .ipNotAllowed)

    #expect(
      try hours(v, key.id) == [
        .init(keyID: key.id, hour: hour, requests: 2, errors: 1),
        .init(keyID: key.id, hour: hour + 1, requests: 3, errors: 2),
      ])
    let a = try addresses(v, key.id)
    #expect(a.map(\.ip) == ["10.1.2.3", "192.168.0.1", "10.1.2.3"])
    #expect(a.map(\.hour) == [hour, hour, hour + 1])
    #expect(a.map(\.requests) == [1, 1, 2])
    #expect(a.map(\.denied) == [0, 1, 1])
    #expect(a.map(\.refused) == [0, 1, 0], "only ip_not_allowed counts as refused")
    #expect(a[2].firstSeen == hour * 3600 + 3600 && a[2].lastSeen == hour * 3600 + 3600)
    // The key's last use and its address.
    let record = try v.resolve(key.id)
    #expect(record.lastIP == "10.1.2.3")
    #expect(record.errorCount == 3 && record.requestCount == 5)
  }

  @Test func aDecisionThatCannotBeRecordedLeavesNoBucket() throws {
    let (v, dir, key) = try setUp(1_800_000_000)
    defer { try? FileManager.default.removeItem(at: dir) }
    let verifier = try Verifier(vault: v)
    // A second connection holds the write lock: the decision's transaction cannot start.
    let other = try reopen(dir)
    let db = try other.testDB
    try db.execute("BEGIN IMMEDIATE")
    try v.testDB.execute("PRAGMA busy_timeout = 0")
    #expect(throws: IVKeysError.self) { try verifier.decide([try request(key, ip: "10.0.0.1")]) }
    try db.execute("ROLLBACK")
    #expect(try hours(v, key.id).isEmpty)
    #expect(try addresses(v, key.id).isEmpty)
    // Once it can, the same request is recorded in full.
    #expect(try verifier.decide([try request(key, ip: "10.0.0.1")])[0].code == .ok)
    #expect(try hours(v, key.id).map(\.requests) == [1])
    #expect(try addresses(v, key.id).map(\.requests) == [1])
  }

  @Test func aStreamWritesItsBucketsWithItsUsageFlushAndNeverTwice() throws {
    let (v, dir, key) = try setUp(1_800_000_000)
    defer { try? FileManager.default.removeItem(at: dir) }
    let verifier = try Verifier(vault: v, batch: true)
    _ = try verifier.decide([try request(key, ip: "10.0.0.1"), try request(key, ip: "10.0.0.2")])
    _ = try verifier.decide([try request(key, ip: "10.0.0.1")])
    // Held for at most a second, with the totals...
    let other = try reopen(dir)
    #expect(try hours(other, key.id).isEmpty)
    #expect(try other.resolve(key.id).requestCount == 0)
    try verifier.finish()
    // ...then written once, the groups' counts added up.
    #expect(try other.resolve(key.id).requestCount == 3)
    #expect(try hours(other, key.id).map(\.requests) == [3])
    #expect(try addresses(other, key.id).map(\.requests) == [2, 1])
    try verifier.finish()
    #expect(try hours(other, key.id).map(\.requests) == [3], "finishing again counts nothing twice")
  }

  @Test func importedLinesCountByTheirTimeAndAddress() throws {
    let now: Timestamp = 1_800_000_000
    let (v, dir, key) = try setUp(now)
    defer { try? FileManager.default.removeItem(at: dir) }
    func line(_ n: Int, _ status: Int, _ at: Timestamp, _ ip: String?) -> String {
      var s =
        "{\"request_id\":\"r\(n)\",\"key_id\":\"\(key.id)\",\"endpoint\":\"GET /v1/jobs\",\"status\":\(status),"
        + "\"at\":\"\(Time.rfc3339(at))\""
      if let ip { s += ",\"ip\":\"\(ip)\"" }
      return s + "}"
    }
    let day = now - 31 * 86400
    let lines = [
      line(1, 200, day, "203.0.113.7"), line(2, 500, day + 60, "203.0.113.7"), line(3, 403, day + 120, "203.0.113.7"),
      line(4, 200, now - 7200, nil), line(5, 429, now - 7200, "2001:db8::1"), line(1, 200, day, "203.0.113.7"),
      line(6, 200, now, "not-an-ip"),
    ]
    let result = try v.importUsage(lines: lines)
    #expect(result.imported == 5 && result.duplicates == 1 && result.bad == 1)
    #expect(result.badExamples.first?.reason.contains("ip") == true)
    #expect(try hours(v, key.id).map(\.requests) == [3, 2])
    #expect(try hours(v, key.id).map(\.errors) == [2, 1])
    let a = try addresses(v, key.id)
    #expect(a.map(\.ip) == ["203.0.113.7", "2001:db8::1"])
    #expect(a.map(\.requests) == [3, 1])
    #expect(a.map(\.denied) == [1, 1], "a 500 is an error, not a denial")
    #expect(
      try v.store.lastAddressHour(keyID: key.id, ip: "203.0.113.7", before: now / 3600, notBefore: 0) == day / 3600)
    #expect(
      try v.store.lastAddressHour(keyID: key.id, ip: "203.0.113.7", before: now / 3600, notBefore: day / 3600 + 1)
        == nil, "not looked for before notBefore")
    #expect(try v.store.firstTrafficHour(keyID: key.id) == day / 3600)
  }

  @Test func aDayIsItsOldDailyCountPlusItsHours() throws {
    let now: Timestamp = 1_800_000_000
    let (v, dir, key) = try setUp(now)
    defer { try? FileManager.default.removeItem(at: dir) }
    // Counts from before schema 6 stay in usage_daily; new ones are hourly.
    let today = Time.day(now)
    let yesterday = Time.day(now - 86400)
    try v.testDB.run(
      "INSERT INTO usage_daily (key_id, day, count, errors) VALUES (?1, ?2, 4, 1), (?1, ?3, 2, 0)",
      [.text(key.id), .text(today), .text(yesterday)])
    let verifier = try Verifier(vault: v)
    _ = try verifier.decide([try request(key, ip: "10.0.0.1"), try request(key, ip: "10.0.0.1")])
    let report = try v.usage(key.id, top: 5)
    #expect(report.daily.last?.name == today && report.daily.last?.count == 6 && report.daily.last?.errors == 1)
    #expect(report.daily.dropLast().last?.count == 2)
  }

  @Test func migrationSixKeepsTheCountsOfAnOlderVault() throws {
    let (v, dir, key) = try setUp(1_800_000_000)
    defer { try? FileManager.default.removeItem(at: dir) }
    guard let store = v.store as? SQLiteStore else { return }
    // Back to version 5, as a vault made before monitoring, with a day counted the old way.
    try store.write { () throws(IVKeysError) in
      try store.db.execute(
        """
        DROP TABLE usage_hourly; DROP TABLE working_hours; DROP TABLE alert_states;
        ALTER TABLE keys DROP COLUMN last_ip;
        DROP TABLE request_budgets; DROP TABLE rate_windows;
        CREATE TABLE rate_windows (key_id TEXT PRIMARY KEY, window_start INTEGER NOT NULL, count INTEGER NOT NULL)
          WITHOUT ROWID;
        PRAGMA user_version = 5;
        """)
      try store.db.run(
        "INSERT INTO usage_daily (key_id, day, count, errors) VALUES (?, ?, 7, 2)",
        [.text(key.id), .text(Time.day(1_800_000_000))])
      try store.recordSchemaFingerprint()
    }
    let migrated = try reopen(dir)
    migrated.now = { 1_800_000_000 }
    #expect(try migrated.testDB.scalarInt("PRAGMA user_version") == Int64(SQLiteSchema.currentVersion))
    try migrated.store.checkSchemaSeal()
    #expect(try migrated.store.brokenSeals(limit: 5).isEmpty)
    #expect(try migrated.usage(key.id, top: 5).daily.last?.count == 7)
    _ = try Verifier(vault: migrated).decide([try request(key, ip: "10.0.0.1")])
    #expect(try migrated.usage(key.id, top: 5).daily.last?.count == 8)
    #expect(try migrated.verifyAudit().intact)
  }
}
