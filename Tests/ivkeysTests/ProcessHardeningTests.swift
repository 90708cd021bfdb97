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
}
