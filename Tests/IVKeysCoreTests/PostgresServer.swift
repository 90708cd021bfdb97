import Foundation
import Glibc

@testable import IVKeysCore

/// A throwaway PostgreSQL server for tests, from Debian's `postgresql` package (`make test`
/// installs it): `initdb` in a temporary folder, listening on a Unix socket in it only (no TCP),
/// trust authentication for the local socket. As root (CI), it runs as `nobody`, since
/// PostgreSQL refuses to run as root. It is stopped when released, and `setpriv --pdeathsig`
/// stops it too if the test process dies first.
final class PostgresServer {
  let dir: URL
  let process: Process
  var user: String { Self.user }
  static let user = "ivkeys"

  /// The libpq connection string of its `postgres` database.
  var conninfo: String { "host=\(dir.path) dbname=postgres user=\(user)" }

  enum Failure: Error, CustomStringConvertible {
    case notInstalled
    case startFailed(String)
    var description: String {
      switch self {
      case .notInstalled: return "PostgreSQL's server is not installed (make test installs Debian's postgresql)"
      case .startFailed(let log): return "PostgreSQL did not start: \(log)"
      }
    }
  }

  /// The server programs' folder: `pg_config --bindir` of the newest installed version.
  static func binDirectory() -> String? {
    let root = "/usr/lib/postgresql"
    let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    return versions.compactMap(Int.init).sorted().last.map { "\(root)/\($0)/bin" }
      .flatMap { FileManager.default.isExecutableFile(atPath: $0 + "/postgres") ? $0 : nil }
  }

  init() throws {
    guard let bin = Self.binDirectory() else { throw Failure.notInstalled }
    let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ivkeys-pg-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false)
    // Whatever fails below, the folder goes.
    var started = false
    defer { if !started { try? FileManager.default.removeItem(at: dir) } }
    let asRoot = getuid() == 0
    if asRoot { chown(dir.path, 65534, 65534) }
    let log = dir.appendingPathComponent("server.log")
    FileManager.default.createFile(atPath: log.path, contents: nil)
    if asRoot { chown(log.path, 65534, 65534) }
    let initdb = Self.command(
      bin, dir, asRoot, "initdb",
      ["-D", dir.path + "/data", "-U", Self.user, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
    initdb.standardOutput = try FileHandle(forWritingTo: log)
    initdb.standardError = initdb.standardOutput
    try Keeper.run { try initdb.run() }
    initdb.waitUntilExit()
    guard initdb.terminationStatus == 0 else {
      throw Failure.startFailed((try? String(contentsOf: log, encoding: .utf8)) ?? "initdb failed")
    }
    let server = Self.command(
      bin, dir, asRoot, "postgres",
      [
        "-D", dir.path + "/data", "-k", dir.path, "-c", "listen_addresses=", "-c", "fsync=off",
        "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
      ])
    let out = try FileHandle(forWritingTo: log)
    out.seekToEndOfFile()
    server.standardOutput = out
    server.standardError = out
    try Keeper.run { try server.run() }
    self.dir = dir
    process = server
    // Ready when a connection succeeds; a server that exits or never answers is an error. The
    // limit only bounds a broken start, it is not a speed expectation.
    for _ in 0..<600 {
      if !process.isRunning { break }
      if (try? PGConnection(conninfo)) != nil {
        started = true
        return
      }
      usleep(100_000)
    }
    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    stop()
    throw Failure.startFailed(text)
  }

  /// Runs a server program as the server's user (nobody, as root), ended with this process.
  static func command(_ bin: String, _ dir: URL, _ asRoot: Bool, _ program: String, _ args: [String]) -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
    let who = asRoot ? ["--reuid=65534", "--regid=65534", "--clear-groups"] : []
    p.arguments = who + ["--pdeathsig", "KILL", "--", "\(bin)/\(program)"] + args
    p.currentDirectoryURL = dir
    return p
  }

  /// Stops the server (fast shutdown) and removes its folder.
  func stop() {
    if process.isRunning {
      kill(process.processIdentifier, SIGINT)
      process.waitUntilExit()
    }
    try? FileManager.default.removeItem(at: dir)
  }

  deinit { stop() }
}

/// A thread that lives as long as the process, to start the server from. `--pdeathsig` sends
/// its signal when the *thread* that started the child ends, not the process: a server started
/// from a test's worker thread would be killed when that idle thread is retired.
enum Keeper {
  private static let jobs = DispatchSemaphore(value: 0)
  private static let done = DispatchSemaphore(value: 0)
  private static let lock = NSLock()
  nonisolated(unsafe) private static var job: (() -> Void)?
  nonisolated(unsafe) private static let thread: Thread = {
    let t = Thread {
      while true {
        jobs.wait()
        job?()
        done.signal()
      }
    }
    t.start()
    return t
  }()

  /// Runs `body` on the keeper thread and waits for it.
  static func run(_ body: @escaping () throws -> Void) throws {
    lock.lock()
    defer { lock.unlock() }
    _ = thread
    var failure: (any Error)?
    job = {
      do { try body() } catch { failure = error }
    }
    jobs.signal()
    done.wait()
    job = nil
    if let failure { throw failure }
  }
}
