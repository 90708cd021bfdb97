import Foundation
import Glibc
import Testing

@testable import IVKeysCore

/// What only a PostgreSQL vault has: the server's roles, copies between engines, a connection
/// lost in the middle of a transaction, and a server that refuses. These run in every `make
/// test`, on the test server `Engine` starts, whatever engine the rest of the suite uses.
@Suite("PostgreSQL vaults")
struct PostgresVaultTests {
  /// `s.vault` as another role would name it.
  static func url(_ s: Sandbox, user: String) -> String {
    s.vault.replacingOccurrences(of: "user=\(PostgresServer.user)", with: "user=\(user)")
  }

  /// A login role of this test's own, member of `group`.
  static func loginRole(_ s: Sandbox, in group: String) throws -> String {
    let name = "r" + UUID().uuidString.prefix(8).lowercased()
    try s.server().executeNow("CREATE ROLE \(name) LOGIN IN ROLE \(group)")
    return name
  }

  @Test func theServerEnforcesTheVerifyAndAdminRoles() throws {
    let s = try Sandbox(engine: .postgresql)
    let k = try s.createKey()
    for _ in 0..<2 {
      let r = s.run("init", "--roles", "--json")
      #expect(r.status == 0, "\(r.stderr)")
      let o = try #require(try r.json() as? [String: Any])
      #expect(o["roles"] as? [String] == ["ivkeys_admin", "ivkeys_verify"] && o["initialized"] as? Bool == false)
    }
    let gateway = try Self.loginRole(s, in: "ivkeys_verify")
    let admin = try Self.loginRole(s, in: "ivkeys_admin")
    let asGateway = ["IVKEYS_VAULT": Self.url(s, user: gateway)]
    let asAdmin = ["IVKEYS_VAULT": Self.url(s, user: admin)]
    // The gateway decides, and its decision is recorded with its usage.
    let v = s.run(
      ["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read", "--ip", "10.1.2.3"],
      env: asGateway.merging(["IVKEYS_KEY": k.key]) { a, _ in a })
    #expect(v.status == 0, "\(v.stderr)")
    #expect(try s.count("SELECT request_count FROM keys") == 1)
    // It can change no key, nor the catalog, nor the log.
    let c = s.run(["create", "--company", "acme", "--name", "n", "--scope", "jobs:read"], env: asGateway)
    #expect(c.status == 1 && c.stderr.contains("permission denied for table keys"), "\(c.stderr)")
    #expect(c.stdout.isEmpty)
    let gw = try PGConnection(Self.url(s, user: gateway))
    for sql in [
      "UPDATE keys SET status = 'active'", "DELETE FROM keys", "UPDATE audit SET actor = 'x'", "DELETE FROM audit",
      "TRUNCATE audit", "TRUNCATE usage_hourly", "DELETE FROM usage_hourly", "INSERT INTO admins VALUES ('x', 0, 'x')",
    ] {
      if let f = (#expect(throws: PGConnection.Failure.self) { try gw.query(sql) }) { #expect(f.sqlState == "42501") }
    }
    // An administrator changes keys; the log stays append-only even for it.
    let made = s.run(["create", "--company", "acme", "--name", "by admin", "--scope", "jobs:read", "-q"], env: asAdmin)
    #expect(made.status == 0, "\(made.stderr)")
    let adm = try PGConnection(Self.url(s, user: admin))
    let refused = #expect(throws: PGConnection.Failure.self) { try adm.query("DELETE FROM audit") }
    #expect(refused?.message.contains("append-only") == true)
    #expect(s.run("audit", "verify").status == 0)
    // On SQLite there are no roles: refused before anything is made.
    let lite = try Sandbox(engine: .sqlite)
    let r = lite.run("init", "--roles")
    #expect(r.status == 2 && r.stderr.contains("--roles is for a PostgreSQL vault"), "\(r.stderr)")
  }

  @Test func aVaultIsCopiedBothWaysWithItsSealsChainAndCounts() throws {
    let s = try Sandbox(engine: .sqlite)
    let a = try s.createKey(["--tag", "t1", "--meta", "team=core", "--allow-ip", "10.0.0.0/8"])
    let b = try s.createKey(["--env", "test"])
    #expect(s.run("rotate", b.id, "--grace", "1h", "-q").status == 0)
    #expect(s.run("suspend", a.id, "--reason", "audit").status == 0)
    #expect(s.run("resume", a.id).status == 0)
    #expect(s.run("admin", "add", "alice").status == 0)
    _ = s.run(
      ["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read", "--ip", "10.9.9.9"],
      env: ["IVKEYS_KEY": a.key])
    let head = s.run("audit", "head").stdout
    let (pg, database) = try Engine.newDatabase()
    defer { Engine.dropDatabase(database) }
    let there = s.run("vault", "copy", s.vault, pg, "--json")
    #expect(there.status == 0, "\(there.stderr)")
    let o = try #require(try there.json() as? [String: Any])
    #expect(o["keys"] as? Int == 3 && o["audit_head"] as? String == head.trimmingCharacters(in: .newlines))
    // The same vault, whichever engine holds it.
    let onPG = ["IVKEYS_VAULT": pg]
    for args in [
      ["list", "--json"], ["show", a.id, "--json"], ["usage", a.id, "--json"], ["audit", "--json"], ["admin", "list"],
    ] {
      #expect(s.run(args, env: onPG).stdout == s.run(args).stdout, "\(args)")
    }
    #expect(s.run(["doctor"], env: onPG).status == 0)
    let again = s.run(
      ["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read", "--ip", "10.9.9.9"],
      env: onPG.merging(["IVKEYS_KEY": a.key]) { x, _ in x })
    #expect(again.status == 0, "\(again.stderr)")
    // And back into a new file.
    let back = s.dir.path + "/back/vault.db"
    let r = s.run("vault", "copy", pg, back)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("copied 3 keys and "))
    #expect(
      s.run(["audit", "head"], env: ["IVKEYS_VAULT": back]).stdout == s.run(["audit", "head"], env: onPG).stdout)
    #expect(
      s.run(["list", "--json"], env: ["IVKEYS_VAULT": back]).stdout == s.run(["list", "--json"], env: onPG).stdout)
    #expect(s.run(["doctor"], env: ["IVKEYS_VAULT": back]).status == 0)
    // Never over a vault: both destinations exist now.
    for dest in [pg, back] {
      let twice = s.run("vault", "copy", s.vault, dest)
      #expect(twice.status == 1 && twice.stderr.contains("already exists"), "\(dest): \(twice.stderr)")
    }
    #expect(try s.server(pg).query("SELECT count(*) FROM keys").first?.int(0) == 3)
    // A source changed outside ivkeys is not copied, and nothing is made.
    try s.tamper("UPDATE keys SET scopes = '[\"*\"]' WHERE id = '\(b.id)'")
    let bad = s.run("vault", "copy", s.vault, s.dir.path + "/bad.db")
    #expect(bad.status == 1 && bad.stderr.contains("changed outside ivkeys"), "\(bad.stderr)")
    #expect(!FileManager.default.fileExists(atPath: s.dir.path + "/bad.db"))
    // A password on the command line is refused for either end.
    let pw = s.run("vault", "copy", s.vault, "postgresql://u:pw@db/x")
    #expect(pw.status == 2 && !pw.stderr.contains("pw@"))
  }

  @Test func aCopyThatFailsItsChecksLeavesNoDatabaseHalfMade() throws {
    let s = try Sandbox(engine: .sqlite)
    _ = try s.createKey()
    // A row PostgreSQL cannot hold (text in a count): the transaction fails part way.
    try s.tamper("INSERT INTO usage_daily VALUES ('k', '2026-01-01', 'many', 0);")
    let (pg, database) = try Engine.newDatabase()
    defer { Engine.dropDatabase(database) }
    let r = s.run("vault", "copy", s.vault, pg)
    #expect(r.status == 1, "\(r.stderr)")
    #expect(try s.server(pg).query("SELECT to_regclass('keys') IS NULL").first?.bool(0) == true)
  }

  @Test func verifyFailsClosedWhenTheServerRefuses() throws {
    let s = try Sandbox(engine: .postgresql)
    let k = try s.createKey()
    let args = ["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read", "--json"]
    func decide(_ env: [String: String] = [:]) -> RunResult {
      s.run(args, env: env.merging(["IVKEYS_KEY": k.key]) { a, _ in a })
    }
    #expect(decide().status == 0)
    let database = try #require(try s.server().query("SELECT current_database()").first?.text(0))
    // A read-only server (a standby, or a database set so).
    try s.server().executeNow("ALTER DATABASE \(database) SET default_transaction_read_only = on")
    let ro = decide()
    #expect(ro.status == 1 && !ro.stdout.contains("\"allowed\":true"), "\(ro.stdout) \(ro.stderr)")
    #expect(ro.stderr.contains("read-only"), "\(ro.stderr)")
    let owner = try s.server()
    try owner.executeNow("SET default_transaction_read_only = off")
    try owner.executeNow("ALTER DATABASE \(database) RESET default_transaction_read_only")
    // A gateway that may no longer record decisions.
    #expect(s.run("init", "--roles").status == 0)
    let gateway = try Self.loginRole(s, in: "ivkeys_verify")
    try s.server().executeNow("REVOKE INSERT ON audit FROM ivkeys_verify")
    let denied = decide(["IVKEYS_VAULT": Self.url(s, user: gateway)])
    #expect(denied.status == 1 && !denied.stdout.contains("\"allowed\":true"), "\(denied.stderr)")
    #expect(denied.stderr.contains("permission denied"), "\(denied.stderr)")
    #expect(s.run("init", "--roles").status == 0, "re-running refreshes the grants")
    #expect(decide(["IVKEYS_VAULT": Self.url(s, user: gateway)]).status == 0)
    // A server that is gone.
    let own = try PostgresServer()
    let lone = try Sandbox(initialize: false, engine: .sqlite)
    let url = "postgresql:///postgres?host=\(own.dir.path)&user=\(own.user)"
    lone.environment["IVKEYS_VAULT"] = url
    #expect(lone.run("init").status == 0)
    let key = try lone.createKey()
    own.stop()
    let gone = lone.run(args, env: ["IVKEYS_KEY": key.key])
    #expect(gone.status == 1 && gone.stdout.isEmpty, "\(gone.stdout)")
    #expect(gone.stderr.contains("cannot connect to PostgreSQL"), "\(gone.stderr)")
  }

  /// The connection is cut while a bulk create's rows are being written: the process reports it
  /// and nothing of the transaction remains. The test holds a SHARE lock on the audit table, so
  /// the create's INSERT of its keys goes through and its INSERT of their entries waits; the
  /// server then ends that backend, as a network failure or a restart would.
  @Test func aConnectionLostDuringABulkCreateLeavesNothing() throws {
    let s = try Sandbox(engine: .postgresql)
    _ = try s.createKey()
    let (keys, entries) = (s.keyCount, s.auditCount)
    let holder = try s.server()
    try holder.execute("BEGIN")
    try holder.query("LOCK TABLE audit IN SHARE MODE")
    let (p, out, err) = try s.start([
      "create", "--company", "acme", "--name", "bulk", "--scope", "jobs:read", "--count", "3000", "-q",
    ])
    // Watched from a connection of its own: inside a transaction pg_stat_activity stays as it
    // was when first read.
    let watcher = try s.server()
    var victim: Int64?
    while victim == nil && p.isRunning {
      victim = try watcher.query(
        """
        SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
        """
      ).first?.int(0)
      if victim == nil { usleep(20_000) }
    }
    let pid = try #require(victim, "the create never waited for the lock")
    #expect(
      try holder.query("SELECT count(*) FROM keys").first?.int(0) == keys, "its keys are not visible before commit")
    try watcher.query("SELECT pg_terminate_backend($1::int)", [String(pid)])
    try holder.execute("ROLLBACK")
    p.waitUntilExit()
    let stdout = try String(contentsOf: out, encoding: .utf8)
    let stderr = try String(contentsOf: err, encoding: .utf8)
    #expect(p.terminationStatus == 1, "\(stderr)")
    #expect(stderr.contains("ivkeys: error: lost the connection to the PostgreSQL vault"), "\(stderr)")
    #expect(stdout.isEmpty, "no key is printed that was not committed")
    #expect(s.keyCount == keys && s.auditCount == entries)
    #expect(s.run("audit", "verify").status == 0)
    #expect(s.run("create", "--company", "acme", "--name", "after", "--scope", "jobs:read", "-q").status == 0)
  }

  @Test func backupPointsToPgDumpAndAnUnknownHostIsAClearError() throws {
    let s = try Sandbox(engine: .postgresql)
    let b = s.run("backup", s.dir.path + "/copy.db")
    #expect(b.status == 2 && b.stderr.contains("pg_dump"), "\(b.stderr)")
    #expect(!FileManager.default.fileExists(atPath: s.dir.path + "/copy.db"))
    // A host that does not resolve (bounded: libpq's connect_timeout).
    let r = s.run(["list"], env: ["IVKEYS_VAULT": "postgresql://no-such-host.invalid/ivkeys?connect_timeout=5"])
    #expect(r.status == 1 && r.stderr.contains("ivkeys: error: cannot connect to PostgreSQL: "), "\(r.stderr)")
    #expect(r.stdout.isEmpty)
  }

  @Test func aNewerSchemaAWrongDatabaseAndASecondInitAreClearErrors() throws {
    let s = try Sandbox(engine: .postgresql)
    _ = try s.createKey()
    let keys = s.keyCount
    // A second init over a vault: refused, and no new secret file made.
    let other = s.dir.path + "/other-secret"
    let twice = s.run(["init"], env: ["IVKEYS_SECRET_FILE": other])
    #expect(twice.status == 1 && twice.stderr.contains("a vault already exists"), "\(twice.stderr)")
    #expect(!FileManager.default.fileExists(atPath: other))
    // A database that does not exist.
    let missing = try Engine.url(database: "ivk_no_such_database")
    let wrong = s.run(["list"], env: ["IVKEYS_VAULT": missing])
    #expect(wrong.status == 1 && wrong.stderr.contains("does not exist"), "\(wrong.stderr)")
    // A vault of a newer ivkeys: refused by every command, and left as it is.
    try s.server().executeNow("SET session_replication_role = replica; UPDATE ivkeys_schema SET version = 99")
    for args in [["list"], ["create", "--company", "acme", "--name", "n", "--scope", "jobs:read"], ["doctor"]] {
      let r = s.run(args)
      #expect(r.status != 0 && (r.stderr + r.stdout).contains("version 99"), "\(args): \(r.stdout) \(r.stderr)")
    }
    #expect(s.keyCount == keys)
    #expect(try s.count("SELECT version FROM ivkeys_schema") == 99)
  }

  @Test func changesMadeOnTheServerOutsideIvkeysAreRefused() throws {
    let s = try Sandbox(engine: .postgresql)
    let k = try s.createKey(["--env", "test"])
    #expect(s.run("revoke", k.id, "--reason", "x").status == 0)
    let args = ["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read"]
    // The revoked test key made live by hand: refused, and named.
    try s.tamper("UPDATE keys SET env = 'live', status = 'active' WHERE id = '\(k.id)'")
    let r = s.run(args, env: ["IVKEYS_KEY": k.key])
    #expect(r.status == 1 && r.stderr.contains("the vault was changed outside ivkeys: key \(k.id)"), "\(r.stderr)")
    // A trigger that swallows audit entries: the schema no longer matches its seal.
    let s2 = try Sandbox(engine: .postgresql)
    let k2 = try s2.createKey()
    try s2.tamper(
      """
      CREATE FUNCTION quiet() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
      CREATE TRIGGER quiet BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION quiet();
      """)
    let before = s2.auditCount
    let q = s2.run(args, env: ["IVKEYS_KEY": k2.key])
    #expect(q.status == 1 && !q.stdout.contains("allowed"), "\(q.stdout) \(q.stderr)")
    #expect(s2.auditCount == before)
    let doctor = s2.run("doctor")
    #expect(doctor.status == 3 && doctor.stdout.contains("trigger quiet on audit was added"), "\(doctor.stdout)")
  }
}

extension Sandbox {
  /// A connection to another vault on the test server.
  func server(_ url: String) throws -> PGConnection { try PGConnection(url) }
}

@Suite("usage import: request ids")
struct UsageImportRequestIDTests {
  /// A request id with a control character (NUL, which PostgreSQL cannot store) is a bad line on
  /// either engine; the lines around it are imported.
  @Test func aControlCharacterInARequestIdIsABadLine() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let at = Time.rfc3339(Time.now() - 60)
    func line(_ request: String) -> String {
      #"{"request_id":"\#(request)","key_id":"\#(k.id)","endpoint":"GET /v1/jobs","status":200,"at":"\#(at)"}"#
    }
    let r = s.run(
      ["usage", "import", "-"],
      stdin: [line("a"), line(#"b\u0000c"#), line("d\\te"), line("f")].joined(separator: "\n") + "\n")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("imported 2 requests") && r.stdout.contains("2 bad lines"), "\(r.stdout)")
    #expect(try s.count("SELECT request_count FROM keys") == 2)
  }
}
