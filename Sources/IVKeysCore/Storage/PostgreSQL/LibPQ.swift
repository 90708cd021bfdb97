import CLibPQ
import Glibc

/// PostgreSQL's client library, loaded when a PostgreSQL vault is named and never linked:
/// `libpq.so.5` needs some two dozen shared libraries (GnuTLS, Kerberos, LDAP, …), whose
/// loading and relocation every `ivkeys` start would pay, SQLite vaults included. The header
/// (`CLibPQ`, from Debian's libpq-dev) gives the types; each function is taken with `dlsym`.
///
/// libpq's own settings apply as they would to `psql`: `PGPASSFILE`, `PGSSLMODE`, `PGSERVICE`,
/// `~/.pgpass`, `pg_service.conf`.
public struct LibPQ: Sendable {
  typealias Connect = @convention(c) (UnsafePointer<CChar>?) -> OpaquePointer?
  typealias Status = @convention(c) (OpaquePointer?) -> ConnStatusType
  typealias ErrorMessage = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<CChar>?
  typealias Finish = @convention(c) (OpaquePointer?) -> Void
  typealias ExecParams =
    @convention(c) (
      OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?,
      UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32
    ) -> OpaquePointer?
  typealias Exec = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> OpaquePointer?
  typealias ResultStatus = @convention(c) (OpaquePointer?) -> ExecStatusType
  typealias ResultErrorField = @convention(c) (OpaquePointer?, Int32) -> UnsafeMutablePointer<CChar>?
  typealias Count = @convention(c) (OpaquePointer?) -> Int32
  typealias GetValue = @convention(c) (OpaquePointer?, Int32, Int32) -> UnsafeMutablePointer<CChar>?
  typealias GetIsNull = @convention(c) (OpaquePointer?, Int32, Int32) -> Int32
  typealias Clear = @convention(c) (OpaquePointer?) -> Void
  typealias LibVersion = @convention(c) () -> Int32

  let connect: Connect
  let status: Status
  let errorMessage: ErrorMessage
  let finish: Finish
  let execParams: ExecParams
  let exec: Exec
  let resultStatus: ResultStatus
  let resultErrorField: ResultErrorField
  let ntuples: Count
  let nfields: Count
  let getvalue: GetValue
  let getisnull: GetIsNull
  let clear: Clear
  let libVersion: LibVersion

  /// The soname Debian's libpq5 package installs.
  public static let soname = "libpq.so.5"

  /// The library, loaded once per process; the same error for every caller when it is missing.
  public static func load() throws(IVKeysError) -> LibPQ {
    switch loaded {
    case .success(let lib): return lib
    case .failure(let e): throw e
    }
  }

  private static let loaded: Result<LibPQ, IVKeysError> = {
    guard let handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL) else {
      let why = dlerror().map { String(cString: $0) } ?? "not found"
      return .failure(
        .vault(
          "cannot load PostgreSQL's client library (\(soname)): \(why)",
          hint: "install it (Debian: apt-get install libpq5), or use a SQLite vault (a file path)"))
    }
    var missing = [String]()
    func symbol<T>(_ name: String, _: T.Type) -> T? {
      guard let p = dlsym(handle, name) else {
        missing.append(name)
        return nil
      }
      return unsafeBitCast(p, to: T.self)
    }
    let lib = (
      symbol("PQconnectdb", Connect.self), symbol("PQstatus", Status.self),
      symbol("PQerrorMessage", ErrorMessage.self), symbol("PQfinish", Finish.self),
      symbol("PQexecParams", ExecParams.self), symbol("PQresultStatus", ResultStatus.self),
      symbol("PQresultErrorField", ResultErrorField.self), symbol("PQntuples", Count.self),
      symbol("PQnfields", Count.self), symbol("PQgetvalue", GetValue.self),
      symbol("PQgetisnull", GetIsNull.self), symbol("PQclear", Clear.self),
      symbol("PQlibVersion", LibVersion.self), symbol("PQexec", Exec.self)
    )
    guard let connect = lib.0, let status = lib.1, let errorMessage = lib.2, let finish = lib.3,
      let execParams = lib.4, let resultStatus = lib.5, let resultErrorField = lib.6, let ntuples = lib.7,
      let nfields = lib.8, let getvalue = lib.9, let getisnull = lib.10, let clear = lib.11,
      let libVersion = lib.12, let exec = lib.13
    else {
      return .failure(
        .vault(
          "\(soname) lacks \(missing.joined(separator: ", "))",
          hint: "install a libpq of PostgreSQL 10 or later"))
    }
    return .success(
      LibPQ(
        connect: connect, status: status, errorMessage: errorMessage, finish: finish, execParams: execParams,
        exec: exec,
        resultStatus: resultStatus, resultErrorField: resultErrorField, ntuples: ntuples, nfields: nfields,
        getvalue: getvalue, getisnull: getisnull, clear: clear, libVersion: libVersion))
  }()

  /// The library's version as PostgreSQL numbers it (150018 for 15.18).
  public var version: Int { Int(libVersion()) }
}
