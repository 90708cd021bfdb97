import Foundation
import Testing

@testable import IVKeysCore

/// What an `ivkeys` process leaves for others to find: no core dump, no stray copy of the vault.
@Suite("process hardening")
struct ProcessHardeningTests {
  /// A `verify` waiting for its key on a pipe kept open: its limits and the owner of its /proc
  /// files are read while it waits. It starts with a core limit above 0 (raised by the shell where
  /// the hard limit allows) and, as root, runs as nobody: the files in /proc/PID of a process that
  /// is not dumpable belong to root (proc(5)), which only means something for a process that is
  /// not root.
  /// The loop waits for the state ivkeys sets at start-up; its deadline only guards a failure.
  @Test(
    .timeLimit(.minutes(1)),
    .enabled(if: FaultTests.canDropPrivileges || getuid() != 0, "as root, needs setpriv to act as another user"))
  func coreDumpsAreOff() throws {
    let s = try Sandbox()
    let asNobody = getuid() == 0
    let uid = asNobody ? uid_t(65534) : getuid()
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments =
      ["-c", "ulimit -c unlimited 2>/dev/null || ulimit -c \"$(ulimit -H -c)\"; exec \"$@\"", "sh"]
      + (asNobody ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [])
      + [Sandbox.binary, "verify", "--env", "test", "--company", "acme", "--scope", "jobs:read"]
    p.environment = s.processEnvironment([:])
    let stdin = Pipe()
    p.standardInput = stdin
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    defer {
      try? stdin.fileHandleForWriting.close()
      p.waitUntilExit()
    }
    let proc = "/proc/\(p.processIdentifier)"
    var seen = (limit: "", runsAs: "", owner: uid_t.max)
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline && p.isRunning {
      let limits = (try? String(contentsOfFile: proc + "/limits", encoding: .utf8)) ?? ""
      let status = (try? String(contentsOfFile: proc + "/status", encoding: .utf8)) ?? ""
      var st = stat()
      seen = (
        limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }.map {
          $0.split(separator: " ").dropFirst(4).prefix(2).joined(separator: " ")
        } ?? "",
        status.split(separator: "\n").first { $0.hasPrefix("Uid:") }.map {
          String($0.split(separator: "\t").dropFirst().first ?? "")
        } ?? "",
        stat(proc + "/environ", &st) == 0 ? st.st_uid : uid_t.max
      )
      if seen.runsAs == String(uid) && seen.limit == "0 0" && seen.owner == 0 { break }
      usleep(2000)
    }
    #expect(seen.runsAs == String(uid), "the process never ran as \(uid): \(seen)")
    #expect(seen.limit == "0 0", "RLIMIT_CORE soft and hard: \(seen.limit)")
    #expect(seen.owner == 0, "not dumpable: /proc/PID/environ belongs to root, not \(seen.owner)")
  }

  /// The start of a temporary backup file's name, with a process id that no process can have:
  /// Linux gives out ids below `pid_max`.
  func deadName() throws -> String {
    let pidMax = try String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)
    return ".ivkeys-backup-\(try #require(Int(pidMax.trimmingCharacters(in: .whitespacesAndNewlines))))"
  }

  func touch(_ path: String) {
    #expect(FileManager.default.createFile(atPath: path, contents: Data("SQLite format 3\0".utf8)))
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func doctorReportsTheLeftoversOfAKilledBackup() throws {
    let s = try Sandbox()
    let dir = s.dir.path + "/vault"
    let stale = [dir + "/\(try deadName())-1764500000", dir + "/\(try deadName())-1764500000-journal"]
    for f in stale { touch(f) }
    // A backup still running (this process) and a file of another name are not leftovers.
    let live = dir + "/.ivkeys-backup-\(getpid())-1764500000"
    let other = dir + "/.ivkeys-backup-notes"
    touch(live)
    touch(other)
    let r = s.run("doctor", "--json")
    #expect(r.status == 3)
    let checks = try #require(try r.json() as? [[String: Any]])
    let check = try #require(checks.first { $0["check"] as? String == "backup leftovers" })
    #expect(check["ok"] as? Bool == false)
    let message = check["message"] as? String ?? ""
    #expect(message.hasPrefix("2 temporary files of an interrupted backup"))
    #expect(stale.allSatisfy { message.contains($0) } && !message.contains(live) && !message.contains(other))
    #expect(checks.filter { $0["ok"] as? Bool == false }.count == 1)
    #expect(stale.allSatisfy { FileManager.default.fileExists(atPath: $0) }, "doctor only reports")
    for f in stale { try FileManager.default.removeItem(atPath: f) }
    #expect(s.run("doctor").status == 0)
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func theNextBackupRemovesTheLeftoversOfAKilledOne() throws {
    let s = try Sandbox()
    _ = try s.createKey()
    let dir = s.dir.path + "/backups"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let stale = [dir + "/\(try deadName())-1764500000", dir + "/\(try deadName())-1764500000-journal"]
    for f in stale { touch(f) }
    let live = dir + "/.ivkeys-backup-\(getpid())-1764500000"
    touch(live)
    let r = s.run("backup", dir + "/b.db")
    #expect(r.status == 0, "\(r.stderr)")
    for f in stale {
      #expect(r.stderr.contains("ivkeys: removed \(f), left by a backup that was interrupted"), "\(r.stderr)")
      #expect(!FileManager.default.fileExists(atPath: f))
    }
    #expect(FileManager.default.fileExists(atPath: live), "a backup still running keeps its file")
    #expect(FileManager.default.fileExists(atPath: dir + "/b.db"))
    let again = s.run("backup", dir + "/c.db")
    #expect(again.status == 0 && !again.stderr.contains("removed"))
  }
}
