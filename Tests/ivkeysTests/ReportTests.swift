import Foundation
import Testing

@testable import IVKeysCore

/// `ivkeys report`: the credential report, one row per key, as a table, JSON or CSV.
@Suite("credential report")
struct ReportTests {
  static let columns = [
    "id", "company", "env", "type", "status", "created_at", "age_days", "expires_at", "last_used_at", "last_ip",
    "requests", "errors", "error_rate", "rotation_due_at", "idle_days", "secret_version",
  ]

  /// A gateway log line for `usage import`, `at` seconds ago.
  static func line(_ request: String, _ key: String, status: Int, ago: Int64, ip: String) -> String {
    let at = Time.rfc3339(Time.now() - ago)
    return
      "{\"request_id\":\"\(request)\",\"key_id\":\"\(key)\",\"endpoint\":\"GET /v1/jobs\",\"status\":\(status),\"at\":\"\(at)\",\"ip\":\"\(ip)\"}\n"
  }

  /// Moves a key's creation `days` into the past (created_at is not sealed: the audit log proves it).
  static func age(_ s: Sandbox, _ id: String, days: Int64) throws {
    try s.edit("UPDATE keys SET created_at = created_at - ? WHERE id = ?", [.int(days * 86400), .text(id)])
  }

  /// A vault with a used read-only key (10 days old, last used 3 days ago, 1 error in 4), a
  /// never-used write key and a revoked key, in that order.
  static func setup() throws -> (s: Sandbox, used: String, write: String, revoked: String) {
    let s = try Sandbox()
    let used = try s.createKey(company: "=HYPERLINK(\"x\")").id
    let write = try s.createKey(["--expires-in", "30d"], scope: "jobs:write").id
    let revoked = try s.createKey().id
    #expect(s.run("revoke", revoked, "--reason", "gone").status == 0)
    try age(s, used, days: 10)
    let log =
      line("a", used, status: 200, ago: 5 * 86400, ip: "192.0.2.1")
      + line("b", used, status: 200, ago: 4 * 86400, ip: "192.0.2.1")
      + line("c", used, status: 500, ago: 3 * 86400 + 60, ip: "192.0.2.2")
      + line("d", used, status: 200, ago: 3 * 86400, ip: "2001:db8::7")
    let imported = s.run("usage", "import", "-", stdin: log)
    #expect(imported.status == 0, "\(imported.stderr)")
    return (s, used, write, revoked)
  }

  @Test func csvParsesBackWithEveryColumn() throws {
    let (s, used, write, revoked) = try Self.setup()
    let r = s.run("report", "--format", "csv")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.hasSuffix("\r\n"))
    let records = ExportEscapingTests.parseCSV(r.stdout)
    #expect(records.first == Self.columns)
    #expect(records.count == 4)
    let rows = records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(Self.columns, $0)) }
    #expect(rows.map { $0["id"] } == [used, write, revoked], "creation order")

    let u = rows[0]
    // The company would run as a formula in a spreadsheet: neutralised as audit export does.
    #expect(u["company"] == "'=HYPERLINK(\"x\")")
    #expect(u["status"] == "active" && u["env"] == "live" && u["type"] == "regular")
    #expect(u["age_days"] == "10")
    #expect(u["requests"] == "4" && u["errors"] == "1" && u["error_rate"] == "0.25")
    #expect(u["last_ip"] == "2001:db8::7")
    #expect(u["idle_days"] == "3")
    #expect(u["expires_at"] == "")
    #expect(u["secret_version"] == "1")
    let created = try Time.parseDate(try #require(u["created_at"]))
    #expect(u["rotation_due_at"] == Time.rfc3339(created + 180 * 86400), "read-only: 180 days")

    let w = rows[1]
    #expect(w["last_used_at"] == "" && w["last_ip"] == "" && w["error_rate"] == "")
    #expect(w["requests"] == "0" && w["idle_days"] == "0" && w["age_days"] == "0")
    let wCreated = try Time.parseDate(try #require(w["created_at"]))
    #expect(w["rotation_due_at"] == Time.rfc3339(wCreated + 90 * 86400), "write scope: 90 days")
    #expect(w["expires_at"] != "")

    #expect(rows[2]["status"] == "revoked" && rows[2]["rotation_due_at"] == "")
  }

  @Test func jsonHasTheSameRowsWithNulls() throws {
    let (s, used, write, _) = try Self.setup()
    let viaFlag = s.run("report", "--json")
    let viaFormat = s.run("report", "--format", "json")
    #expect(viaFlag.status == 0 && viaFormat.status == 0, "\(viaFlag.stderr) \(viaFormat.stderr)")
    let rows = try #require(try viaFlag.json() as? [[String: Any]])
    #expect(try #require(try viaFormat.json() as? [[String: Any]]).count == 3)
    #expect(rows.count == 3)
    #expect(Set(rows[0].keys) == Set(Self.columns))
    // Members in the report's column order.
    let text = viaFlag.stdout
    let positions = Self.columns.map { text.range(of: "\"\($0)\":")?.lowerBound }
    #expect(positions.allSatisfy { $0 != nil } && positions.map { $0! } == positions.map { $0! }.sorted())
    #expect(rows[0]["id"] as? String == used)
    #expect(rows[0]["error_rate"] as? Double == 0.25)
    #expect(rows[0]["age_days"] as? Int == 10)
    #expect(rows[1]["id"] as? String == write)
    #expect(rows[1]["error_rate"] is NSNull && rows[1]["last_used_at"] is NSNull && rows[1]["last_ip"] is NSNull)
    #expect(rows[2]["rotation_due_at"] is NSNull)
  }

  @Test func tableAndFilters() throws {
    let (s, used, write, revoked) = try Self.setup()
    let table = s.run("report")
    #expect(table.status == 0, "\(table.stderr)")
    #expect(table.lines.first?.hasPrefix("ID") == true && table.lines.first?.contains("ROTATION DUE") == true)
    #expect(table.lines.count == 4)
    #expect(table.lines[1].contains("25.0%") && table.lines[1].contains("2001:db8::7"))
    #expect(s.run("report", "-q").lines == [used, write, revoked])
    #expect(s.run("report", "-q", "--status", "revoked").lines == [revoked])
    #expect(s.run("report", "-q", "--company", "acme").lines == [write, revoked])
    let csv = s.run("report", "--format", "csv", "--status", "active", "--env", "test")
    #expect(ExportEscapingTests.parseCSV(csv.stdout) == [Self.columns], "a header even when no key matches")
    let none = s.run("report", "--env", "test")
    #expect(none.status == 0 && none.stdout.isEmpty && none.stderr.contains("no keys match"))
  }

  /// Counters are not sealed (they change with every request): whatever a hand put in them, the
  /// report prints, never traps.
  @Test func impossibleCountersStillPrint() throws {
    let (s, used, _, _) = try Self.setup()
    try s.edit(
      Engine.current == .postgresql
        ? "UPDATE key_usage SET request_count = 1, error_count = 9223372036854775807 WHERE key_id = ?"
        : "UPDATE keys SET request_count = 1, error_count = 9223372036854775807 WHERE id = ?", [.text(used)])
    for format in ["table", "json", "csv"] {
      let r = s.run("report", "--format", format)
      #expect(r.status == 0, "\(format): \(r.stderr)")
    }
  }

  @Test func badOptionsAreUsageErrors() throws {
    let s = try Sandbox()
    _ = try s.createKey()
    let head = s.run("audit", "head").stdout
    for (args, message) in [
      (["report", "--format", "xml"], "invalid value for --format: 'xml': expected table, json or csv"),
      (["report", "--format", "csv", "--json"], "cannot be used together"),
      (["report", "--format", "csv", "-q"], "cannot be used together"),
      (["report", "--status", "asleep"], "invalid value for --status"),
      (["report", "--env", "prod"], "invalid value for --env"),
    ] {
      let r = s.run(args)
      #expect(r.status == 2, "\(args): \(r.stderr)")
      #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
    }
    #expect(s.run("audit", "head").stdout == head)
    // The global --format still works elsewhere.
    #expect(s.run("list", "--format", "json").status == 0)
    #expect(s.run("list", "--format", "csv").status == 2)
  }
}
