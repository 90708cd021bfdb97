import Foundation
import Glibc
import Testing

@testable import IVKeysCore

/// The storage engine the end-to-end tests run against: SQLite, or PostgreSQL when
/// `IVKEYS_TEST_ENGINE=postgresql` (`make test` runs the suite once with each). On PostgreSQL
/// one server is started for the test process (`PostgresServer`: a temporary folder, a Unix
/// socket, an unprivileged user) and each sandbox gets a database of its own.
enum Engine: String {
  case sqlite
  case postgresql

  static let current: Engine =
    ProcessInfo.processInfo.environment["IVKEYS_TEST_ENGINE"] == "postgresql" ? .postgresql : .sqlite

  /// For `.enabled(if:)`: tests of what only a SQLite file has (its bytes, modes, WAL, backups).
  static var isSQLite: Bool { current == .sqlite }

  /// The shared server, started on first use and stopped when the process exits.
  nonisolated(unsafe) private static let server: Result<PostgresServer, any Error> = {
    do {
      let s = try PostgresServer()
      atexit { Engine.stopServer() }
      return .success(s)
    } catch {
      return .failure(error)
    }
  }()

  static func stopServer() {
    if case .success(let s) = server { s.stop() }
  }

  private static let lock = NSLock()
  nonisolated(unsafe) private static var admin: PGConnection?

  /// Runs `body` on a connection to the server's `postgres` database, one caller at a time.
  static func withAdmin<T>(_ body: (PGConnection) throws -> T) throws -> T {
    lock.lock()
    defer { lock.unlock() }
    if admin == nil { admin = try PGConnection(try server.get().conninfo) }
    return try body(admin!)
  }

  /// A new, empty database and the vault URL naming it.
  static func newDatabase() throws -> (url: String, name: String) {
    let name = "ivk_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    try withAdmin { try $0.executeNow("CREATE DATABASE \(name)") }
    let s = try server.get()
    return ("postgresql:///\(name)?host=\(s.dir.path)&user=\(s.user)", name)
  }

  /// The vault URL of a database on the shared server that need not exist.
  static func url(database name: String) throws -> String {
    let s = try server.get()
    return "postgresql:///\(name)?host=\(s.dir.path)&user=\(s.user)"
  }

  static func dropDatabase(_ name: String) {
    _ = try? withAdmin { try $0.executeNow("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
  }
}

extension Engine {
  /// A test's SQL (written for SQLite) in the current engine's words: on PostgreSQL `?` is `$n`,
  /// a key's usage columns come from `key_usage`, `json_extract(x, '$.f')` is `x::jsonb ->> 'f'`,
  /// and the statements that drop or make SQLite's audit triggers are left out (`Sandbox.tamper`
  /// goes around the server's triggers instead).
  static func portable(_ sql: String, _ engine: Engine = current) -> String {
    guard engine == .postgresql else { return sql }
    var s = sql.replacing(/DROP TRIGGER audit_no_(update|delete);/, with: "")
    s = s.replacing(/(?s)CREATE TRIGGER audit_no_\w+ .*?END;/, with: "")
    s = s.replacing(/json_extract\((\w+), '\$\.(\w+)'\)/) { m in "(\(m.1)::jsonb ->> '\(m.2)')" }
    if s.contains(/request_count|error_count|last_used_at|last_ip/) {
      s = s.replacing("FROM keys", with: "FROM keys LEFT JOIN key_usage ON key_usage.key_id = keys.id")
      s = s.replacing(/SELECT (request_count|error_count)/) { m in "SELECT coalesce(key_usage.\(m.1), 0)" }
    }
    var out = ""
    var n = 0
    for c in s {
      if c == "?" {
        n += 1
        out += "$\(n)"
      } else {
        out.append(c)
      }
    }
    return out
  }
}

extension Sandbox {
  /// Runs SQL against the vault as someone with write access but not the secret would: the
  /// sqlite3 shell on SQLite; on PostgreSQL the server's superuser, with triggers off for the
  /// session (`session_replication_role = replica`), so the audit log's guard is gone without a
  /// change to the schema.
  func tamper(_ sql: String) throws {
    if engine == .postgresql {
      try server().executeNow("SET session_replication_role = replica; " + Engine.portable(sql, engine))
      return
    }
    let r = exec("/usr/bin/sqlite3", [vault, sql])
    guard r.status == 0 else { throw SandboxError.initFailed("sqlite3 failed: \(sql): \(r.stderr)") }
  }

  /// Runs one statement with values (`?` for each), on either engine: to set a state ivkeys
  /// offers no command for (a time that passed, a counter).
  func edit(_ sql: String, _ values: [SQLValue] = []) throws {
    if engine == .postgresql {
      try server().query(
        Engine.portable(sql, engine),
        values.map { v -> String? in
          switch v {
          case .null: return nil
          case .int(let i): return String(i)
          case .text(let t): return t
          case .blob(let b): return "\\x" + Crypto.hex(b)
          }
        })
      return
    }
    try database().run(sql, values)
  }
}

extension Sandbox {
  /// The first column of the first row as text, on either engine.
  func text(_ sql: String, _ values: [String] = []) throws -> String? {
    if engine == .postgresql { return try server().query(Engine.portable(sql, engine), values).first?.optionalText(0) }
    return try database().scalarText(sql, values.map { .text($0) })
  }

  /// The engine's own consistency check passes (SQLite's integrity_check; PostgreSQL checks its
  /// pages as it reads them, so every table must read).
  func engineIntact() throws -> Bool {
    if engine == .postgresql {
      for table in PGStore.tables { _ = try server().query("SELECT count(*) FROM \(table)") }
      return true
    }
    return try database().scalarText("PRAGMA integrity_check") == "ok"
  }
}
