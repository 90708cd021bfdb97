import Foundation
import Testing

@testable import IVKeysCore

/// `ivkeys alerts` end to end: usage placed in time with `usage import` lines (`at`, `ip`), the
/// listing's exit statuses, parameters, working hours, acknowledgements and notices.
@Suite("alerts command")
struct AlertsCommandTests {
  /// Imports `count` requests of `key` at `secondsAgo` before now (one instant), the first
  /// `errors` failed.
  func feed(_ s: Sandbox, _ id: String, secondsAgo: Int64, count: Int, errors: Int = 0, ip: String = "198.51.100.1")
    throws
  {
    let at = Time.rfc3339(Int64(Date().timeIntervalSince1970) - secondsAgo)
    let lines = (0..<count).map { i in
      #"{"request_id":"\#(id)-\#(secondsAgo)-\#(ip)-\#(i)","key_id":"\#(id)","endpoint":"GET /v1/jobs","status":\#(i < errors ? 500 : 200),"at":"\#(at)","ip":"\#(ip)"}"#
    }
    let r = s.run(["usage", "import", "-"], stdin: lines.joined(separator: "\n") + "\n")
    #expect(r.status == 0, "\(r.stderr)")
  }

  func head(_ s: Sandbox) -> String { s.run("audit", "head").stdout }

  @Test func checkExitsThreeWhileAnAlertIsOpen() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let quiet = s.run("alerts", "--check")
    #expect(quiet.status == 0 && quiet.stdout.isEmpty)
    #expect(quiet.stderr.contains("no open alert in the last 1d"))
    try feed(s, k.id, secondsAgo: 60, count: 60, errors: 30)
    let found = s.run("alerts", "--check", "-q")
    #expect(found.status == 3)
    #expect(found.lines.count == 1 && found.lines[0].hasPrefix("error_rate:\(k.id):"))
    let json = try s.jsonArray("alerts", "--json")
    #expect(json.first?["rule"] as? String == "error_rate")
    #expect(json.first?["observed"] as? Double == 0.5 && json.first?["threshold"] as? Double == 0.2)
    #expect(json.first?["status"] as? String == "open" && json.first?["company"] as? String == "acme")
    #expect(json.first?.keys.contains("ips") == false)
    #expect(s.run("alerts", "--rule", "volume", "--check").status == 0, "only the rules asked for")
    #expect(s.run("alerts", "--company", "other", "--check").status == 0)
    #expect(s.run("alerts", "--key", String(k.id.prefix(8)), "--check").status == 3)

    // Acknowledged: closed, audited once, listed again only with --all.
    let before = s.auditCount
    let ack = s.run("alerts", "ack", found.lines[0])
    #expect(ack.status == 0 && ack.stdout == "acknowledged  \(found.lines[0])\n", "\(ack.stderr)")
    #expect(s.auditCount == before + 1)
    let entry = try s.jsonArray("audit", "--event", "alert.acknowledged", "--json").first
    let detail = entry?["detail"] as? [String: Any]
    #expect(detail?["alert"] as? String == found.lines[0] && detail?["rule"] as? String == "error_rate")
    #expect((detail?["window_start"] as? String)?.hasSuffix(":00:00Z") == true)
    let again = s.run("alerts", "ack", found.lines[0])
    #expect(again.status == 0 && again.stderr.contains("already acknowledged"))
    #expect(s.auditCount == before + 1)
    #expect(s.run("alerts", "--check").status == 0)
    let all = try s.jsonArray("alerts", "--all", "--json")
    #expect(all.first?["status"] as? String == "acknowledged" && all.first?["acknowledged_at"] is String)
  }

  @Test func ackRefusesMalformedAndUnknownIDs() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let before = head(s)
    let malformed = s.run("alerts", "ack", "error_rate:\(k.id)")
    #expect(malformed.status == 2 && malformed.stderr.contains("RULE:KEY_ID:YYYY-MM-DDTHH"))
    let unknown = s.run("alerts", "ack", "volume:\(k.id):2026-01-01T00")
    #expect(unknown.status == 1 && unknown.stderr.contains("no such alert"))
    #expect(head(s) == before)
  }

  @Test func badValuesExitTwoAndWriteNothing() throws {
    let s = try Sandbox()
    let before = head(s)
    for args in [
      ["alerts", "--rule", "loudness"], ["alerts", "--since", "soon"], ["alerts", "set", "error_rate.rate", "1.5"],
      ["alerts", "set", "error_rate.rate", "-1"], ["alerts", "set", "loudness.factor", "2"],
      ["alerts", "set", "volume.nope", "2"], ["alerts", "hours", "acme", "Mon-Fri 08:00-18:00", "--tz", "Mars/Base"],
      ["alerts", "hours", "acme", "Mon-Fri 8-18"], ["alerts", "hours", "acme", "Mon-Fri 08:00-18:00", "--tz", "../x"],
    ] {
      let r = s.run(args)
      #expect(r.status == 2, "\(args): \(r.stderr)")
      #expect(r.stderr.hasPrefix("ivkeys: error: "), "\(args)")
    }
    #expect(s.run("alerts", "--rule", "loudness").stderr.contains("volume, new_ip, error_rate, after_hours"))
    #expect(head(s) == before)
    #expect(try s.count("SELECT count(*) FROM working_hours") == 0)
  }

  @Test func rulesAndSetAreShownAndAudited() throws {
    let s = try Sandbox()
    let rules = s.run("alerts", "rules", "--json")
    #expect(
      rules.stdout
        == #"{"volume":{"factor":5,"min_requests":100,"baseline_days":7},"new_ip":{"lookback_days":30,"min_history_days":7},"error_rate":{"rate":0.2,"min_requests":50},"after_hours":{}}"#
        + "\n")
    let set = s.run("alerts", "set", "error_rate.min_requests", "30")
    #expect(set.status == 0 && set.stdout == "error_rate.min_requests: 50 -> 30\n", "\(set.stderr)")
    #expect(s.run("alerts", "rules", "--json").stdout.contains(#""error_rate":{"rate":0.2,"min_requests":30}"#))
    let table = s.run("alerts", "rules")
    #expect(table.stdout.contains("RULE.PARAMETER") && table.stdout.contains("error_rate.min_requests"))
    let entries = try s.jsonArray("audit", "--event", "settings.changed", "--json")
    #expect(entries.count == 1)
    let detail = entries.first?["detail"] as? [String: Any]
    #expect(detail?["setting"] as? String == "alerts.error_rate.min_requests")
  }

  @Test func workingHoursAreSetListedAndCleared() throws {
    let s = try Sandbox()
    #expect(s.run("alerts", "hours").stderr.contains("no working hours set"))
    let set = s.run("alerts", "hours", "acme", "mon-fri 08:00-18:00", "--tz", "Europe/Berlin", "--json")
    #expect(set.status == 0, "\(set.stderr)")
    let list = try s.jsonArray("alerts", "hours", "--json")
    #expect(list.count == 1)
    #expect(list.first?["company"] as? String == "acme" && list.first?["hours"] as? String == "Mon-Fri 08:00-18:00")
    #expect(list.first?["tz"] as? String == "Europe/Berlin")
    #expect(s.run("alerts", "hours", "acme").stdout.contains("Mon-Fri 08:00-18:00"))
    #expect(s.run("alerts", "hours", "other", "--json").stdout == "[]\n")
    #expect(try s.events().filter { $0 == "settings.changed" }.count == 1)
    let cleared = s.run("alerts", "hours", "acme", "--clear")
    #expect(cleared.status == 0 && cleared.stdout == "acme: no working hours\n")
    #expect(try s.jsonArray("alerts", "hours", "--json").isEmpty)
    #expect(try s.events().filter { $0 == "settings.changed" }.count == 2)
    #expect(s.run("alerts", "hours", "acme", "--tz", "UTC").status == 2)
  }

  @Test func afterHoursFiresOnlyForKeysWithWorkingHours() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    try feed(s, k.id, secondsAgo: 60, count: 3)
    #expect(s.run("alerts", "--rule", "after_hours", "--check").status == 0)
    // Working hours that never include this moment: a day of the week two days away.
    let weekday = Int((Int64(Date().timeIntervalSince1970) / 86400 + 4) % 7)  // 0 Sunday
    let other = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][(weekday + 2) % 7]
    #expect(s.run("alerts", "hours", "acme", "\(other) 10:00-12:00").status == 0)
    let r = s.run("alerts", "--rule", "after_hours", "--json")
    let alerts = try #require(try r.json() as? [[String: Any]])
    #expect(alerts.count == 1 && alerts.first?["observed"] as? Double == 3)
  }

  @Test func notifySendsEachAlertOnceAndNeverTheKey() throws {
    let s = try Sandbox()
    let sendmail = try NotifyTests.fakeSendmail(s)
    let k = try s.createKey(["--contact", "ops@example.com"], name: "billing sync")
    let silent = try s.createKey()
    try feed(s, k.id, secondsAgo: 60, count: 60, errors: 60)
    try feed(s, silent.id, secondsAgo: 60, count: 60, errors: 60)
    let first = s.run("alerts", "notify", "--sendmail", sendmail, "--from", "keys@instaview.example")
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.lines.count == 1 && first.lines[0].hasPrefix("sent  error_rate:\(k.id):"))
    #expect(first.stderr.contains("key \(silent.id) has open alerts") && first.stderr.contains("no contact"))
    let sent = NotifyTests.messages(s)
    #expect(sent.count == 1)
    let m = sent.first ?? ""
    #expect(m.contains("To: ops@example.com\n") && m.contains("Subject: InstaView API key \(k.id): error_rate alert"))
    #expect(m.contains("billing sync") && m.contains("acme") && m.contains("ivkeys alerts ack error_rate:\(k.id):"))
    #expect(m.contains("ivkeys usage \(k.id)") && m.contains("100%"))
    #expect(!m.contains(k.key) && !m.contains(String(k.key.dropFirst(41))), "never the key or its secret")
    let entry = try s.jsonArray("audit", "--event", "notification.sent", "--json").first
    let detail = entry?["detail"] as? [String: Any]
    #expect(detail?["to"] as? String == "ops@example.com")
    #expect((detail?["alert"] as? String)?.hasPrefix("error_rate:\(k.id):") == true && detail?["message_id"] is String)

    let again = s.run("alerts", "notify", "--sendmail", sendmail)
    #expect(again.status == 0 && again.stdout.isEmpty)
    #expect(again.stderr.contains("1 alert was notified before"))
    #expect(NotifyTests.messages(s).count == 1)
    #expect(try s.events().filter { $0 == "notification.sent" }.count == 1)
    let json = try s.jsonArray("alerts", "--json", "--key", k.id)
    #expect(json.first?["notified_at"] is String)
  }

  @Test func aFailedSendIsNotRecorded() throws {
    let s = try Sandbox()
    let failing = try NotifyTests.fakeSendmail(s, failing: true)
    let k = try s.createKey(["--contact", "ops@example.com"])
    try feed(s, k.id, secondsAgo: 60, count: 60, errors: 60)
    let before = s.auditCount
    let r = s.run("alerts", "notify", "--sendmail", failing)
    #expect(r.status == 1)
    #expect(r.stderr.contains("the notice of alert error_rate:\(k.id):") && r.stderr.contains("was not sent"))
    #expect(r.stderr.contains("the next 'ivkeys alerts notify' tries again"))
    #expect(s.auditCount == before)
    #expect(
      try s.count("SELECT count(*) FROM alert_states WHERE notified_at IS NOT NULL OR claimed_at IS NOT NULL") == 0)
  }
}
