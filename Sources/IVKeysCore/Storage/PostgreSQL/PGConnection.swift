import CLibPQ
import Glibc

/// One connection to a PostgreSQL server through `LibPQ`: statements with bound parameters
/// (`PQexecParams`, text format), errors with the server's SQLSTATE. Closed when released.
///
/// Writes that return nothing the caller needs (audit entries, new keys, usage counts) can be
/// queued (`enqueue`, `enqueueInsert`) and are sent together before the next statement or at
/// `flush`: rows for one table in one multi-row INSERT, the rest in one pipeline (one round trip
/// for all). An error in any of them fails the transaction they are in, as it would have
/// failed at once.
public final class PGConnection {
  let lib: LibPQ
  let conn: OpaquePointer
  private var pending: [Pending] = []
  /// For each INSERT queued since the last other statement, its place in `pending`: a later row
  /// for the same table joins it.
  private var openInserts: [String: Int] = [:]

  /// A failed statement: the server's message and its SQLSTATE (`42P01`, `40001`, …).
  public struct Failure: Error, Equatable, Sendable {
    public let message: String
    public let sqlState: String

    /// The SQLSTATE of a queued write that changed fewer rows than it must (a trigger swallowed them).
    static let rowsMissing = "ivkeys:rows"
  }

  /// A statement queued for the next flush; `expect` is the number of rows it must change.
  private enum Pending {
    case statement(sql: String, parameters: [String?], expect: Int?, what: String)
    case insert(Insert, rows: [[String?]], what: String)
  }

  /// A multi-row INSERT, `INSERT INTO table (columns) SELECT * FROM unnest($1::type[], …) suffix`:
  /// one array parameter a column, however many rows. The server parses and plans one short
  /// statement instead of one with a placeholder for every value (measured: a bulk create's
  /// rows went in about 3 times faster than as a VALUES list).
  struct Insert {
    let table: String
    let columns: [(name: String, type: String)]
    let suffix: String

    var key: String { table + "(" + columns.map { $0.name }.joined(separator: ",") + ")" + suffix }

    var sql: String {
      let arrays = columns.enumerated().map { "$\($0.offset + 1)::\($0.element.type)[]" }.joined(separator: ", ")
      let s =
        "INSERT INTO \(table) (\(columns.map { $0.name }.joined(separator: ", "))) SELECT * FROM unnest(\(arrays))"
      return suffix.isEmpty ? s : s + " " + suffix
    }

    /// The parameters for `rows`: each column's values as one array literal, every element
    /// quoted (`"` and `\` escaped), NULL bare.
    func parameters(_ rows: ArraySlice<[String?]>) -> [String?] {
      (0..<columns.count).map { c in
        var literal = [UInt8]()
        literal.reserveCapacity(rows.count * 24)
        literal.append(UInt8(ascii: "{"))
        for row in rows {
          if literal.count > 1 { literal.append(UInt8(ascii: ",")) }
          guard var v = row[c] else {
            literal.append(contentsOf: "NULL".utf8)
            continue
          }
          literal.append(UInt8(ascii: "\""))
          v.withUTF8 { bytes in
            if !bytes.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
              literal.append(contentsOf: bytes)
              return
            }
            for b in bytes {
              if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { literal.append(UInt8(ascii: "\\")) }
              literal.append(b)
            }
          }
          literal.append(UInt8(ascii: "\""))
        }
        literal.append(UInt8(ascii: "}"))
        return String(decoding: literal, as: UTF8.self)
      }
    }

    /// Rows per statement, to keep each statement's arrays to a few megabytes.
    static let rowsPerStatement = 5000
  }

  /// Connects with a libpq connection string or URI (`host=/run/pg dbname=ivkeys`,
  /// `postgresql://host/db`). A URI libpq cannot parse is a usage error; a server that cannot be
  /// reached or refuses the connection is `.vault` with libpq's reason.
  public init(_ conninfo: String, options: String? = nil) throws(IVKeysError) {
    lib = try LibPQ.load()
    var parseError: UnsafeMutablePointer<CChar>?
    if let options = lib.conninfoParse(conninfo, &parseError) {
      lib.conninfoFree(options)
    } else {
      let why = Self.text(parseError)
      if let parseError { lib.freemem(parseError) }
      // libpq quotes the part it could not read, which may be a password: only its words are kept.
      let reason = why.split(separator: "\"").enumerated().map { $0.offset % 2 == 1 ? "…" : String($0.element) }
        .joined(separator: "\"")
      throw .usage(
        "the vault's PostgreSQL URL is not valid: \(why.isEmpty ? "out of memory" : reason)",
        hint: "write it as postgresql://[user@]host[:port]/database[?param=value&...]")
    }
    Self.keepStandardDescriptors()
    guard let c = Self.connect(lib, conninfo, options: options) else {
      throw .vault("cannot connect to PostgreSQL: out of memory")
    }
    guard lib.status(c) == CONNECTION_OK else {
      let why = Self.text(lib.errorMessage(c))
      lib.finish(c)
      // A setting libpq cannot take (`port=x`, `sslmode=maybe`) is the URL's fault, not the server's.
      if why.hasPrefix("invalid ") {
        throw .usage("the vault's PostgreSQL URL is not valid: \(why)", hint: "see libpq's connection parameters")
      }
      throw .vault(
        "cannot connect to PostgreSQL: \(why)",
        hint: "check the server is running and the vault's URL (host, port, database, user)")
    }
    conn = c
  }

  deinit { lib.finish(conn) }

  /// `PQconnectdbParams` with `options` (server settings, `-c name=value`) sent in the startup
  /// packet, saving a round trip; `PGOPTIONS` still applies after them, and an `options` in the
  /// URL replaces both.
  static func connect(_ lib: LibPQ, _ conninfo: String, options: String?) -> OpaquePointer? {
    guard var options else { return lib.connect(conninfo) }
    if let extra = getenv("PGOPTIONS") { options += " " + String(cString: extra) }
    return "options".withCString { k1 in
      "dbname".withCString { k2 in
        options.withCString { v1 in
          conninfo.withCString { v2 in
            let keys: [UnsafePointer<CChar>?] = [k1, k2, nil]
            let values: [UnsafePointer<CChar>?] = [v1, v2, nil]
            return lib.connectParams(keys, values, 1)
          }
        }
      }
    }
  }

  /// Fills a closed standard descriptor with /dev/null opened the wrong way round, before the
  /// connection's socket is made: a socket given descriptor 1 would receive what ivkeys prints
  /// (new keys among it). Writing to the stand-in fails with EBADF, as writing to the closed
  /// descriptor would have, so a key that cannot be delivered is still revoked. SQLite never
  /// uses descriptors 0 to 2 for the same reason.
  static func keepStandardDescriptors() {
    for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
      let stand = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY)
      if stand >= 0 && stand != fd {
        dup2(stand, fd)
        close(stand)
      }
    }
  }

  /// Whether a transaction is open (or failed and not yet rolled back) on the connection.
  var inTransaction: Bool { lib.transactionStatus(conn) != 0 }

  /// Runs one statement with `parameters` bound in order to `$1`, `$2`, … (nil is NULL), after
  /// sending what is queued, and returns its rows.
  @discardableResult
  public func query(_ sql: String, _ parameters: [String?] = []) throws(Failure) -> PGResult {
    try flush()
    return try run(sql, parameters, expect: nil, what: "")
  }

  /// The rows a statement changed (UPDATE, INSERT … ON CONFLICT, DELETE).
  public func change(_ sql: String, _ parameters: [String?] = []) throws(Failure) -> Int {
    try query(sql, parameters).changes
  }

  /// Runs statements with no parameters, several in one text (`PQexec`): schema migrations and
  /// transaction control, written in this program, never built from input.
  public func execute(_ sql: StaticString) throws(Failure) {
    try flush()
    try executeNow(sql.description)
  }

  /// The same for a text that the caller vouches holds no input (role names it checked).
  func executeNow(_ sql: String) throws(Failure) {
    try drain()
    let result = sql.withCString { lib.exec(conn, $0) }
    defer { lib.clear(result) }
    let status = lib.resultStatus(result)
    guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else { throw failure(result) }
  }

  /// Queues a statement for the next flush; `expect` rows must change, else the flush fails
  /// with `what`.
  func enqueue(_ sql: String, _ parameters: [String?], expect: Int? = nil, what: String = "") {
    openInserts.removeAll(keepingCapacity: true)
    pending.append(.statement(sql: sql, parameters: parameters, expect: expect, what: what))
  }

  /// Queues one row of a multi-row INSERT; every row must be written, else the flush fails with
  /// `what`. Once a statement's worth of rows is queued, what is queued is sent ahead
  /// (`sendAhead`): the server writes those rows while this process makes the next.
  func enqueueInsert(_ insert: Insert, _ row: [String?], what: String) throws(Failure) {
    let key = insert.key
    if let i = openInserts[key], case .insert(let ins, var rows, let w) = pending[i] {
      pending[i] = .insert(ins, rows: [], what: w)
      rows.append(row)
      let full = rows.count >= Insert.rowsPerStatement
      pending[i] = .insert(ins, rows: rows, what: w)
      if full { try sendAhead() }
      return
    }
    openInserts[key] = pending.count
    pending.append(.insert(insert, rows: [row], what: what))
  }

  /// Starts new statements for rows queued from now on: an upsert's rows must not meet rows of an
  /// earlier call in one statement, which may not change a row twice.
  func closeInserts() { openInserts.removeAll(keepingCapacity: true) }

  /// Drops what is queued and reads the answers to what was sent ahead (its transaction is being
  /// rolled back); never throws.
  func discardQueued() {
    pending.removeAll()
    openInserts.removeAll()
    try? drain()
  }

  /// Sends everything queued and waits for every answer: one statement alone, more in one
  /// pipeline. Throws the first failure (the rest of the pipeline is then skipped by the server,
  /// and the transaction it is in fails).
  func flush() throws(Failure) {
    if !inPipeline, pending.count == 1,
      case .statement(let sql, let parameters, let expect, let what) = pending[0]
    {
      pending.removeAll()
      openInserts.removeAll()
      _ = try run(sql, parameters, expect: expect, what: what)
      return
    }
    try sendAhead()
    try drain()
  }

  /// Statements sent in pipeline mode whose answers are not read yet.
  private var outstanding: [(expect: Int?, what: String)] = []
  /// The first failure met while sending ahead, thrown by `drain`.
  private var sendFailure: Failure?
  /// Whether the connection is in pipeline mode (`sendAhead` entered it, `drain` leaves it).
  private var inPipeline = false

  /// Sends what is queued without waiting for the answers (pipeline mode, entered on first use).
  func sendAhead() throws(Failure) {
    guard !pending.isEmpty else { return }
    let entries = pending
    pending.removeAll(keepingCapacity: true)
    openInserts.removeAll(keepingCapacity: true)
    if !inPipeline {
      guard lib.enterPipelineMode(conn) == 1 else { throw failure(nil) }
      inPipeline = true
    }
    func send(_ sql: String, _ parameters: [String?], _ expect: Int?, _ what: String) throws(Failure) {
      guard sendFailure == nil else { return }
      let ok = try withParameters(parameters) { values, count in
        lib.sendQueryParams(conn, sql, count, nil, values, nil, nil, 0) == 1
      }
      if ok { outstanding.append((expect, what)) } else { sendFailure = failure(nil) }
    }
    for p in entries {
      switch p {
      case .statement(let sql, let parameters, let expect, let what): try send(sql, parameters, expect, what)
      case .insert(let insert, let rows, let what):
        var start = 0
        while start < rows.count {
          let chunk = rows[start..<min(rows.count, start + Insert.rowsPerStatement)]
          try send(insert.sql, insert.parameters(chunk), chunk.count, what)
          start += chunk.count
        }
      }
    }
  }

  /// Ends the pipeline: reads every answer to what was sent ahead and leaves pipeline mode.
  /// Throws the first failure.
  func drain() throws(Failure) {
    guard inPipeline else { return }
    var first = sendFailure
    let sent = outstanding
    outstanding.removeAll()
    sendFailure = nil
    defer {
      _ = lib.exitPipelineMode(conn)
      inPipeline = false
    }
    if lib.pipelineSync(conn) != 1, first == nil { first = failure(nil) }
    for s in sent {
      while let r = lib.getResult(conn) {
        defer { lib.clear(r) }
        let status = lib.resultStatus(r)
        if status == PGRES_PIPELINE_ABORTED { continue }
        if status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK {
          if first == nil { first = failure(r) }
        } else if let n = s.expect, Self.changes(lib, r) != n, first == nil {
          first = Failure(message: s.what, sqlState: Failure.rowsMissing)
        }
      }
    }
    // The sync's own result ends the pipeline; without it the connection is gone.
    if let r = lib.getResult(conn) {
      if lib.resultStatus(r) != PGRES_PIPELINE_SYNC, first == nil { first = failure(r) }
      lib.clear(r)
    } else if first == nil {
      first = failure(nil)
    }
    if let first { throw first }
  }

  private func run(_ sql: String, _ parameters: [String?], expect: Int?, what: String) throws(Failure) -> PGResult {
    let result = try withParameters(parameters) { values, count in
      lib.execParams(conn, sql, count, nil, values, nil, nil, 0)
    }
    guard let result else { throw failure(nil) }
    let status = lib.resultStatus(result)
    guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
      defer { lib.clear(result) }
      throw failure(result)
    }
    let r = PGResult(lib: lib, handle: result)
    if let expect, r.changes != expect { throw Failure(message: what, sqlState: Failure.rowsMissing) }
    return r
  }

  /// Calls `body` with the parameters as C strings. PostgreSQL's text cannot hold a NUL byte:
  /// a value with one is refused, never cut short at it.
  private func withParameters<T>(
    _ parameters: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?, Int32) -> T
  ) throws(Failure) -> T {
    var copies = [UnsafeMutablePointer<CChar>?]()
    copies.reserveCapacity(parameters.count)
    defer { for p in copies { free(p) } }
    for p in parameters {
      guard let p else {
        copies.append(nil)
        continue
      }
      if p.utf8.contains(0) {
        throw Failure(message: "a value holds a NUL byte, which PostgreSQL cannot store", sqlState: "22021")
      }
      copies.append(strdup(p))
    }
    return copies.withUnsafeBufferPointer { buffer in
      buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { body($0.baseAddress, Int32($0.count)) }
    }
  }

  static func changes(_ lib: LibPQ, _ result: OpaquePointer) -> Int { Int(text(lib.cmdTuples(result))) ?? 0 }

  /// The failure a result (or, without one, the connection) reports.
  func failure(_ result: OpaquePointer?) -> Failure {
    // 'M' (77) is the primary message, 'C' (67) the SQLSTATE.
    let message = result == nil ? "" : Self.text(lib.resultErrorField(result, 77))
    let state = result == nil ? "" : Self.text(lib.resultErrorField(result, 67))
    return Failure(
      message: message.isEmpty ? Self.text(lib.errorMessage(conn)) : message,
      // libpq's own failures (the connection lost) carry no SQLSTATE: 08006, connection failure.
      sqlState: state.isEmpty && lib.status(conn) != CONNECTION_OK ? "08006" : state)
  }

  static func text(_ p: UnsafeMutablePointer<CChar>?) -> String {
    guard let p else { return "" }
    var s = String(cString: p)
    while s.last == "\n" || s.last == " " { s.removeLast() }
    return s
  }
}
