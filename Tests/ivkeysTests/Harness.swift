import Foundation
import Testing

@testable import IVKeysCore

/// What one run of the built `ivkeys` did.
struct RunResult {
  let status: Int32
  let stdout: String
  let stderr: String

  var lines: [String] { stdout.split(separator: "\n").map(String.init) }

  /// stdout parsed as JSON.
  func json() throws -> Any {
    try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
  }
}

/// A throwaway directory with a vault and a secret path, and a way to run `ivkeys` against them
/// exactly as a user would: a separate process, arguments, environment and stdin.
final class Sandbox: @unchecked Sendable {
  let dir: URL
  /// The vault: a file for SQLite, a database of its own on the shared test server for
  /// PostgreSQL (`Engine.current`).
  let vault: String
  /// The vault's own database on PostgreSQL.
  private let databaseName: String?
  var secret: String { dir.path + "/config/secret" }
  /// Extra environment for every run.
  var environment: [String: String] = [:]

  /// The `ivkeys` binary built beside the test bundle.
  static let binary: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // Swift Testing on Linux may run from the .xctest bundle itself; the binary sits beside it.
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("ivkeys").path) && dir.path != "/" {
      dir.deleteLastPathComponent()
    }
    return dir.appendingPathComponent("ivkeys").path
  }()

  /// The engine this sandbox's vault is on.
  let engine: Engine

  init(initialize: Bool = true, engine: Engine = Engine.current) throws {
    self.engine = engine
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("ivkeys-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    if engine == .postgresql {
      let (url, name) = try Engine.newDatabase()
      vault = url
      databaseName = name
    } else {
      vault = dir.path + "/vault/vault.db"
      databaseName = nil
    }
    if initialize {
      let r = run("init")
      guard r.status == 0 else { throw SandboxError.initFailed(r.stderr) }
    }
  }

  deinit {
    try? FileManager.default.removeItem(at: dir)
    if let databaseName { Engine.dropDatabase(databaseName) }
  }

  enum SandboxError: Error { case initFailed(String) }

  /// The environment a run gets: no inherited vault, secret or color settings.
  func processEnvironment(_ extra: [String: String]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    for k in [
      "IVKEYS_VAULT", "IVKEYS_SECRET_FILE", "IVKEYS_ACTOR", "NO_COLOR", "SUDO_USER", "IVKEYS_KEY", "IVKEYS_ENV",
    ] {
      env.removeValue(forKey: k)
    }
    env["IVKEYS_VAULT"] = vault
    env["IVKEYS_SECRET_FILE"] = secret
    env["HOME"] = dir.path + "/home"
    env["XDG_DATA_HOME"] = nil
    env["XDG_CONFIG_HOME"] = nil
    for (k, v) in environment { env[k] = v }
    for (k, v) in extra { env[k] = v }
    return env
  }

  /// Starts `ivkeys` (or `executable`) without waiting; stdout and stderr go to files.
  func start(_ args: [String], env: [String: String] = [:], stdin: String? = nil, executable: String = Sandbox.binary)
    throws -> (Process, URL, URL)
  {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    p.environment = processEnvironment(env)
    let id = UUID().uuidString
    let out = dir.appendingPathComponent("out-\(id)")
    let err = dir.appendingPathComponent("err-\(id)")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    p.standardOutput = try FileHandle(forWritingTo: out)
    p.standardError = try FileHandle(forWritingTo: err)
    if let stdin {
      let inFile = dir.appendingPathComponent("in-\(id)")
      try Data(stdin.utf8).write(to: inFile)
      p.standardInput = try FileHandle(forReadingFrom: inFile)
    } else {
      p.standardInput = FileHandle.nullDevice
    }
    try p.run()
    return (p, out, err)
  }

  /// Starts `ivkeys ARGS` with pipes for stdin and stdout, as a gateway keeps a `verify --batch`
  /// coprocess: write a line, read its answer.
  func startCoprocess(_ args: [String]) throws -> (process: Process, input: Pipe, output: Pipe) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Sandbox.binary)
    p.arguments = args
    p.environment = processEnvironment([:])
    let input = Pipe()
    let output = Pipe()
    p.standardInput = input
    p.standardOutput = output
    p.standardError = FileHandle.nullDevice
    try p.run()
    return (p, input, output)
  }

  /// Runs `ivkeys ARGS` to completion.
  @discardableResult
  func run(_ args: String..., env: [String: String] = [:], stdin: String? = nil) -> RunResult {
    run(args, env: env, stdin: stdin)
  }

  @discardableResult
  func run(_ args: [String], env: [String: String] = [:], stdin: String? = nil) -> RunResult {
    exec(Sandbox.binary, args, env: env, stdin: stdin)
  }

  /// Runs another program (a shell, unshare, setpriv) in the sandbox's environment, for tests
  /// that need ivkeys under limits or another user; `$0` of a shell script is the ivkeys binary.
  @discardableResult
  func exec(_ executable: String, _ args: [String], env: [String: String] = [:], stdin: String? = nil) -> RunResult {
    do {
      let (p, out, err) = try start(args, env: env, stdin: stdin, executable: executable)
      p.waitUntilExit()
      let o = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
      let e = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
      try? FileManager.default.removeItem(at: out)
      try? FileManager.default.removeItem(at: err)
      let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
      return RunResult(status: status, stdout: o, stderr: e)
    } catch {
      return RunResult(status: -1, stdout: "", stderr: "could not start ivkeys: \(error)")
    }
  }

  /// Creates one key and returns (id, whole key).
  func createKey(
    _ extra: [String] = [], company: String = "acme", scope: String = "jobs:read", name: String = "test key"
  )
    throws -> (id: String, key: String)
  {
    let r = run(["create", "--company", company, "--name", name, "--scope", scope, "--json"] + extra)
    guard r.status == 0, let obj = try r.json() as? [String: Any], let id = obj["id"] as? String,
      let key = obj["key"] as? String
    else {
      throw SandboxError.initFailed("create failed: \(r.stderr)")
    }
    return (id, key)
  }

  /// Opens the vault file directly, as a reviewer with the sqlite3 shell would (SQLite only).
  func database() throws -> Database { try Database(path: vault) }

  /// The vault's server as a reviewer with psql would reach it (PostgreSQL only).
  func server() throws -> PGConnection { try PGConnection(vault) }

  /// The first column of the first row of `sql`, which both engines understand.
  func count(_ sql: String) throws -> Int64 {
    if engine == .postgresql { return try server().query(Engine.portable(sql, engine)).first?.optionalInt(0) ?? -1 }
    return try database().scalarInt(sql) ?? -1
  }

  var keyCount: Int64 { (try? count("SELECT count(*) FROM keys")) ?? -1 }
  var auditCount: Int64 { (try? count("SELECT count(*) FROM audit")) ?? -1 }

  /// Moves a key's expiry or rotation grace a minute into the past, as if that much time had
  /// gone by: tests that need time to pass edit the row instead of sleeping.
  func backdate(_ id: String, _ column: BackdatedColumn) throws {
    if engine == .postgresql {
      try server().query(
        "UPDATE keys SET \(column.rawValue) = extract(epoch FROM now())::bigint - 60 WHERE id = $1", [id])
    } else {
      try database().run(
        "UPDATE keys SET \(column.rawValue) = CAST(strftime('%s', 'now') AS INTEGER) - 60 WHERE id = ?", [.text(id)])
    }
    try reseal(id)
  }

  /// Seals a key's row again after a test set one of its columns on purpose to stand for time
  /// that passed (an expiry, a grace, an age), as if ivkeys had written it. Tests of tamper
  /// detection never call this.
  func reseal(_ id: String) throws {
    let v = try Vault.open(path: vault, secretPath: secret, actor: Actor(osUser: "test"))
    if let store = v.store as? PGStore {
      try store.write { () throws(IVKeysError) in try store.resealRow(.keys, id) }
      return
    }
    guard let store = v.store as? SQLiteStore else { return }
    try store.write { () throws(IVKeysError) in try store.resealKey(id) }
    store.tidy(walBytes: 0)
  }

  enum BackdatedColumn: String {
    case expiresAt = "expires_at"
    case graceUntil = "grace_until"
  }

  /// Events in the audit log, oldest first.
  func events() throws -> [String] {
    if engine == .postgresql {
      return try server().query("SELECT event FROM audit ORDER BY seq").rows.map { $0.text(0) }
    }
    var out = [String]()
    try database().statement("SELECT event FROM audit ORDER BY seq").forEachRow { row in out.append(row.text(0)) }
    return out
  }

  /// The bytes of the vault and its WAL, for searching.
  func vaultBytes() -> Data {
    var d = Data()
    for suffix in ["", "-wal", "-shm"] {
      if let b = FileManager.default.contents(atPath: vault + suffix) { d.append(b) }
    }
    return d
  }

  func mode(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
  }
}
