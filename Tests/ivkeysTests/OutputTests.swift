import Foundation
import Testing

@testable import IVKeysCore

@Suite("terminal output and the demo")
struct OutputTests {
  /// Runs ivkeys under `script(1)` so its stdout is a terminal.
  func onTerminal(_ s: Sandbox, _ command: String, env: [String: String] = [:]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    let out = s.dir.appendingPathComponent("tty-\(UUID().uuidString)")
    p.arguments = ["-qec", "\(Sandbox.binary) \(command)", "/dev/null"]
    p.environment = s.processEnvironment(env)
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    p.standardOutput = try FileHandle(forWritingTo: out)
    p.standardInput = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    return try String(contentsOf: out, encoding: .utf8)
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
  func statusIsColoredOnATerminalUnlessTurnedOff() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    #expect(s.run("suspend", k.id, "--reason", "r").status == 0)
    _ = try s.createKey()
    // Wide enough that the table is not cut to fit (see FirstStepsTests for fitting).
    let colored = try onTerminal(s, "list", env: ["TERM": "xterm", "COLUMNS": "300"])
    #expect(colored.contains("\u{1b}[33msuspended\u{1b}[0m"))
    #expect(colored.contains("\u{1b}[32mactive\u{1b}[0m"))
    let noColorEnv = try onTerminal(s, "list", env: ["TERM": "xterm", "NO_COLOR": "1"])
    #expect(!noColorEnv.contains("\u{1b}["))
    #expect(noColorEnv.contains("suspended"))
    let noColorFlag = try onTerminal(s, "list --no-color", env: ["TERM": "xterm"])
    #expect(!noColorFlag.contains("\u{1b}["))
    // Columns line up whatever the color codes: the column after STATUS starts at the same place.
    // (script(1) ends lines with \r\n, which Swift sees as one Character.)
    let rows = colored.replacingOccurrences(of: "\r", with: "").split(separator: "\n").map {
      $0.replacingOccurrences(of: "\u{1b}[33m", with: "")
        .replacingOccurrences(of: "\u{1b}[32m", with: "").replacingOccurrences(of: "\u{1b}[0m", with: "")
        .replacingOccurrences(of: "\u{1b}[1m", with: "")
    }
    let starts = rows.filter { $0.contains("jobs:read") }.map {
      $0.distance(from: $0.startIndex, to: $0.range(of: "jobs:read")!.lowerBound)
    }
    #expect(starts.count == 2 && Set(starts).count == 1)
  }

  @Test func theDemoRunsEndToEnd() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = [root.appendingPathComponent("scripts/demo.sh").path, Sandbox.binary]
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    p.standardOutput = try FileHandle(forWritingTo: out)
    p.standardError = p.standardOutput
    var env = ProcessInfo.processInfo.environment
    env["IVKEYS_VAULT"] = nil
    env["IVKEYS_SECRET_FILE"] = nil
    p.environment = env
    try p.run()
    p.waitUntilExit()
    let text = try String(contentsOf: out, encoding: .utf8)
    try? FileManager.default.removeItem(at: out)
    #expect(p.terminationStatus == 0, "\(text)")
    for step in [
      "init", "create", "list", "show", "update", "usage", "rotate", "suspend", "resume", "revoke", "expiring",
      "sweep", "scan", "audit",
    ] {
      #expect(text.contains("$ ivkeys \(step)"), "the demo does not show \(step)")
    }
    #expect(text.contains("key.revoked"))
    #expect(text.contains("revoked 3 keys"), "the demo's bulk revoke of the CI keys")
    #expect(text.contains("settings.env:2:9"), "the demo's scan finds the key it planted")
    // Commands are shown as they can be pasted back, and nothing writes escape codes.
    #expect(text.contains("$ ivkeys create --company acme --name 'Acme production backend' --preset"))
    #expect(!text.contains("\u{1b}"), "escape codes in the demo's output")
    // The gateway's decision, allowed and refused, in JSON; usage; and a --json example.
    #expect(text.contains("$ key=$(ivkeys create --company acme --name 'Acme job board'"))
    #expect(text.contains("$ printf '%s' \"$key\" | ivkeys verify --env live --company acme --scope jobs:read"))
    #expect(text.contains("{\"allowed\":true,\"status\":200,") && text.contains("(exit status 0)"))
    #expect(text.contains("{\"allowed\":false,\"status\":403,") && text.contains("(exit status 11)"))
    #expect(text.contains("$ ivkeys usage ") && text.contains("requests:   2"), "usage counts the two decisions")
    #expect(text.range(of: #"\$ ivkeys show \w{32} --json\n\{"id":"#, options: .regularExpression) != nil)
  }
}
