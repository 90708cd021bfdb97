import CLibPQ
import Glibc

/// One connection to a PostgreSQL server through `LibPQ`: statements with bound parameters
/// (`PQexecParams`, text format), rows as text, errors with the server's SQLSTATE. Closed when
/// released.
public final class PGConnection {
  let lib: LibPQ
  let conn: OpaquePointer

  /// A failed statement: the server's message and its SQLSTATE (`42P01`, `40001`, …).
  public struct Failure: Error, Equatable, Sendable {
    public let message: String
    public let sqlState: String
  }

  /// Connects with a libpq connection string or URI (`host=/run/pg dbname=ivkeys`,
  /// `postgresql://host/db`). Throws `.vault` with libpq's reason when it cannot.
  public init(_ conninfo: String) throws(IVKeysError) {
    lib = try LibPQ.load()
    guard let c = lib.connect(conninfo) else { throw .vault("cannot connect to PostgreSQL: out of memory") }
    guard lib.status(c) == CONNECTION_OK else {
      let why = Self.text(lib.errorMessage(c))
      lib.finish(c)
      throw .vault(
        "cannot connect to PostgreSQL: \(why)",
        hint: "check the server is running and the vault's URL (host, port, database, user)")
    }
    conn = c
  }

  deinit { lib.finish(conn) }

  /// Runs one statement with `parameters` bound in order to `$1`, `$2`, … (nil is NULL) and
  /// returns its rows, each column as text or nil for NULL.
  @discardableResult
  public func query(_ sql: String, _ parameters: [String?] = []) throws(Failure) -> [[String?]] {
    let copies = parameters.map { $0.map { strdup($0) } ?? nil }
    defer { for p in copies { free(p) } }
    let values = copies.map { UnsafePointer($0) }
    let result = values.withUnsafeBufferPointer { v in
      lib.execParams(conn, sql, Int32(v.count), nil, v.baseAddress, nil, nil, 0)
    }
    defer { lib.clear(result) }
    let status = lib.resultStatus(result)
    guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else { throw failure(result) }
    var rows = [[String?]]()
    let n = lib.ntuples(result)
    let m = lib.nfields(result)
    rows.reserveCapacity(Int(n))
    for r in 0..<n {
      rows.append(
        (0..<m).map { c in lib.getisnull(result, r, c) != 0 ? nil : Self.text(lib.getvalue(result, r, c)) })
    }
    return rows
  }

  /// Runs statements with no parameters, several in one text (`PQexec`): schema migrations,
  /// written in this program, never built from input.
  public func execute(_ sql: StaticString) throws(Failure) {
    let result = sql.description.withCString { lib.exec(conn, $0) }
    defer { lib.clear(result) }
    let status = lib.resultStatus(result)
    guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else { throw failure(result) }
  }

  /// The failure a result (or, without one, the connection) reports.
  func failure(_ result: OpaquePointer?) -> Failure {
    // 'M' (77) is the primary message, 'C' (67) the SQLSTATE.
    let message = result == nil ? "" : Self.text(lib.resultErrorField(result, 77))
    return Failure(
      message: message.isEmpty ? Self.text(lib.errorMessage(conn)) : message,
      sqlState: result == nil ? "" : Self.text(lib.resultErrorField(result, 67)))
  }

  static func text(_ p: UnsafeMutablePointer<CChar>?) -> String {
    guard let p else { return "" }
    var s = String(cString: p)
    while s.last == "\n" || s.last == " " { s.removeLast() }
    return s
  }
}
