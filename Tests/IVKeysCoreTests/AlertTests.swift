import Foundation
import Testing

@testable import IVKeysCore

/// The alert rules (SPEC "Monitoring"), each on the hour it should fire and not on the hours
/// around it, with a clock the tests set.
@Suite("alerts")
struct AlertTests {
  /// 2026-11-30T14:00Z, the hour most tests look at.
  static let hour: Int64 = 1_796_047_200 / 3600

  /// A vault whose clock stands in hour `now`, with one key of company acme.
  func setUp(now: Int64 = hour, allowIPs: [String] = []) throws -> (Vault, URL, APIKey) {
    let (v, dir) = try makeTestVault()
    v.now = { now * 3600 + 1800 }
    var draft = KeyDraft(company: "acme", name: "n", scopes: ["jobs:read"])
    draft.allowedIPs = try allowIPs.map { try IPRange.parse($0) }
    return (v, dir, try v.createKeys(draft).keys[0])
  }

  /// Imports `count` requests of `key` in hour `hour`, the first `errors` of them failed.
  func feed(_ v: Vault, _ key: APIKey, hour: Int64, count: Int, errors: Int = 0, ip: String = "198.51.100.1")
    throws
  {
    let at = Time.rfc3339(hour * 3600 + 60)
    let lines = (0..<count).map { i -> String? in
      let tag = "\(key.id)-\(hour)-\(ip)-\(i)"
      return
        #"{"request_id":"\#(tag)","key_id":"\#(key.id)","endpoint":"GET /v1/jobs","status":\#(i < errors ? 500 : 200),"at":"\#(at)","ip":"\#(ip)"}"#
    }
    let result = try v.importUsage(lines: lines)
    #expect(result.imported == count)
  }

  func alerts(_ v: Vault, _ rule: AlertRule, since: Int64 = 3 * 86400) throws -> [Alert] {
    try v.alerts(AlertQuery(since: since, rules: [rule]))
  }

  @Test func volumeFiresAboveFactorTimesTheMedianAndNotAroundIt() throws {
    let h = Self.hour
    let (v, dir, key) = try setUp(now: h + 2)
    defer { try? FileManager.default.removeItem(at: dir) }
    // The baseline: 20 requests in every sixth hour of the previous week.
    for back in stride(from: Int64(6), through: 7 * 24 - 6, by: 6) { try feed(v, key, hour: h - 1 - back, count: 20) }
    try feed(v, key, hour: h - 1, count: 100)  // 100 is not above 5 x 20
    try feed(v, key, hour: h, count: 101)  // fires
    try feed(v, key, hour: h + 1, count: 99)  // below min_requests
    let found = try alerts(v, .volume)
    #expect(found.map(\.hour) == [h])
    #expect(found.first?.observed == 101 && found.first?.threshold == 100)
    #expect(found.first?.id == "volume:\(key.id):2026-11-30T14")
    #expect(found.first?.company == "acme")
    #expect(found.first?.message.contains("median 20") == true)
  }

  @Test func volumeNeverFiresForAKeyWithNoHistory() throws {
    let (v, dir, key) = try setUp(now: Self.hour)
    defer { try? FileManager.default.removeItem(at: dir) }
    try feed(v, key, hour: Self.hour, count: 500)
    #expect(try alerts(v, .volume).isEmpty)
    // Traffic older than the baseline's 7 days is no baseline either.
    try feed(v, key, hour: Self.hour - 8 * 24, count: 1)
    #expect(try alerts(v, .volume).isEmpty)
  }

  @Test func errorRateFiresFromItsShareWithEnoughRequests() throws {
    let h = Self.hour
    let (v, dir, key) = try setUp(now: h + 1)
    defer { try? FileManager.default.removeItem(at: dir) }
    try feed(v, key, hour: h - 1, count: 49, errors: 49)  // too few requests
    try feed(v, key, hour: h, count: 50, errors: 10)  // exactly 20 %
    try feed(v, key, hour: h + 1, count: 60, errors: 11)  // 18.3 %
    let found = try alerts(v, .errorRate)
    #expect(found.map(\.hour) == [h])
    #expect(found.first?.observed == 0.2 && found.first?.threshold == 0.2)
    // A changed parameter is what the rule follows.
    try v.setAlertParameter("error_rate.min_requests", "30")
    #expect(try alerts(v, .errorRate).map(\.hour) == [h - 1, h])
  }

  @Test func newIPIgnoresAnAddressSeen29DaysAgoAndFiresFor31() throws {
    let h = Self.hour
    let (v, dir, key) = try setUp(now: h + 1)
    defer { try? FileManager.default.removeItem(at: dir) }
    try feed(v, key, hour: h - 40 * 24, count: 1, ip: "198.51.100.1")  // history from 40 days ago
    try feed(v, key, hour: h - 10 * 24, count: 1, ip: "198.51.100.1")
    try feed(v, key, hour: h - 29 * 24, count: 1, ip: "203.0.113.29")
    try feed(v, key, hour: h - 31 * 24, count: 1, ip: "203.0.113.31")
    try feed(v, key, hour: h - 2, count: 1, ip: "198.51.100.1")
    try feed(v, key, hour: h, count: 1, ip: "203.0.113.29")
    try feed(v, key, hour: h, count: 1, ip: "203.0.113.31")
    try feed(v, key, hour: h + 1, count: 1, ip: "203.0.113.31")  // seen an hour before: not new
    try feed(v, key, hour: h + 1, count: 1, ip: "198.51.100.1")
    let found = try alerts(v, .newIP)
    #expect(found.map(\.hour) == [h])
    #expect(found.first?.ips == ["203.0.113.31"])
    #expect(found.first?.observed == 1 && found.first?.threshold == 0)
    #expect(found.first?.message.contains("203.0.113.31") == true)
  }

  @Test func newIPNeedsHistoryButEveryRefusalFires() throws {
    let h = Self.hour
    let (v, dir, key) = try setUp(now: h, allowIPs: ["10.0.0.0/8"])
    defer { try? FileManager.default.removeItem(at: dir) }
    try feed(v, key, hour: h - 6 * 24, count: 1, ip: "10.0.0.1")  // 6 days: too little history
    try feed(v, key, hour: h - 1, count: 1, ip: "10.9.9.9")
    #expect(try alerts(v, .newIP).isEmpty)
    let verifier = try Verifier(vault: v)
    let request = VerifyRequest(
      presented: key.string, company: "acme", scope: "jobs:read", ip: try IPAddress.parse("192.0.2.7"),
      endpoint: "GET /v1/jobs", env: .live)
    #expect(try verifier.decide([request])[0].code == .ipNotAllowed)
    let found = try alerts(v, .newIP)
    #expect(found.map(\.hour) == [h])
    #expect(found.first?.ips == ["192.0.2.7"])
    #expect(found.first?.message.contains("192.0.2.7 (refused)") == true)
  }

  @Test func afterHoursFollowsTheZoneAcrossADaylightSavingChange() throws {
    // 2026-03-29: Europe/Berlin moves from CET (+1) to CEST (+2) at 01:00Z.
    let day = Time.daysFromCivil(2026, 3, 29) * 24
    let (v, dir, key) = try setUp(now: day + 6)
    defer { try? FileManager.default.removeItem(at: dir) }
    for h in day..<(day + 6) { try feed(v, key, hour: h, count: 1) }
    #expect(try alerts(v, .afterHours).isEmpty, "no working hours set: the rule checks no key")
    let hours = try WorkingHours.parse("Sun 03:00-06:00")
    try v.setCompanyWorkSchedule("acme", WorkSchedule(hours: hours, zone: "Europe/Berlin"))
    // 00Z is 01:00 CET (after hours); 01Z-03Z are 03:00-06:00 CEST (working); 04Z, 05Z after.
    let found = try alerts(v, .afterHours)
    #expect(found.map { $0.hour - day } == [0, 4, 5])
    #expect(found.first?.message.contains("Sun 03:00-06:00 (Europe/Berlin)") == true)
    // A key's own working hours win over its company's.
    let always = try WorkingHours.parse("Mon-Sun 00:00-24:00")
    try v.setCompanyWorkSchedule("acme", WorkSchedule(hours: always, zone: "UTC"))
    #expect(try alerts(v, .afterHours).isEmpty)
    try v.write { () throws(IVKeysError) in
      try v.storeWorkSchedule(.key(key.id), WorkSchedule(hours: hours, zone: "Europe/Berlin"))
    }
    #expect(try alerts(v, .afterHours).map { $0.hour - day } == [0, 4, 5])
    try v.write { () throws(IVKeysError) in try v.storeWorkSchedule(.key(key.id), nil) }
    // Another company's hours do not apply.
    try v.setCompanyWorkSchedule("acme", nil)
    try v.setCompanyWorkSchedule("other", WorkSchedule(hours: hours, zone: "UTC"))
    #expect(try alerts(v, .afterHours).isEmpty)
  }

  @Test func theWindowStartsAtTheHourSinceCovers() throws {
    let h = Self.hour
    let (v, dir, key) = try setUp(now: h)
    defer { try? FileManager.default.removeItem(at: dir) }
    try feed(v, key, hour: h - 24, count: 50, errors: 50)
    try feed(v, key, hour: h, count: 50, errors: 50)
    // The clock stands at h:30; 24 hours back is h-24:30, in hour h-24.
    #expect(try alerts(v, .errorRate, since: 86400).map(\.hour) == [h - 24, h])
    #expect(try alerts(v, .errorRate, since: 3600).map(\.hour) == [h])
    #expect(try v.alerts(AlertQuery(since: 86400, company: "other")).isEmpty)
    #expect(try v.alerts(AlertQuery(since: 86400, company: "acme")).count == 2)
  }

  @Test func acknowledgingTwiceRecordsOnce() throws {
    let h = Self.hour
    let (v, dir, key) = try setUp(now: h)
    defer { try? FileManager.default.removeItem(at: dir) }
    try feed(v, key, hour: h, count: 50, errors: 50)
    let id = "error_rate:\(key.id):2026-11-30T14"
    let entries = try v.store.auditCount()
    guard case .acknowledged(let a) = try v.acknowledgeAlert(id) else {
      Issue.record("not acknowledged")
      return
    }
    #expect(a.acknowledgedBy == "tester")
    #expect(try v.store.auditCount() == entries + 1)
    guard case .alreadyAcknowledged = try v.acknowledgeAlert(id) else {
      Issue.record("acknowledged again")
      return
    }
    #expect(try v.store.auditCount() == entries + 1)
    #expect(try alerts(v, .errorRate).first?.status == "acknowledged")
    // An alert that does not fire, or a malformed id, is refused.
    #expect(throws: IVKeysError.self) { try v.acknowledgeAlert("volume:\(key.id):2026-11-30T14") }
    #expect(throws: IVKeysError.self) { try v.acknowledgeAlert("error_rate:\(key.id):2026-11-30") }
    #expect(try v.store.auditCount() == entries + 1)
  }

  @Test func idsParseBack() throws {
    let id = AlertID(rule: .newIP, keyID: String(repeating: "a", count: 32), hour: Self.hour)
    #expect(id.description == "new_ip:\(String(repeating: "a", count: 32)):2026-11-30T14")
    #expect(try AlertID.parse(id.description) == id)
    for bad in [
      "", "new_ip", "nope:\(id.keyID):2026-11-30T14", "new_ip:abc:2026-11-30T14", "new_ip:\(id.keyID):2026-11-30T24",
    ] {
      #expect(throws: ValueError.self) { try AlertID.parse(bad) }
    }
  }

  @Test func theMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
    var b = Baseline()
    #expect(b.median() == nil)
    for (i, r) in [Int64(10), 40, 20, 30].enumerated() { b.add(hour: Int64(i), requests: r) }
    #expect(b.median() == 25)
    b.evict(before: 1)  // drops 10
    #expect(b.median() == 30)
  }
}
