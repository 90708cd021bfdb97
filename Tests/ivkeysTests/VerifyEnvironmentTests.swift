import Foundation
import Testing

/// `verify` must be told the environment the caller serves (`--env` or `IVKEYS_ENV`), and a set
/// but empty `IVKEYS_KEY` is an empty key: the rules of SPEC.md's `verify` row, end to end.
@Suite("verify: the environment it serves")
struct VerifyEnvironmentTests {
  /// The decision objects of a `--json` or `--batch` run, one a line.
  func decisions(_ r: RunResult) -> [[String: Any]] {
    r.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
  }

  /// The `env` recorded in the detail of each `auth.*` audit entry, oldest first.
  func recordedEnvironments(_ s: Sandbox) throws -> [String?] {
    let entries = try #require(try s.run("audit", "--event", "auth.*", "--json").json() as? [[String: Any]])
    return entries.map { ($0["detail"] as? [String: Any])?["env"] as? String }
  }

  let request = ["--company", "acme", "--scope", "jobs:read"]

  @Test func withoutAnEnvironmentVerifyIsAUsageErrorAndRecordsNothing() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let audits = s.auditCount
    let missing = s.run(["verify"] + request, stdin: k.key)
    #expect(missing.status == 2)
    #expect(missing.stdout.isEmpty, "no decision")
    #expect(missing.stderr.hasPrefix("ivkeys: error: 'ivkeys verify' needs --env or IVKEYS_ENV\n"), "\(missing.stderr)")
    #expect(missing.stderr.contains("ivkeys: hint: pass --env live or --env test (or set IVKEYS_ENV)"))

    let empty = s.run(["verify"] + request, env: ["IVKEYS_ENV": ""], stdin: k.key)
    #expect(empty.status == 2)
    #expect(empty.stderr.hasPrefix("ivkeys: error: IVKEYS_ENV is set but empty"), "\(empty.stderr)")
    #expect(empty.stderr.contains("ivkeys: hint: "))

    let unknown = s.run(["verify"] + request, env: ["IVKEYS_ENV": "prod"], stdin: k.key)
    #expect(unknown.status == 2)
    #expect(
      unknown.stderr.hasPrefix("ivkeys: error: invalid value for IVKEYS_ENV: 'prod': expected live or test"),
      "\(unknown.stderr)")
    // A key pasted into the wrong variable is not echoed back.
    let pasted = s.run(["verify"] + request, env: ["IVKEYS_ENV": k.key], stdin: k.key)
    #expect(pasted.status == 2)
    #expect(!pasted.stderr.contains(String(k.key.dropFirst(41))), "\(pasted.stderr)")

    #expect(s.auditCount == audits, "nothing is recorded")
    #expect(try s.count("SELECT request_count FROM keys") == 0, "no usage is counted")
  }

  @Test func anUnknownEnvironmentFlagIsAUsageError() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let audits = s.auditCount
    for args in [["verify", "--env", "prod"] + request, ["verify", "--env", ""] + request] {
      let r = s.run(args, stdin: k.key)
      #expect(r.status == 2, "\(args)")
      #expect(r.stderr.hasPrefix("ivkeys: error: invalid value for --env: "), "\(args): \(r.stderr)")
      #expect(r.stdout.isEmpty)
    }
    let batch = s.run(
      ["verify", "--batch", "--env", "prod"], stdin: #"{"key":"\#(k.key)","company":"acme","scope":"jobs:read"}"#)
    #expect(batch.status == 2)
    #expect(batch.stdout.isEmpty)
    #expect(s.auditCount == audits)
  }

  @Test func theEnvironmentVariableSaysWhatTheCallerServes() throws {
    let s = try Sandbox()
    let test = try s.createKey(["--env", "test"])
    let asTest = s.run(["verify", "-q"] + request, env: ["IVKEYS_ENV": "test"], stdin: test.key)
    #expect(asTest.status == 0, "\(asTest.stderr)")
    #expect(asTest.stdout == "ok\n")
    let asLive = s.run(["verify", "-q"] + request, env: ["IVKEYS_ENV": "live"], stdin: test.key)
    #expect(asLive.status == 10)
    #expect(asLive.stdout == "wrong_environment\n")
    #expect(try recordedEnvironments(s) == ["test", "live"])
  }

  @Test func theFlagWinsOverTheVariable() throws {
    let s = try Sandbox()
    let test = try s.createKey(["--env", "test"])
    let flagTest = s.run(["verify", "-q", "--env", "test"] + request, env: ["IVKEYS_ENV": "live"], stdin: test.key)
    #expect(flagTest.stdout == "ok\n", "\(flagTest.stderr)")
    let flagLive = s.run(["verify", "-q", "--env", "live"] + request, env: ["IVKEYS_ENV": "test"], stdin: test.key)
    #expect(flagLive.stdout == "wrong_environment\n", "\(flagLive.stderr)")
    // With the flag given, the variable is not read at all: not even a bad value stops it.
    let ignored = s.run(["verify", "-q", "--env", "test"] + request, env: ["IVKEYS_ENV": "prod"], stdin: test.key)
    #expect(ignored.status == 0, "\(ignored.stderr)")
    #expect(try recordedEnvironments(s) == ["test", "live", "test"])
  }

  @Test func aBatchLineMayNameItsOwnEnvironment() throws {
    let s = try Sandbox()
    let live = try s.createKey()
    let test = try s.createKey(["--env", "test"])
    func line(_ key: String, env: String?) -> String {
      let member = env.map { #","env":"\#($0)""# } ?? ""
      return #"{"key":"\#(key)","company":"acme","scope":"jobs:read"\#(member)}"#
    }
    let lines = [
      line(test.key, env: nil),  // the stream's default: test
      line(live.key, env: nil),
      line(live.key, env: "live"),
      line(test.key, env: "live"),
      line(live.key, env: "prod"),
      #"{"key":"\#(live.key)","company":"acme","scope":"jobs:read","env":null}"#,
    ]
    let audits = s.auditCount
    let input = lines.joined(separator: "\n") + "\n"
    for (args, env) in [(["--env", "test"], [:]), ([], ["IVKEYS_ENV": "test"])] {
      let r = s.run(["verify", "--batch"] + args, env: env, stdin: input)
      #expect(r.status == 0, "\(r.stderr)")
      let d = decisions(r)
      #expect(
        d.map { $0["code"] as? String } == [
          "ok", "wrong_environment", "ok", "wrong_environment", "bad_request", "wrong_environment",
        ], "default from \(args.isEmpty ? "IVKEYS_ENV" : "--env")")
      #expect(d.count == 6 && d[4]["message"] as? String == "env is not live or test")
    }
    #expect(s.auditCount == audits + 12, "every line is recorded")
    let perRun: [String?] = ["test", "test", "live", "live", nil, "test"]
    #expect(try recordedEnvironments(s) == perRun + perRun, "a line's env, else the default; none for a bad line")
  }

  @Test func aBatchWithoutADefaultEnvironmentDoesNotStart() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let audits = s.auditCount
    // Even when every line names its environment: the rule is the same as for a single verify.
    let line = #"{"key":"\#(k.key)","company":"acme","scope":"jobs:read","env":"live"}"#
    let r = s.run(["verify", "--batch"], stdin: line + "\n")
    #expect(r.status == 2)
    #expect(r.stdout.isEmpty, "no decision")
    #expect(r.stderr.hasPrefix("ivkeys: error: 'ivkeys verify' needs --env or IVKEYS_ENV\n"), "\(r.stderr)")
    let empty = s.run(["verify", "--batch"], env: ["IVKEYS_ENV": ""], stdin: "{}\n")
    #expect(empty.status == 2 && empty.stdout.isEmpty)
    #expect(s.auditCount == audits)
  }

  @Test func anEmptyKeyVariableIsAnEmptyKeyAndStdinIsNotRead() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    // A valid key on stdin: it must not be used.
    let r = s.run(["verify", "--json", "--env", "live"] + request, env: ["IVKEYS_KEY": ""], stdin: k.key)
    #expect(r.status == 10, "\(r.stderr)")
    let d = try #require(try r.json() as? [String: Any])
    #expect(d["code"] as? String == "malformed_key")
    #expect(d["message"] as? String == "no key was presented")
    #expect(d["key_id"] is NSNull)
    #expect(try s.count("SELECT request_count FROM keys") == 0, "the key on stdin was not used")
    // The same key from stdin, with the variable unset, is allowed: stdin held a good key.
    #expect(s.run(["verify", "-q", "--env", "live"] + request, stdin: k.key).stdout == "ok\n")
  }
}
