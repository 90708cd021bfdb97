import Foundation
import Testing

@testable import IVKeysCore

/// Output that must arrive: every command turns a write error into exit 1.
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
