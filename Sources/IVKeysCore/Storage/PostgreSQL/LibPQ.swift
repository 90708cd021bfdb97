import CLibPQ
import Glibc

/// PostgreSQL's client library, loaded when a PostgreSQL vault is named and never linked:
/// `libpq.so.5` needs some two dozen shared libraries (GnuTLS, Kerberos, LDAP, …), whose
/// loading and relocation every `ivkeys` start would pay, SQLite vaults included. The header
/// (`CLibPQ`, from Debian's libpq-dev) gives the types; each function is taken with `dlsym`.
///
/// libpq's own settings apply as they would to `psql`: `PGPASSFILE`, `PGSSLMODE`, `PGSERVICE`,
/// `~/.pgpass`, `pg_service.conf`.
public struct LibPQ: @unchecked Sendable {
  typealias Connect = @convention(c) (UnsafePointer<CChar>?) -> OpaquePointer?
  typealias ConnectParams =
    @convention(c) (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?, Int32) ->
    OpaquePointer?
  typealias Status = @convention(c) (OpaquePointer?) -> ConnStatusType
  typealias ErrorMessage = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<CChar>?
  typealias Finish = @convention(c) (OpaquePointer?) -> Void
  typealias ExecParams =
    @convention(c) (
      OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?,
      UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32
    ) -> OpaquePointer?
  typealias SendQueryParams =
    @convention(c) (
      OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?,
      UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32
    ) -> Int32
  typealias Exec = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> OpaquePointer?
  typealias ResultStatus = @convention(c) (OpaquePointer?) -> ExecStatusType
  typealias ResultErrorField = @convention(c) (OpaquePointer?, Int32) -> UnsafeMutablePointer<CChar>?
  typealias Count = @convention(c) (OpaquePointer?) -> Int32
  typealias GetValue = @convention(c) (OpaquePointer?, Int32, Int32) -> UnsafeMutablePointer<CChar>?
  typealias GetInt = @convention(c) (OpaquePointer?, Int32, Int32) -> Int32
  typealias Clear = @convention(c) (OpaquePointer?) -> Void
  typealias LibVersion = @convention(c) () -> Int32
  typealias ConnFlag = @convention(c) (OpaquePointer?) -> Int32
  typealias CmdTuples = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<CChar>?
  typealias ConninfoParse =
    @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> OpaquePointer?
  typealias ConninfoFree = @convention(c) (OpaquePointer?) -> Void
  typealias GetResult = @convention(c) (OpaquePointer?) -> OpaquePointer?
  typealias FreeMem = @convention(c) (UnsafeMutableRawPointer?) -> Void

  let connect: Connect
  let connectParams: ConnectParams
  let status: Status
  let errorMessage: ErrorMessage
  let finish: Finish
  let execParams: ExecParams
  let sendQueryParams: SendQueryParams
  let exec: Exec
  let resultStatus: ResultStatus
  let resultErrorField: ResultErrorField
  let ntuples: Count
  let nfields: Count
  let getvalue: GetValue
  let getlength: GetInt
  let getisnull: GetInt
  let clear: Clear
  let libVersion: LibVersion
  let getResult: GetResult
  let enterPipelineMode: ConnFlag
  let exitPipelineMode: ConnFlag
  let pipelineSync: ConnFlag
  let transactionStatus: ConnFlag
  let cmdTuples: CmdTuples
  let conninfoParse: ConninfoParse
  let conninfoFree: ConninfoFree
  let freemem: FreeMem

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
    func symbol<T>(_ name: String, _: T.Type = T.self) -> T {
      guard let p = dlsym(handle, name) else {
        missing.append(name)
        return unsafeBitCast(Self.absent, to: T.self)
      }
      return unsafeBitCast(p, to: T.self)
    }
    let lib = LibPQ(
      connect: symbol("PQconnectdb"), connectParams: symbol("PQconnectdbParams"), status: symbol("PQstatus"),
      errorMessage: symbol("PQerrorMessage"),
      finish: symbol("PQfinish"), execParams: symbol("PQexecParams"), sendQueryParams: symbol("PQsendQueryParams"),
      exec: symbol("PQexec"), resultStatus: symbol("PQresultStatus"),
      resultErrorField: symbol("PQresultErrorField"), ntuples: symbol("PQntuples"), nfields: symbol("PQnfields"),
      getvalue: symbol("PQgetvalue"), getlength: symbol("PQgetlength"), getisnull: symbol("PQgetisnull"),
      clear: symbol("PQclear"), libVersion: symbol("PQlibVersion"), getResult: symbol("PQgetResult"),
      enterPipelineMode: symbol("PQenterPipelineMode"), exitPipelineMode: symbol("PQexitPipelineMode"),
      pipelineSync: symbol("PQpipelineSync"), transactionStatus: symbol("PQtransactionStatus"),
      cmdTuples: symbol("PQcmdTuples"), conninfoParse: symbol("PQconninfoParse"),
      conninfoFree: symbol("PQconninfoFree"), freemem: symbol("PQfreemem"))
    guard missing.isEmpty else {
      return .failure(
        .vault(
          "\(soname) lacks \(missing.joined(separator: ", "))",
          hint: "install the libpq of PostgreSQL 14 or later (its pipeline mode is used)"))
    }
    return .success(lib)
  }()

  /// What a missing symbol is bound to until the load is refused (never called).
  private static var absent: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: 1)! }

  /// The library's version as PostgreSQL numbers it (150018 for 15.18).
  public var version: Int { Int(libVersion()) }
}
