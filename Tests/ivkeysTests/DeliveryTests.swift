import Foundation
import Testing

@testable import IVKeysCore

/// Output that must arrive: `create` and `rotate` commit, then print, and revoke what they could
/// not deliver; every other command turns a write error into exit 1.
@Suite("delivery of output")
struct DeliveryTests {
  /// Runs `ivkeys ARGS` with stdout on `stdout` (closed in this process once the child has it).
  func run(_ s: Sandbox, _ args: [String], stdout: FileHandle, stdin: String? = nil) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Sandbox.binary)
    p.arguments = args
    p.environment = s.processEnvironment([:])
    p.standardOutput = stdout
    let err = s.dir.appendingPathComponent("err-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    p.standardError = try FileHandle(forWritingTo: err)
    if let stdin {
      let inFile = s.dir.appendingPathComponent("in-\(UUID().uuidString)")
      try Data(stdin.utf8).write(to: inFile)
      p.standardInput = try FileHandle(forReadingFrom: inFile)
    } else {
      p.standardInput = FileHandle.nullDevice
    }
    try p.run()
    try stdout.close()
    p.waitUntilExit()
    let e = try String(contentsOf: err, encoding: .utf8)
    let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
    return RunResult(status: status, stdout: "", stderr: e)
  }

  /// `ivkeys ARGS > /dev/full`.
  func runIntoFullDisk(_ s: Sandbox, _ args: [String], stdin: String? = nil) throws -> RunResult {
    try run(s, args, stdout: try #require(FileHandle(forWritingAtPath: "/dev/full")), stdin: stdin)
  }

  /// The write end of a pipe whose read end is already closed: the first write gets EPIPE.
  func pipeWithNoReader() throws -> FileHandle {
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    close(fds[0])
    return FileHandle(fileDescriptor: fds[1], closeOnDealloc: true)
  }

  /// The keys revoked as not delivered, and their `key.revoked` entries.
  func notDelivered(_ s: Sandbox) throws -> (keys: Int64, entries: Int64) {
    (
      try s.count("SELECT count(*) FROM keys WHERE status = 'revoked' AND status_reason = 'not delivered'"),
      try s.count(
        "SELECT count(*) FROM audit WHERE event = 'key.revoked' AND json_extract(detail, '$.reason') = 'not delivered'")
    )
  }

  // MARK: - create and rotate: commit, then print

  /// SPEC: "A `verify` started while another process's `create --count 2000` output is stuck in
  /// a pipe is decided in its usual time." The create's stdout is a pipe nobody reads until the
  /// end: 2000 keys (180 KB) cannot fit in it, so the create is still blocked writing while the
  /// verify runs. The wait for the COMMIT polls the vault; its deadline only guards a failure.
  @Test(.timeLimit(.minutes(2)))
  func aReaderThatDoesNotReadHoldsNoLock() throws {
    let s = try Sandbox()
    let other = try s.createKey(["--env", "test"])
    let before = s.keyCount
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Sandbox.binary)
    p.arguments = ["create", "--company", "acme", "--name", "bulk", "--scope", "jobs:read", "--count", "2000", "-q"]
    p.environment = s.processEnvironment([:])
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    p.standardInput = FileHandle.nullDevice
    try p.run()
    defer { if p.isRunning { p.terminate() } }
    let deadline = Date().addingTimeInterval(60)
    while s.keyCount < before + 2000 {
      guard Date() < deadline, p.isRunning else {
        Issue.record("the 2000 keys were not committed while their output waited (\(s.keyCount - before) seen)")
        return
      }
      usleep(5000)
    }
    #expect(p.isRunning, "the create is still blocked on its full pipe")
    let v = s.run(["verify", "--env", "test", "--company", "acme", "--scope", "jobs:read"], stdin: other.key)
    #expect(v.status == 0, "\(v.stderr)")
    #expect(v.stdout.hasPrefix("allowed"))
    #expect(!v.stderr.contains("busy"))
    let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    let keys = printed.split(separator: "\n")
    #expect(keys.count == 2000 && Set(keys).count == 2000)
    #expect(keys.allSatisfy { $0.hasPrefix("sk_live_") && $0.count == 90 })
    #expect(try notDelivered(s) == (0, 0))
  }

  @Test func createIntoAClosedPipeRevokesTheKeys() throws {
    let s = try Sandbox()
    let r = try run(
      s, ["create", "--company", "acme", "--name", "n", "--scope", "jobs:read", "--count", "3", "-q"],
      stdout: try pipeWithNoReader())
    #expect(r.status == 1, "not killed by SIGPIPE: \(r.status)")
    #expect(r.stderr.hasPrefix("ivkeys: error: cannot write the 3 new keys to standard output: Broken pipe"))
    #expect(r.stderr.contains("they were not delivered and are revoked (reason 'not delivered')"))
    #expect(!r.stderr.contains("sk_"), "an error never holds a key")
    #expect(s.keyCount == 3)
    #expect(try notDelivered(s) == (3, 3))
    #expect(s.run("audit", "verify").status == 0)
    #expect(s.run("doctor").status == 0)
  }

  @Test func createWithStdoutClosedRevokesTheKeys() throws {
    let s = try Sandbox()
    let r = s.exec(
      "/bin/sh",
      ["-c", "exec \"$0\" create --company acme --name n --scope jobs:read --count 2 -q >&-", Sandbox.binary])
    #expect(r.status == 1)
    #expect(r.stderr.hasPrefix("ivkeys: error: cannot write the 2 new keys to standard output: Bad file descriptor"))
    #expect(try notDelivered(s) == (2, 2))
  }

  @Test func createIntoAReaderThatStopsEarlyRevokesTheKeys() throws {
    let s = try Sandbox()
    // `head` goes away after 10 bytes; 2000 keys cannot fit in the pipe before it does.
    let r = s.exec(
      "/bin/sh",
      [
        "-c", "\"$0\" create --company acme --name n --scope jobs:read --count 2000 --json | head -c 10 >/dev/null",
        Sandbox.binary,
      ])
    #expect(r.status == 0, "the pipeline's status is head's")
    #expect(r.stderr.contains("cannot write the 2000 new keys to standard output: Broken pipe"), "\(r.stderr)")
    #expect(s.keyCount == 2000)
    #expect(try notDelivered(s) == (2000, 2000))
  }

  @Test func createIntoAFullDiskRevokesTheKeys() throws {
    let s = try Sandbox()
    for (args, n) in [(["-q"], 1), (["--json"], 1), ([], 1), (["--count", "5", "--json"], 5), (["--count", "5"], 5)] {
      let before = try notDelivered(s)
      let r = try runIntoFullDisk(s, ["create", "--company", "acme", "--name", "n", "--scope", "jobs:read"] + args)
      #expect(r.status == 1, "\(args)")
      let what = n == 1 ? "the new key" : "the \(n) new keys"
      #expect(
        r.stderr.hasPrefix("ivkeys: error: cannot write \(what) to standard output: No space left on device"),
        "\(args): \(r.stderr)")
      #expect(r.stderr.contains("revoked"))
      #expect(!r.stderr.contains("sk_"))
      let after = try notDelivered(s)
      #expect(after.keys - before.keys == Int64(n) && after.entries - before.entries == Int64(n), "\(args)")
    }
    #expect(try s.count("SELECT count(*) FROM keys WHERE status <> 'revoked'") == 0)
    #expect(s.run("audit", "verify").status == 0)
  }

  @Test func aRotationThatCannotBeDeliveredIsUndone() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--env", "test"])
    let r = try runIntoFullDisk(s, ["rotate", k.id, "--grace", "1h", "-q"])
    #expect(r.status == 1)
    #expect(r.stderr.hasPrefix("ivkeys: error: cannot write the new key to standard output: No space left on device"))
    #expect(r.stderr.contains("the old key \(k.id) is active again"), "\(r.stderr)")
    // The new key is revoked; the old one is as it was, replaced by nothing, and still works.
    #expect(try notDelivered(s) == (1, 1))
    let old = try #require(try s.run("show", k.id, "--json").json() as? [String: Any])
    #expect(old["status"] as? String == "active")
    #expect(old["replaced_by"] is NSNull && old["grace_until"] is NSNull)
    let v = s.run(["verify", "--env", "test", "--company", "acme", "--scope", "jobs:read"], stdin: k.key)
    #expect(v.status == 0, "\(v.stderr)")
    let events = try s.events()
    #expect(
      Array(events.suffix(5)) == ["key.created", "key.rotated", "key.revoked", "key.rotation_undone", "auth.succeeded"])
    #expect(s.run("audit", "verify").status == 0)
    #expect(s.run("doctor").status == 0)
    // It can be rotated again.
    let again = s.run("rotate", k.id, "-q")
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stdout.hasPrefix("sk_test_"))
  }

  @Test func aRotationWithNoGraceLeavesTheOldKeyRevoked() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let r = try runIntoFullDisk(s, ["rotate", k.id, "--grace", "0"])
    #expect(r.status == 1)
    #expect(r.stderr.contains("the old key \(k.id) stays revoked"), "\(r.stderr)")
    #expect(r.stderr.contains("ivkeys: hint: make a replacement with 'ivkeys create'"))
    #expect(try notDelivered(s) == (1, 1))
    #expect(try s.count("SELECT count(*) FROM keys WHERE status = 'revoked'") == 2)
    #expect(!(try s.events()).contains("key.rotation_undone"))
    #expect(s.run("doctor").status == 0)
  }

  // MARK: - Every command reports a write error

  @Test func everyCommandThatPrintsFailsOnAFullDisk() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--env", "test"])
    let file = s.dir.path + "/leak.txt"
    try Data("token = \(k.key)\n".utf8).write(to: URL(fileURLWithPath: file))
    let commands: [([String], String?)] = [
      (["list"], nil), (["list", "--json"], nil), (["list", "-q"], nil), (["show", k.id], nil),
      (["show", k.id, "--json"], nil), (["update", k.id, "--name", "renamed"], nil), (["audit"], nil),
      (["audit", "--json"], nil), (["audit", "export"], nil), (["audit", "export", "--format", "csv"], nil),
      (["audit", "verify"], nil), (["audit", "head"], nil), (["usage", k.id], nil), (["scopes", "list"], nil),
      (["scopes", "presets"], nil), (["admin", "list"], nil), (["doctor"], nil), (["--help"], nil),
      (["list", "--help"], nil), (["--version"], nil), (["completion", "bash"], nil), (["completion", "zsh"], nil),
      (["scan", file], nil), (["verify", "--env", "test", "--company", "acme", "--scope", "jobs:read"], k.key),
      (["verify", "--env", "test", "--company", "other", "--scope", "jobs:read", "--json"], k.key),
    ]
    for (args, stdin) in commands {
      let r = try runIntoFullDisk(s, args, stdin: stdin)
      #expect(r.status == 1, "\(args): \(r.status) \(r.stderr)")
      #expect(r.stderr.contains("ivkeys: error: cannot write "), "\(args): \(r.stderr)")
      #expect(r.stderr.contains("to standard output: No space left on device"), "\(args): \(r.stderr)")
      #expect(r.stderr.components(separatedBy: "ivkeys: error:").count == 2, "said once: \(args): \(r.stderr)")
    }
    // A reader that went away is a write error too, not death by SIGPIPE.
    let gone = try run(s, ["list"], stdout: try pipeWithNoReader())
    #expect(gone.status == 1)
    #expect(gone.stderr.hasPrefix("ivkeys: error: cannot write to standard output: Broken pipe"))
  }

  @Test func theMessageIsTheOneDocumented() throws {
    let s = try Sandbox()
    _ = try s.createKey()
    let r = try runIntoFullDisk(s, ["list"])
    #expect(r.status == 1)
    #expect(r.stderr == "ivkeys: error: cannot write to standard output: No space left on device\n")
  }
}
