import Foundation
import Testing

@testable import IVKeysCore

/// The ground the PostgreSQL engine stands on: libpq loaded at run time (never linked), and a
/// connection to a real server that binds every value and reports the server's errors.
@Suite("PostgreSQL: libpq and a real server")
struct PostgresConnectionTests {
  @Test func libpqLoadsAtRunTime() throws {
    let lib = try LibPQ.load()
    #expect(lib.version >= 100_000, "PostgreSQL 10 or later: \(lib.version)")
  }

  /// One server for the whole test (started and stopped here, also when an expectation fails).
  @Test func aRealServerAnswersWithBoundValuesAndItsOwnErrors() throws {
    let server = try PostgresServer()
    defer { server.stop() }
    let db = try PGConnection(server.conninfo)
    #expect(try db.query("SELECT $1::int + 1", ["41"]).values == [["42"]])
    // Values are bound, never spliced into the text: a quote and a statement stay data.
    let hostile = "it's'; DROP TABLE t; --"
    try db.query("CREATE TABLE t (v text)")
    try db.query("INSERT INTO t (v) VALUES ($1), ($2)", [hostile, nil])
    #expect(try db.query("SELECT v FROM t ORDER BY v NULLS LAST").values == [[hostile], [nil]])
    // The server's error, with its SQLSTATE.
    #expect(throws: PGConnection.Failure.self) { try db.query("SELECT * FROM no_such_table") }
    do {
      try db.query("SELECT * FROM no_such_table")
    } catch {
      #expect(error.sqlState == "42P01")
      #expect(error.message.contains("no_such_table"))
    }
    // A database that does not exist: a clear error, not a crash.
    let wrong = server.conninfo.replacingOccurrences(of: "dbname=postgres", with: "dbname=no_such_db")
    do {
      _ = try PGConnection(wrong)
      Issue.record("connected to a database that does not exist")
    } catch {
      #expect(error.description.contains("database \"no_such_db\" does not exist"), "\(error.description)")
      #expect(error.exitCode == 1)
    }
    // The server stopped: connecting fails, closed.
    server.stop()
    do {
      _ = try PGConnection(server.conninfo)
      Issue.record("connected to a stopped server")
    } catch {
      #expect(error.description.hasPrefix("cannot connect to PostgreSQL: "))
    }
  }
}

@Suite("PostgreSQL: the schema")
struct PostgresSchemaTests {
  /// Each SQLite migration needs its PostgreSQL counterpart: the versions stay one numbering.
  @Test func bothEnginesAreAtTheSameVersion() {
    #expect(PostgreSQLSchema.migrations.last?.version == SQLiteSchema.currentVersion)
  }

  @Test func aFreshDatabaseIsMigratedOnceAndTheAuditLogIsAppendOnly() throws {
    let server = try PostgresServer()
    defer { server.stop() }
    let db = try PGConnection(server.conninfo)
    #expect(try PostgreSQLSchema.version(db) == 0)
    try migrate(db)
    #expect(try PostgreSQLSchema.version(db) == SQLiteSchema.currentVersion)
    // Twice is once.
    try migrate(db)
    #expect(try db.query("SELECT count(*) FROM ivkeys_schema").values == [["1"]])
    // Every table SQLite has, the usage totals and the audit head, and no other.
    let tables = try db.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"
    ).values.compactMap { $0.first ?? nil }
    #expect(
      tables == [
        "admins", "alert_states", "audit", "audit_head", "imported_requests", "ivkeys_schema", "key_usage", "keys",
        "meta", "notifications",
        "rate_windows", "request_budgets", "scopes", "secret_versions", "usage_daily", "usage_endpoints",
        "usage_hourly",
        "working_hours",
      ])
    // Appending works; changing or removing does not, even for the owner.
    try db.query(
      "INSERT INTO audit (seq, at, event, actor, os_user, detail, prev_hash, hash) VALUES (1, $1, 'vault.created', 'a', 'a', '{}', '', 'h')",
      ["2026-11-30T00:00:00Z"])
    for sql in ["UPDATE audit SET event = 'x'", "DELETE FROM audit", "TRUNCATE audit"] {
      do {
        try db.query(sql)
        Issue.record("\(sql) was allowed")
      } catch {
        #expect(error.message.contains("the audit log is append-only"), "\(sql): \(error.message)")
        #expect(error.sqlState == "42501")
      }
    }
    #expect(try db.query("SELECT count(*) FROM audit").values == [["1"]])
    // A vault written by a newer ivkeys is refused, and left as it is.
    try db.query("UPDATE ivkeys_schema SET version = 99")
    #expect(throws: IVKeysError.self) { try migrate(db) }
    #expect(try db.query("SELECT version FROM ivkeys_schema").values == [["99"]])
  }

  /// The migrations in a transaction of their own, as `PGStore.migrate` runs them.
  func migrate(_ db: PGConnection) throws {
    try db.execute("BEGIN")
    do {
      try PostgreSQLSchema.apply(db)
      try db.execute("COMMIT")
    } catch {
      try db.execute("ROLLBACK")
      throw error
    }
  }
}
