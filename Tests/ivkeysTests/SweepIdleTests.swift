import Foundation
import Testing

@testable import IVKeysCore

/// `sweep --idle DUR --action suspend|revoke`, and the monitoring data every sweep prunes.
@Suite("sweep: idle keys and pruning")
struct SweepIdleTests {
  /// Three keys: `old` last used 100 days ago (from 203.0.113.1), `fresh` used an hour ago,
  /// `never` never used and created 40 days ago.
  static func setup() throws -> (s: Sandbox, old: String, fresh: String, never: String) {
    let s = try Sandbox()
    let old = try s.createKey(name: "old").id
    let fresh = try s.createKey(name: "fresh").id
    let never = try s.createKey(name: "never").id
    try ReportTests.age(s, never, days: 40)
    try ReportTests.age(s, old, days: 200)
    let log =
      ReportTests.line("1", old, status: 200, ago: 100 * 86400, ip: "203.0.113.1")
      + ReportTests.line("2", fresh, status: 200, ago: 3600, ip: "203.0.113.2")
    #expect(s.run("usage", "import", "-", stdin: log).status == 0)
    return (s, old, fresh, never)
  }

  @Test func idleKeysAreSuspendedWithTheirReasonAndEntries() throws {
    let (s, old, fresh, never) = try Self.setup()
    let dry = s.run("sweep", "--idle", "30d", "--action", "suspend", "--dry-run", "--json")
    #expect(dry.status == 0, "\(dry.stderr)")
    let planned = try #require(try dry.json() as? [[String: Any]])
    #expect(planned.compactMap { $0["key_id"] as? String } == [old, never])
    #expect(
      dry.stderr.contains("would record 2 suspended (unused for 30d) (dry run: nothing changed)"), "\(dry.stderr)")
    #expect(!dry.stderr.contains("pruned"), "a dry run prunes nothing")
    #expect(try s.count("SELECT count(*) FROM usage_hourly") == 2)
    #expect(s.run("list", "-q", "--status", "suspended").lines.isEmpty)

    let r = s.run("sweep", "--idle", "30d", "--action", "suspend")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.lines.first?.contains("WHY") == true)
    let oldLine = try #require(r.lines.first { $0.hasPrefix(old) })
    #expect(
      oldLine.contains("active") && oldLine.contains("suspended") && oldLine.contains("unused for 30d (last used "))
    let neverLine = try #require(r.lines.first { $0.hasPrefix(never) })
    #expect(neverLine.contains("unused for 30d (never used; created "))
    #expect(s.run("list", "-q", "--status", "suspended").lines == [old, never])
    let shown = try #require(try s.run("show", old, "--json").json() as? [String: Any])
    #expect(shown["status_reason"] as? String == "unused for 30d")

    let audit = try #require(try s.run("audit", "--event", "key.suspended", "--json").json() as? [[String: Any]])
    #expect(audit.compactMap { $0["key_id"] as? String } == [old, never])
    let detail = try #require(audit.first?["detail"] as? [String: Any])
    #expect(detail["reason"] as? String == "unused for 30d")
    #expect(detail["previous_status"] as? String == "active")
    let since = try Time.parseDate(try #require(detail["idle_since"] as? String))
    // The imported line was at setup's clock minus 100 days; a busy machine may take minutes since.
    #expect(abs(since - (Time.now() - 100 * 86400)) < 900)
    let neverSince = try #require(audit.last?["detail"] as? [String: Any])["idle_since"] as? String
    let neverCreated = try s.count("SELECT created_at FROM keys WHERE id = '\(never)'")
    #expect(neverSince == Time.rfc3339(neverCreated))

    // Running it again finds nothing; revoking then takes the suspended idle keys too.
    let again = s.run("sweep", "--idle", "30d", "--action", "suspend")
    #expect(again.stdout.isEmpty && again.stderr.contains("nothing to sweep"), "\(again.stderr)")
    let revoke = s.run("sweep", "--idle", "30d", "--action", "revoke", "--json")
    let revoked = try #require(try revoke.json() as? [[String: Any]])
    #expect(revoked.compactMap { $0["key_id"] as? String } == [old, never])
    #expect(revoked.first?["previous_status"] as? String == "suspended")
    #expect(revoked.first?["status"] as? String == "revoked")
    #expect(revoked.first?["idle_since"] as? String != nil)
    #expect(s.run("list", "-q", "--status", "active").lines == [fresh])
    let entries = try #require(try s.run("audit", "--event", "key.revoked", "--json").json() as? [[String: Any]])
    #expect((entries.first?["detail"] as? [String: Any])?["previous_status"] as? String == "suspended")
    #expect(try s.run("audit", "verify").status == 0)
  }

  @Test func sweepPrunesMonitoringDataOlderThan90Days() throws {
    let (s, old, _, _) = try Self.setup()
    #expect(try s.count("SELECT count(*) FROM usage_hourly WHERE key_id = '\(old)'") == 1)
    let r = s.run("sweep")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("pruned 1 monitoring row older than 90 days (1 hourly, 0 daily"), "\(r.stderr)")
    #expect(try s.count("SELECT count(*) FROM usage_hourly") == 1)
    #expect(try s.count("SELECT count(*) FROM usage_hourly WHERE key_id = '\(old)'") == 0)
    // The totals stay: only the buckets go.
    #expect(try s.count("SELECT request_count FROM keys WHERE id = '\(old)'") == 1)
    let again = s.run("sweep")
    #expect(!again.stderr.contains("pruned"), "\(again.stderr)")
  }

  @Test func idleATSKeysAreLeftToAdministrators() throws {
    let setup = try ATSAdministrationTests.setup()
    let s = setup.s
    try ReportTests.age(s, setup.ats, days: 400)
    try ReportTests.age(s, setup.regular, days: 400)
    let r = s.run("sweep", "--idle", "365d", "--action", "revoke")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("ivkeys: warning: left 1 idle ATS key alone (\(setup.ats))"), "\(r.stderr)")
    #expect(r.stderr.contains("only a vault administrator may revoke an ATS key"))
    #expect(s.run("list", "-q", "--status", "revoked").lines == [setup.regular])
    #expect(s.run("list", "-q", "--status", "active").lines == [setup.ats])
  }

  @Test func idleAndActionGoTogether() throws {
    let s = try Sandbox()
    _ = try s.createKey()
    let head = s.run("audit", "head").stdout
    for (args, message) in [
      (["sweep", "--idle", "30d"], "--idle needs --action suspend or --action revoke"),
      (["sweep", "--action", "revoke"], "--action says what to do with idle keys and needs --idle DUR"),
      (
        ["sweep", "--idle", "30d", "--action", "delete"],
        "invalid value for --action: 'delete': expected suspend or revoke"
      ),
      (["sweep", "--idle", "0", "--action", "revoke"], "invalid value for --idle: '0': must be longer than 0"),
      (["sweep", "--idle", "soon", "--action", "revoke"], "invalid value for --idle"),
    ] {
      let r = s.run(args)
      #expect(r.status == 2, "\(args): \(r.stderr)")
      #expect(r.stderr.contains("ivkeys: error: \(message)") || r.stderr.contains(message), "\(args): \(r.stderr)")
    }
    #expect(s.run("audit", "head").stdout == head)
    #expect(s.run("list", "-q", "--status", "active").lines.count == 1)
  }
}
