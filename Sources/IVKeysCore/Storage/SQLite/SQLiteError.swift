import CSQLite

/// An error SQLite reported. It carries the extended result code, SQLite's message and the SQL
/// text, never the bound values: those can be digests, names or secrets.
public struct SQLiteError: Error, Equatable, CustomStringConvertible, Sendable {
  /// The extended result code (`sqlite3_extended_errcode`).
  public let code: Int32
  /// SQLite's message (`sqlite3_errmsg`).
  public let message: String
  /// The statement that failed, when there was one.
  public let sql: String?

  /// The primary result code (the low byte of the extended code).
  public var primaryCode: Int32 { code & 0xff }

  public var description: String {
    switch primaryCode {
    case SQLITE_READONLY: return "the vault is read-only: \(message)"
    case SQLITE_FULL: return "the disk is full: \(message)"
    case SQLITE_CORRUPT, SQLITE_NOTADB: return "the vault is damaged or not an ivkeys vault: \(message)"
    case SQLITE_BUSY: return "the vault is busy: another process held its lock too long"
    default:
      return "vault error (SQLite \(code)): \(message)"
    }
  }

  /// What to do about it.
  public var hint: String? {
    switch primaryCode {
    case SQLITE_READONLY: return "check the permissions of the vault and its directory"
    case SQLITE_FULL: return "free some disk space; the vault was not changed"
    case SQLITE_CORRUPT, SQLITE_NOTADB: return "restore the vault from a backup"
    case SQLITE_BUSY: return "retry; if it persists, look for a stuck ivkeys process"
    case SQLITE_CANTOPEN: return "check that the vault's directory exists and is accessible"
    default: return sql.map { "the statement was: \($0)" }
    }
  }
}
