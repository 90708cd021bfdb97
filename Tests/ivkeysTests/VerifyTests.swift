import Foundation
import Testing

@testable import IVKeysCore

/// `ivkeys verify` end to end: SPEC.md's decision table row by row, the key sources, batch mode,
/// usage figures and failing closed.
@Suite("verify")
struct VerifyTests {
  /// Runs verify with the key on stdin and returns (exit status, decision object). `serving` is
  /// the `--env` given (none when nil: then `args` or the environment say it).
  func verify(
    _ s: Sandbox, _ key: String, _ args: [String], serving: String? = "live", env: [String: String] = [:]
  ) throws -> (Int32, [String: Any]) {
    let r = s.run(["verify", "--json"] + (serving.map { ["--env", $0] } ?? []) + args, env: env, stdin: key + "\n")
    guard let obj = try? r.json() as? [String: Any] else {
      Issue.record("no decision: status \(r.status), stderr \(r.stderr)")
      return (r.status, [:])
    }
    return (r.status, obj)
  }

  /// A key with a valid checksum whose secret part differs from `key`'s.
  func withOtherSecret(_ key: String) -> String {
    var body = Array(key.dropLast(6))
    body[45] = body[45] == "A" ? "B" : "A"
    let b = String(body)
    return b + APIKey.checkDigits(b)
  }

  @Test func anAllowedRequestAnswersOkWithTheDecisionObject() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--allow-ip", "10.0.0.0/8"], company: "acme", scope: "candidates:read")
    let (status, d) = try verify(s, k.key, ["--company", "acme", "--scope", "candidates:read", "--ip", "10.1.2.3"])
    #expect(status == 0)
    #expect(d["allowed"] as? Bool == true)
    #expect(d["status"] as? Int == 200)
    #expect(d["code"] as? String == "ok")
    #expect(d["key_id"] as? String == k.id)
    #expect(d["company"] as? String == "acme")
    #expect(d["required_scope"] as? String == "candidates:read")
    #expect(d["retry_after"] is NSNull)
    #expect(
      Set(d.keys) == [
        "allowed", "status", "code", "message", "key_id", "company", "required_scope", "retry_after", "rate_limit",
      ])
    #expect(d["rate_limit"] is NSNull, "the key has no rate limit")
    let plain = s.run(
      ["verify", "--env", "live", "--company", "acme", "--scope", "candidates:read", "--ip", "10.1.2.3"], stdin: k.key)
    #expect(plain.stdout == "allowed key=\(k.id) company=acme\n")
  }

  @Test func malformedKeysAreRefusedBeforeAnyLookup() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    var badCheck = Array(k.key)
    badCheck[89] = badCheck[89] == "0" ? "1" : "0"
    for presented in [
      "", "   ", "Basic dXNlcjpwYXNz", "Authorization: Basic dXNlcjpwYXNz", String(k.key.dropLast(10)),
      String(badCheck), "sk_prod_" + String(k.key.dropFirst(8)), "\(k.key) \(k.key)",
    ] {
      let (status, d) = try verify(s, presented, ["--company", "acme", "--scope", "jobs:read"])
      #expect(status == 10, "\(presented.prefix(20))")
      #expect(d["code"] as? String == "malformed_key", "\(presented.prefix(20))")
      #expect(d["status"] as? Int == 401)
      #expect(!(d["message"] as? String ?? "").contains(String(k.key.dropFirst(41).prefix(20))))
    }
    let empty = s.run(["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read"], stdin: "")
    #expect(empty.status == 10)
    #expect(empty.stdout.hasPrefix("denied 401 malformed_key: "))
    // Each attempt is audited, without a key id for a key that did not parse.
    let failed = try #require(try s.run("audit", "--event", "auth.failed", "--json").json() as? [[String: Any]])
    #expect(failed.count == 9)
    #expect(failed.allSatisfy { ($0["detail"] as? [String: Any])?["code"] as? String == "malformed_key" })
    #expect(s.keyCount == 1)
    #expect(try s.count("SELECT request_count FROM keys") == 0, "a malformed key counts toward no key")
  }

  @Test func anUnknownIdAndAWrongSecretGiveTheSameAnswer() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let other = try Sandbox()
    let foreign = try other.createKey()
    let (s1, d1) = try verify(s, foreign.key, ["--company", "acme", "--scope", "jobs:read"])
    let (s2, d2) = try verify(s, withOtherSecret(k.key), ["--company", "acme", "--scope", "jobs:read"])
    #expect(s1 == 10 && s2 == 10)
    #expect(d1["code"] as? String == "unknown_key" && d2["code"] as? String == "unknown_key")
    #expect(d1["message"] as? String == d2["message"] as? String)
    // The audit log may say which.
    let failed = try #require(try s.run("audit", "--event", "auth.failed", "--json").json() as? [[String: Any]])
    let reasons = failed.compactMap { ($0["detail"] as? [String: Any])?["reason"] as? String }
    #expect(reasons == ["no key with this id", "wrong secret for this id"])
    #expect(try s.count("SELECT request_count FROM keys") == 0, "a wrong secret counts toward no key's usage")
  }

  @Test func statusDecidesBeforeCompanyScopeAndAddress() throws {
    let s = try Sandbox()
    let args = ["--company", "globex", "--scope", "jobs:write"]  // wrong company and scope as well
    let revoked = try s.createKey()
    #expect(s.run("revoke", revoked.id, "--reason", "r").status == 0)
    let suspended = try s.createKey()
    #expect(s.run("suspend", suspended.id, "--reason", "r").status == 0)
    let expired = try s.createKey(["--expires-in", "1h"])
    let rotated = try s.createKey()
    #expect(s.run("rotate", rotated.id, "--grace", "1h", "-q").status == 0)
    let inGrace = try s.createKey()
    #expect(s.run("rotate", inGrace.id, "--grace", "1h", "-q").status == 0)
    try s.backdate(expired.id, .expiresAt)
    try s.backdate(rotated.id, .graceUntil)
    for (key, code) in [
      (revoked.key, "revoked"), (suspended.key, "suspended"), (expired.key, "expired"), (rotated.key, "revoked"),
    ] {
      let (status, d) = try verify(s, key, args)
      #expect(status == 10, "\(code)")
      #expect(d["code"] as? String == code)
      #expect(d["status"] as? Int == 401)
    }
    let (status, d) = try verify(s, inGrace.key, ["--company", "acme", "--scope", "jobs:read"])
    #expect(status == 0, "a rotated key works until its grace ends")
    #expect(d["code"] as? String == "ok")
  }

  @Test func environmentCompanyScopeAndAddressAreCheckedInThatOrder() throws {
    let s = try Sandbox()
    let test = try s.createKey(["--env", "test", "--allow-ip", "192.0.2.0/24"], company: "acme", scope: "jobs:read")
    func code(_ args: [String], ip: String? = nil, serving: String = "test") throws -> (Int32, String?) {
      let (status, d) = try verify(s, test.key, args + (ip.map { ["--ip", $0] } ?? []), serving: serving)
      return (status, d["code"] as? String)
    }
    #expect(try code(["--company", "globex", "--scope", "jobs:write"], serving: "live") == (10, "wrong_environment"))
    #expect(try code(["--company", "globex", "--scope", "jobs:write"]) == (11, "wrong_company"))
    #expect(try code(["--company", "acme", "--scope", "jobs:write"]) == (11, "insufficient_scope"))
    #expect(
      try code(["--company", "acme", "--scope", "jobs:read"]) == (11, "ip_not_allowed"), "an allowlist and no --ip")
    #expect(try code(["--company", "acme", "--scope", "jobs:read"], ip: "198.51.100.1") == (11, "ip_not_allowed"))
    #expect(try code(["--company", "acme", "--scope", "jobs:read"], ip: "192.0.2.77") == (0, "ok"))
    #expect(
      try code(["--company", "acme", "--scope", "jobs:read"], ip: "::ffff:192.0.2.77") == (0, "ok"), "IPv4-mapped IPv6")
    let plain = s.run(["verify", "--env", "test", "--company", "acme", "--scope", "jobs:write"], stdin: test.key)
    #expect(plain.stdout == "denied 403 insufficient_scope: key lacks jobs:write\n")
    #expect(plain.status == 11)
  }

  @Test func wildcardsIPv6AndKeysWithoutAnAllowlist() throws {
    let s = try Sandbox()
    let star = try s.createKey([], company: "acme", scope: "*")
    let resource = try s.createKey(["--allow-ip", "2001:db8::/32"], company: "acme", scope: "candidates:*")
    #expect(try verify(s, star.key, ["--company", "acme", "--scope", "webhooks:write", "--ip", "203.0.113.9"]).0 == 0)
    #expect(
      try verify(s, resource.key, ["--company", "acme", "--scope", "candidates:write", "--ip", "2001:db8:1::5"]).0 == 0)
    #expect(
      try verify(s, resource.key, ["--company", "acme", "--scope", "jobs:read", "--ip", "2001:db8:1::5"]).1["code"]
        as? String == "insufficient_scope")
    #expect(
      try verify(s, resource.key, ["--company", "acme", "--scope", "candidates:read", "--ip", "2001:db9::1"]).1["code"]
        as? String == "ip_not_allowed")
  }

  @Test func atsKeysServeTheirLinkedCompanies() throws {
    let s = try Sandbox()
    let r = s.run(
      "create", "--company", "lever", "--name", "ats", "--type", "ats", "--link-company", "acme,globex", "--scope",
      "candidates:read", "-q")
    let key = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(try verify(s, key, ["--company", "acme", "--scope", "candidates:read"]).0 == 0)
    #expect(try verify(s, key, ["--company", "globex", "--scope", "candidates:read"]).0 == 0)
    #expect(
      try verify(s, key, ["--company", "initech", "--scope", "candidates:read"]).1["code"] as? String == "wrong_company"
    )
    let id = String(key.dropFirst(8).prefix(32))
    #expect(s.run("update", id, "--unlink-company", "globex").status == 0)
    #expect(
      try verify(s, key, ["--company", "globex", "--scope", "candidates:read"]).1["code"] as? String == "wrong_company")
  }

  @Test func rateLimitsHoldAcrossSeparateProcesses() throws {
    let s = try Sandbox()
    // An hourly window, so the test does not straddle a window boundary.
    let k = try s.createKey(["--rate-limit", "3/h"])
    let args = ["--env", "live", "--company", "acme", "--scope", "jobs:read"]
    // A denial for another reason does not use up the budget.
    #expect(try verify(s, k.key, ["--company", "acme", "--scope", "jobs:write"]).0 == 11)
    for _ in 0..<3 { #expect(try verify(s, k.key, args, serving: nil).0 == 0) }
    let (status, d) = try verify(s, k.key, args, serving: nil)
    #expect(status == 12)
    #expect(d["code"] as? String == "rate_limited")
    #expect(d["status"] as? Int == 429)
    let retry = try #require(d["retry_after"] as? Int)
    #expect(retry >= 1 && retry <= 3600)
    let plain = s.run(["verify"] + args, stdin: k.key)
    #expect(plain.stdout.hasPrefix("denied 429 rate_limited: "))
    #expect(plain.stdout.contains("retry after"))
    // Concurrent processes share the window too: 5 at once against a fresh budget of 3.
    let k2 = try s.createKey(["--rate-limit", "3/h"])
    var running = [(Process, URL, URL)]()
    for _ in 0..<5 { running.append(try s.start(["verify", "-q"] + args, stdin: k2.key)) }
    var codes = [String]()
    for (p, out, _) in running {
      p.waitUntilExit()
      codes.append(
        ((try? String(contentsOf: out, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
    }
    #expect(codes.filter { $0 == "ok" }.count == 3)
    #expect(codes.filter { $0 == "rate_limited" }.count == 2)
  }

  @Test func theKeyComesFromStdinAFileOrTheEnvironmentNeverArgv() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let args = ["verify", "-q", "--env", "live", "--company", "acme", "--scope", "jobs:read"]
    #expect(s.run(args, stdin: "  \(k.key)  \n").stdout == "ok\n")
    #expect(s.run(args, stdin: "Authorization: Bearer \(k.key)\r\n").stdout == "ok\n")
    #expect(s.run(args, stdin: "authorization:bearer  \(k.key)").stdout == "ok\n")
    #expect(s.run(args, stdin: "Bearer \(k.key)").stdout == "ok\n")
    let file = s.dir.path + "/key"
    try Data("\(k.key)\n".utf8).write(to: URL(fileURLWithPath: file))
    #expect(s.run(args + ["--key-file", file], stdin: "garbage").stdout == "ok\n", "--key-file wins over stdin")
    #expect(s.run(args, env: ["IVKEYS_KEY": k.key], stdin: "garbage").stdout == "ok\n", "IVKEYS_KEY wins over stdin")
    #expect(s.run(args + ["--key-file", s.dir.path + "/missing"]).status == 1)

    let audits = s.auditCount
    let argv = s.run(args + ["--key", k.key])
    #expect(argv.status == 2)
    #expect(argv.stderr.contains("keys are never read from the command line"))
    #expect(argv.stderr.contains("ivkeys: hint: pipe the key"))
    #expect(!argv.stderr.contains(k.key))
    #expect(s.auditCount == audits, "a refused argv key records nothing")
  }

  @Test func badOptionsAreUsageErrorsAndRecordNothing() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let audits = s.auditCount
    let cases: [([String], String)] = [
      (
        ["--env", "live", "--company", "acme", "--scope", "jobs:delete"],
        "invalid value for --scope: 'jobs:delete': not in the scope catalog"
      ),
      (["--env", "live", "--company", "acme", "--scope", "jobs:*"], "invalid value for --scope"),
      (["--env", "live", "--company", "acme", "--scope", "jobs:read", "--ip", "10.0.0.0/8"], "invalid value for --ip"),
      (["--env", "live", "--company", "acme", "--scope", "jobs:read", "--ip", "010.0.0.1"], "invalid value for --ip"),
      (["--company", "acme", "--scope", "jobs:read", "--env", "prod"], "invalid value for --env"),
      (["--env", "live", "--scope", "jobs:read"], "needs --company"),
      (["--env", "live", "--company", "acme"], "needs --scope"),
      (["--batch", "--company", "acme"], "--batch and --company cannot be used together"),
    ]
    for (args, message) in cases {
      let r = s.run(["verify"] + args, stdin: k.key)
      #expect(r.status == 2, "\(args): \(r.stderr)")
      #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
    }
    #expect(s.auditCount == audits)
  }

  @Test func batchAnswersEveryLineInOrderAndGoesOnAfterBadOnes() throws {
    let s = try Sandbox()
    let a = try s.createKey([], company: "acme", scope: "jobs:read")
    let b = try s.createKey(["--allow-ip", "10.0.0.0/8"], company: "globex", scope: "*")
    let lines = [
      #"{"key":"\#(a.key)","company":"acme","scope":"jobs:read","endpoint":"GET /v1/jobs"}"#,
      "this is not json",
      #"{"key":"\#(b.key)","company":"globex","scope":"candidates:write","ip":"10.9.9.9"}"#,
      #"{"company":"acme","scope":"jobs:read"}"#,
      #"{"key":"\#(a.key)","company":"acme","scope":"jobs:write"}"#,
      #"{"key":"\#(a.key)","company":"acme","scope":"nope:read"}"#,
      #"{"key":"\#(b.key)","company":"globex","scope":"jobs:read","ip":"1.2.3"}"#,
      #"{"key":42,"company":"acme","scope":"jobs:read"}"#,
      #"["not","an","object"]"#,
      #"{"key":"Bearer \#(a.key)","company":"acme","scope":"jobs:read","env":"test"}"#,
    ]
    let r = s.run(["verify", "--batch", "--env", "live"], stdin: lines.joined(separator: "\n") + "\n")
    #expect(r.status == 0, "\(r.stderr)")
    let decisions = try r.lines.map {
      try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    #expect(
      decisions.map { $0["code"] as? String } == [
        "ok", "bad_request", "ok", "bad_request", "insufficient_scope", "bad_request", "bad_request", "bad_request",
        "bad_request",
        "wrong_environment",
      ])
    #expect(decisions[1]["status"] as? Int == 400)
    #expect(decisions[0]["key_id"] as? String == a.id)
    #expect(decisions[2]["key_id"] as? String == b.id)
    // Every line is audited, bad ones included, and usage counts the good ones.
    #expect(try s.count("SELECT count(*) FROM audit WHERE event LIKE 'auth.%'") == 10)
    #expect(try s.count("SELECT request_count FROM keys WHERE id = '\(a.id)'") == 3)
    #expect(try s.count("SELECT error_count FROM keys WHERE id = '\(a.id)'") == 2)
  }

  @Test func usageCountsRequestsErrorsEndpointsAndDays() throws {
    let s = try Sandbox()
    let k = try s.createKey([], company: "acme", scope: "jobs:read")
    func hit(_ endpoint: String, scope: String = "jobs:read") {
      _ = s.run(
        ["verify", "--env", "live", "--company", "acme", "--scope", scope, "--endpoint", endpoint], stdin: k.key)
    }
    for _ in 0..<3 { hit("GET /v1/jobs") }
    hit("GET /v1/jobs", scope: "jobs:write")
    for _ in 0..<2 { hit("POST /v1/jobs", scope: "jobs:write") }
    hit("GET /v1/jobs/1")
    let u = try #require(try s.run("usage", k.id, "--json").json() as? [String: Any])
    #expect(u["request_count"] as? Int == 7)
    #expect(u["error_count"] as? Int == 3)
    #expect(abs((u["error_rate"] as? Double ?? -1) - 3.0 / 7.0) < 1e-9)
    #expect(u["last_used_at"] as? String != nil)
    let top = try #require(u["top_endpoints"] as? [[String: Any]])
    #expect(top.map { $0["endpoint"] as? String } == ["GET /v1/jobs", "POST /v1/jobs", "GET /v1/jobs/1"])
    #expect(top.map { $0["count"] as? Int } == [4, 2, 1])
    #expect(top.map { $0["errors"] as? Int } == [1, 2, 0])
    #expect(
      (try s.run("usage", k.id, "--top", "1", "--json").json() as? [String: Any])?["top_endpoints"] as? [Any] != nil)
    #expect(
      ((try s.run("usage", k.id, "--top", "1", "--json").json() as? [String: Any])?["top_endpoints"] as? [Any])?.count
        == 1)
    let daily = try #require(u["daily"] as? [[String: Any]])
    #expect(daily.count == 30)
    let today = ISO8601DateFormatter().string(from: Date()).prefix(10)
    #expect(daily.last?["date"] as? String == String(today))
    #expect(daily.last?["count"] as? Int == 7 && daily.last?["errors"] as? Int == 3)
    #expect(daily.dropLast().allSatisfy { $0["count"] as? Int == 0 })
    // list and show carry the same figures.
    let shown = try #require(try s.run("show", k.id, "--json").json() as? [String: Any])
    #expect(shown["request_count"] as? Int == 7)
    #expect(shown["last_used_at"] as? String == u["last_used_at"] as? String)
    let table = s.run("usage", k.id)
    #expect(table.stdout.contains("requests:   7"))
    #expect(table.stdout.contains("42.9%"))
    #expect(table.stdout.contains("▁") && table.stdout.contains("█"))
  }

  @Test func importCountsEachRequestOnce() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let yesterday = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-86400))
    let log =
      [
        #"{"request_id":"r1","key_id":"\#(k.id)","endpoint":"GET /v1/jobs","status":200,"at":"\#(yesterday)"}"#,
        #"{"request_id":"r2","key_id":"\#(k.id)","endpoint":"GET /v1/jobs","status":503,"at":"\#(yesterday)"}"#,
        #"{"request_id":"r3","key_id":"\#(String(repeating: "Z", count: 32))","endpoint":"GET /v1/jobs","status":200,"at":"\#(yesterday)"}"#,
        #"{"request_id":"r4","key_id":"\#(k.id)","endpoint":"GET /v1/jobs","status":"ok","at":"\#(yesterday)"}"#,
        "garbage",
      ].joined(separator: "\n") + "\n"
    let file = s.dir.path + "/access.log"
    try Data(log.utf8).write(to: URL(fileURLWithPath: file))
    let first = try #require(try s.run("usage", "import", file, "--json").json() as? [String: Any])
    #expect(first["imported"] as? Int == 2)
    #expect(first["unknown_keys"] as? Int == 1)
    #expect(first["bad_lines"] as? Int == 2)
    let again = s.run(["usage", "import", "-", "--json"], stdin: log)
    let second = try #require(try again.json() as? [String: Any])
    #expect(second["imported"] as? Int == 0)
    #expect(second["duplicates"] as? Int == 2)
    #expect(again.stderr.contains("ivkeys: warning: 1 line names a key id this vault does not have"))
    let u = try #require(try s.run("usage", k.id, "--json").json() as? [String: Any])
    #expect(u["request_count"] as? Int == 2)
    #expect(u["error_count"] as? Int == 1)
    let daily = try #require(u["daily"] as? [[String: Any]])
    #expect(daily[28]["count"] as? Int == 2, "counted on the day of the log line")
    #expect(s.run("usage", "import", s.dir.path + "/nope").status == 1)
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func verifyFailsClosedWhenTheDecisionCannotBeRecorded() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    // Make every audit insert fail, as a full disk or a read-only file would (root ignores file
    // modes, so a trigger stands in for them here).
    try s.database().execute(
      "CREATE TRIGGER fail_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END;")
    let r = s.run(["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read"], stdin: k.key)
    #expect(r.status == 1)
    #expect(r.stdout.isEmpty, "no decision may be given")
    #expect(r.stderr.hasPrefix("ivkeys: error: "))
    let batch = s.run(
      ["verify", "--batch", "--env", "live"], stdin: #"{"key":"\#(k.key)","company":"acme","scope":"jobs:read"}"# + "\n"
    )
    #expect(batch.status == 1)
    #expect(batch.stdout.isEmpty)
    #expect(try s.count("SELECT request_count FROM keys") == 0, "usage rolled back with the audit entry")
  }

  @Test(
    .enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"),
    .enabled(if: getuid() != 0, "root ignores file modes"))
  func verifyFailsClosedOnAReadOnlyVault() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    chmod(s.vault, 0o400)
    let r = s.run(["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read"], stdin: k.key)
    #expect(r.status == 1)
    #expect(r.stdout.isEmpty)
  }

  /// Whether this machine lets the test bind-mount a directory read-only in a private mount
  /// namespace (root with CAP_SYS_ADMIN, as on the CI machines).
  static let canMountReadOnly: Bool = {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
    p.arguments = ["-m", "sh", "-c", "mount --bind -o ro / /mnt"]
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
  }()

  @Test(
    .enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"),
    .enabled(if: canMountReadOnly, "needs unshare and mount"))
  func verifyFailsClosedOnAReadOnlyFilesystem() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let dir = s.dir.path + "/vault"
    let r = s.exec(
      "/usr/bin/unshare",
      [
        "-m", "sh", "-c",
        "mount --bind -o ro \"$1\" \"$1\" && printf '%s' \"$KEY\" | \"$0\" verify --env live --company acme --scope jobs:read",
        Sandbox.binary, dir,
      ], env: ["KEY": k.key])
    let (text, errors) = (r.stdout, r.stderr)
    #expect(r.status == 1, "\(errors)")
    #expect(text.isEmpty, "no decision may be given")
    #expect(errors.hasPrefix("ivkeys: error: "))
    #expect(!errors.contains(k.key))
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func verifyFailsClosedWhenTheDiskIsFull() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    _ = s.run(["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read"], stdin: k.key)
    // RLIMIT_FSIZE of 0: every write that grows a file fails with EFBIG, like a full disk.
    let r = s.exec(
      "/bin/sh",
      [
        "-c",
        "ulimit -f 0; trap '' XFSZ; printf '%s' \"$KEY\" | \"$0\" verify --env live --company acme --scope jobs:read",
        Sandbox.binary,
      ],
      env: ["KEY": k.key])
    #expect(r.status == 1)
    #expect(!r.stdout.contains("allowed"))
    #expect(try s.engineIntact())
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func neitherVaultNorAuditEverHoldsAPresentedKey() throws {
    let s = try Sandbox()
    let holder = try s.database()
    _ = try holder.scalarInt("SELECT count(*) FROM keys")
    let k = try s.createKey()
    let presented = [k.key, withOtherSecret(k.key), String(k.key.dropLast(3)), "Bearer \(k.key)"]
    for p in presented {
      _ = s.run(["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read"], stdin: p)
    }
    _ = s.run(
      ["verify", "--batch", "--env", "live"],
      stdin: presented.map { #"{"key":"\#($0)","company":"acme","scope":"jobs:read"}"# }.joined(separator: "\n"))
    let bytes = s.vaultBytes()
    for p in presented {
      let secret = String(p.replacingOccurrences(of: "Bearer ", with: "").dropFirst(41).prefix(30))
      #expect(bytes.range(of: Data(secret.utf8)) == nil)
    }
    let audit = s.run("audit", "--json").stdout
    #expect(!audit.contains(String(k.key.dropFirst(41).prefix(20))))
    #expect(try s.count("SELECT count(*) FROM audit WHERE event LIKE 'auth.%'") == 8)
  }
}
