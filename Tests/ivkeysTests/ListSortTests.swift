import Foundation
import Testing

@testable import IVKeysCore

/// `list --sort FIELD` and `list --unused-for DUR`.
@Suite("list: sort and unused keys")
struct ListSortTests {
  /// Four keys, in creation order: `a` used 3 times (1 error) 2 days ago, `b` never used with an
  /// expiry in 10 days, `c` used once 5 days ago with an expiry in 5 days, `d` never used.
  static func setup() throws -> (s: Sandbox, a: String, b: String, c: String, d: String) {
    let s = try Sandbox()
    let a = try s.createKey(company: "zeta", name: "delta").id
    let b = try s.createKey(["--expires-in", "10d", "--env", "test"], company: "acme", name: "alpha").id
    let c = try s.createKey(["--expires-in", "5d"], company: "mid", name: "charlie").id
    let d = try s.createKey(company: "acme", name: "bravo").id
    let log =
      ReportTests.line("1", a, status: 200, ago: 2 * 86400 + 30, ip: "192.0.2.1")
      + ReportTests.line("2", a, status: 200, ago: 2 * 86400, ip: "192.0.2.1")
      + ReportTests.line("3", a, status: 404, ago: 2 * 86400 + 60, ip: "192.0.2.1")
      + ReportTests.line("4", c, status: 200, ago: 5 * 86400, ip: "192.0.2.9")
    #expect(s.run("usage", "import", "-", stdin: log).status == 0)
    return (s, a, b, c, d)
  }

  @Test func sortsByEachFieldBothWays() throws {
    let (s, a, b, c, d) = try Self.setup()
    func ids(_ sort: String...) -> [String] {
      let r = s.run(["list", "-q"] + sort)
      #expect(r.status == 0, "\(sort): \(r.stderr)")
      return r.lines
    }
    #expect(ids() == [a, b, c, d], "creation order by default")
    #expect(ids("--sort", "name") == [b, d, c, a])
    #expect(ids("--sort", "-name") == [a, c, d, b])
    #expect(ids("--sort", "company") == [b, d, c, a], "ties in creation order")
    #expect(ids("--sort", "-company") == [a, c, b, d], "ties in creation order, also descending")
    #expect(ids("--sort", "env") == [a, c, d, b])
    #expect(ids("--sort", "request_count") == [b, d, c, a])
    #expect(ids("--sort=-request_count") == [a, c, b, d])
    #expect(ids("--sort", "-request_count") == [a, c, b, d], "a value may start with '-'")
    #expect(ids("--sort", "-requests") == [a, c, b, d], "alias")
    #expect(ids("--sort", "errors") == [b, c, d, a])
    #expect(ids("--sort", "-error_count") == [a, b, c, d])
    #expect(ids("--sort", "last_used_at") == [b, d, c, a], "never used first")
    #expect(ids("--sort", "-last_used") == [a, c, b, d])
    #expect(ids("--sort", "expires_at") == [c, b, a, d], "no expiry last")
    #expect(ids("--sort", "-expires") == [a, d, b, c])
    #expect(ids("--sort", "created") == [a, b, c, d], "oldest first")
    // a, c and d made in the same second, b a day before: ties stay in creation order both ways.
    try s.edit("UPDATE keys SET created_at = 1800000000 WHERE id <> ?", [.text(b)])
    try s.edit("UPDATE keys SET created_at = 1800000000 - 86400 WHERE id = ?", [.text(b)])
    #expect(ids("--sort", "created") == [b, a, c, d])
    #expect(ids("--sort", "-created_at") == [a, c, d, b])
    #expect(ids("--sort", "id") == [a, b, c, d].sorted())
    #expect(ids("--sort", "-id") == [a, b, c, d].sorted().reversed())
    #expect(ids("--sort", "type") == [a, b, c, d])
    #expect(s.run("suspend", c, "--reason", "r").status == 0)
    #expect(ids("--sort", "status") == [a, b, d, c])
    #expect(ids("--sort", "-status", "--company", "acme") == [b, d])
    // The JSON and the table follow the same order.
    let json = try #require(try s.run("list", "--json", "--sort", "-requests").json() as? [[String: Any]])
    #expect(json.compactMap { $0["id"] as? String } == [a, c, b, d])
  }

  @Test func anUnknownFieldListsTheFields() throws {
    let s = try Sandbox()
    _ = try s.createKey()
    for value in ["bogus", "-", "-name,id", "last-used"] {
      let r = s.run("list", "--sort", value)
      #expect(r.status == 2, "\(value)")
      #expect(
        r.stderr.contains(
          "expected one of id, name, company, env, type, status, created_at, expires_at, last_used_at, "
            + "request_count, error_count, or -FIELD for descending order"), "\(r.stderr)")
    }
    #expect(s.run("list", "--sort", "requsts").stderr.contains("did you mean 'requests'?"))
    #expect(s.run("list", "--sort").status == 2)
  }

  @Test func unusedForCountsFromLastUseOrCreation() throws {
    let (s, a, b, c, d) = try Self.setup()
    func unused(_ dur: String) -> [String] {
      let r = s.run("list", "-q", "--unused-for", dur)
      #expect(r.status == 0, "\(r.stderr)")
      return r.lines
    }
    #expect(unused("1d") == [a, c], "never-used keys count from creation: just made")
    #expect(unused("47h") == [a, c])
    #expect(unused("49h") == [c], "a was last used 48 hours ago")
    #expect(unused("4d") == [c])
    #expect(unused("6d").isEmpty)
    // A key never used counts from its creation.
    try ReportTests.age(s, d, days: 8)
    #expect(unused("7d") == [d])
    #expect(s.run("list", "-q", "--unused-for", "7d", "--sort", "-name").lines == [d])
    #expect(s.run("list", "-q", "--unused-for", "1d", "--env", "test").lines.isEmpty)
    _ = b
    for bad in ["0", "7", "7days", "-1d"] {
      let r = s.run("list", "--unused-for", bad)
      #expect(r.status == 2, "\(bad): \(r.stderr)")
      #expect(r.stderr.contains("invalid value for --unused-for"), "\(bad): \(r.stderr)")
    }
  }
}
