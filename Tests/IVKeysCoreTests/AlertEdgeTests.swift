import Foundation
import Testing

@testable import IVKeysCore

/// Alerts at their edges: values only a careful administrator or a hand-changed row would give.
@Suite("alerts at the edges")
struct AlertEdgeTests {
  let t = AlertTests()

  @Test func aTinyErrorRateIsStoredSoItReadsBack() throws {
    let (v, dir, _) = try t.setUp()
    defer { try? FileManager.default.removeItem(at: dir) }
    try v.setAlertParameter("error_rate.rate", "0.00001")
    #expect(try v.alertRules().errorRate == 0.00001)
    // And it can be changed again.
    try v.setAlertParameter("error_rate.rate", "0.3")
    #expect(try v.alertRules().errorRate == 0.3)
  }

  @Test func noAlertForAnHourThatHasNotComeYet() throws {
    let h = AlertTests.hour
    let (v, dir, key) = try t.setUp(now: h)
    defer { try? FileManager.default.removeItem(at: dir) }
    // Imported lines may be dated up to a day ahead; their hours raise nothing until they come.
    try t.feed(v, key, hour: h + 2, count: 60, errors: 60)
    #expect(try t.alerts(v, .errorRate).isEmpty)
    v.now = { (h + 2) * 3600 + 10 }
    #expect(try t.alerts(v, .errorRate).map(\.hour) == [h + 2])
  }

  @Test func anEmailedAlertWhoseHourRecoveredCanStillBeAcknowledged() throws {
    let h = AlertTests.hour
    let (v, dir, key) = try t.setUp(now: h)
    defer { try? FileManager.default.removeItem(at: dir) }
    try t.feed(v, key, hour: h, count: 50, errors: 50)
    let alert = try #require(try t.alerts(v, .errorRate).first)
    // E-mailed while the hour was in progress...
    try v.write { () throws(IVKeysError) in
      _ = try v.store.claimAlertNotice(
        alert.stateRow, recipient: "a@b.example", messageID: "<m>", at: 1, staleBefore: 0)
      try v.store.markAlertNoticeSent(id: alert.id, messageID: "<m>", at: h * 3600 + 1900)
    }
    // ...then the hour's share fell under the rule.
    try t.feed(v, key, hour: h, count: 500, ip: "198.51.100.2")
    #expect(try t.alerts(v, .errorRate).isEmpty)
    guard case .acknowledged = try v.acknowledgeAlert(alert.id) else {
      Issue.record("not acknowledged")
      return
    }
    // An alert never raised nor e-mailed is still refused.
    #expect(throws: IVKeysError.self) { try v.acknowledgeAlert("volume:\(key.id):2026-11-30T14") }
  }

  @Test func handChangedCountersNeverTrap() throws {
    let h = AlertTests.hour
    let (v, dir, key) = try t.setUp(now: h)
    defer { try? FileManager.default.removeItem(at: dir) }
    try t.feed(v, key, hour: h, count: 1)
    try t.feed(v, key, hour: h, count: 1, ip: "198.51.100.9")
    let db = try v.testDB
    try db.run("UPDATE usage_hourly SET requests = 9223372036854775807, errors = 9223372036854775807")
    try db.run(
      "INSERT INTO usage_hourly VALUES (?, 9223372036854775807, '', 1, 1, 0, 0, 0, 0)", [.text(key.id)])
    let found = try v.alerts(AlertQuery(since: 86400))
    #expect(found.allSatisfy { $0.hour <= h })
  }
}
