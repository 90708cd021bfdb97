import Foundation
import Testing

@testable import IVKeysCore

/// `usage ID`'s per-hour and per-address views: the last 24 clock hours and the source addresses.
@Suite("usage: hours and addresses")
struct UsageViewTests {
  @Test func jsonHasTheLast24HoursAndTheAddresses() throws {
    let s = try Sandbox()
    let id = try s.createKey().id
    // The lines' hours, as the lines are made (an hour may end before `usage` runs).
    let nowHour = Time.now() / 3600 * 3600
    let log =
      ReportTests.line("1", id, status: 200, ago: 0, ip: "198.51.100.7")
      + ReportTests.line("2", id, status: 403, ago: 0, ip: "198.51.100.7")
      + ReportTests.line("3", id, status: 200, ago: 5 * 3600, ip: "2001:db8::1")
      + ReportTests.line("4", id, status: 500, ago: 5 * 3600, ip: "2001:db8::1")
      + ReportTests.line("5", id, status: 200, ago: 30 * 3600, ip: "192.0.2.3")
      + ReportTests.line("6", id, status: 200, ago: 50 * 3600, ip: "192.0.2.4")
    #expect(s.run("usage", "import", "-", stdin: log).status == 0)
    let r = s.run("usage", id, "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let obj = try #require(try r.json() as? [String: Any])
    let hourly = try #require(obj["hourly"] as? [[String: Any]])
    #expect(hourly.count == 24)
    let hours = try hourly.map { try Time.parseDate(try #require($0["hour"] as? String)) }
    let current = Time.now() / 3600 * 3600
    #expect(hours.last == current || hours.last == current - 3600, "the current hour last")
    #expect(zip(hours, hours.dropFirst()).allSatisfy { $1 - $0 == 3600 }, "oldest first, every hour")
    let requests = hourly.map { $0["requests"] as? Int ?? -1 }
    let errors = hourly.map { $0["errors"] as? Int ?? -1 }
    #expect(requests.reduce(0, +) == 4, "the hour 30 h ago is outside the window")
    let latest = try #require(hours.firstIndex(of: nowHour) ?? hours.firstIndex(of: nowHour + 3600))
    let fiveBefore = try #require(hours.firstIndex(of: hours[latest] - 5 * 3600))
    #expect(requests[latest] == 2 && errors[latest] == 1)
    #expect(requests[fiveBefore] == 2 && errors[fiveBefore] == 1, "five hours before")
    #expect(requests.filter { $0 == 0 }.count == 22, "hours without requests are there as zeros")

    let ips = try #require(obj["ips"] as? [[String: Any]])
    #expect(ips.compactMap { $0["ip"] as? String } == ["198.51.100.7", "2001:db8::1", "192.0.2.3", "192.0.2.4"])
    #expect(ips[0]["requests"] as? Int == 2 && ips[0]["denied"] as? Int == 1)
    #expect(ips[1]["requests"] as? Int == 2 && ips[1]["denied"] as? Int == 0, "a 500 is an error, not a denial")
    #expect(Set(ips[0].keys) == ["ip", "first_seen", "last_seen", "requests", "denied"])
    #expect((ips[0]["first_seen"] as? String)?.hasSuffix("Z") == true)

    // --top limits the addresses as it limits the endpoints.
    let top = try #require(try s.run("usage", id, "--json", "--top", "2").json() as? [String: Any])
    #expect((top["ips"] as? [[String: Any]])?.count == 2)
  }

  @Test func tableHasASparklineAndAnAddressTable() throws {
    let s = try Sandbox()
    let id = try s.createKey().id
    let none = s.run("usage", id)
    #expect(none.status == 0)
    #expect(
      none.lines.contains { $0.hasPrefix("last 24 h:  ▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁  (") && $0.hasSuffix("peak 0/hour)") })
    #expect(none.lines.contains("addresses:  none recorded"))
    let log =
      ReportTests.line("1", id, status: 200, ago: 0, ip: "198.51.100.7")
      + ReportTests.line("2", id, status: 401, ago: 0, ip: "198.51.100.8")
    #expect(s.run("usage", "import", "-", stdin: log).status == 0)
    let r = s.run("usage", id)
    let spark = try #require(r.lines.first { $0.hasPrefix("last 24 h:") })
    #expect(spark.contains("peak 2/hour)"), "\(spark)")
    let header = try #require(r.lines.firstIndex { $0.hasPrefix("ADDRESS") })
    #expect(r.lines[header].contains("FIRST SEEN") && r.lines[header].contains("DENIED"))
    #expect(r.lines.count >= header + 3)
    let addresses = r.lines[(header + 1)...].prefix(2)
    #expect(
      Set(addresses.compactMap { $0.split(separator: " ").first.map(String.init) }) == ["198.51.100.7", "198.51.100.8"])
  }
}
