import Foundation
import Testing

@testable import IVKeysCore

/// Every bad value gets `ivkeys: error: …` naming the option, the right exit status, and leaves
/// the vault as it was: no key row, no audit row.
@Suite("bad input changes nothing")
struct BadInputTests {
  static let base = ["create", "--company", "acme", "--name", "n"]

  static let createCases: [(args: [String], status: Int32, message: String)] = [
    (
      base + ["--scope", "candidates:wirte"], 2,
      "invalid value for --scope: 'candidates:wirte': not in the scope catalog; did you mean 'candidates:write'?"
    ),
    (base + ["--scope", "nocolon"], 2, "invalid value for --scope"),
    (base + ["--preset", "everything"], 2, "invalid value for --preset"),
    (
      base + ["--scope", "jobs:read", "--preset", "full-integration"], 2, "--scope and --preset cannot be used together"
    ),
    (
      base + ["--scope", "jobs:read", "--allow-ip", "010.0.0.1"], 2,
      "invalid value for --allow-ip: '010.0.0.1': octet with a leading zero"
    ),
    (base + ["--scope", "jobs:read", "--allow-ip", "127.1"], 2, "short forms"),
    (base + ["--scope", "jobs:read", "--allow-ip", "10.0.0.1/8"], 2, "host bits are set; did you mean 10.0.0.0/8?"),
    (base + ["--scope", "jobs:read", "--allow-ip", "10.0.0.0/33"], 2, "longer than the 32-bit address"),
    (base + ["--scope", "jobs:read", "--allow-ip", "2001:db8::/129"], 2, "longer than the 128-bit address"),
    (base + ["--scope", "jobs:read", "--allow-ip", "2001:db8::1/32"], 2, "host bits are set"),
    (base + ["--scope", "jobs:read", "--allow-ip", "example.com"], 2, "invalid value for --allow-ip"),
    (base + ["--scope", "jobs:read", "--expires-in", "7days"], 2, "invalid value for --expires-in: '7days'"),
    (base + ["--scope", "jobs:read", "--expires-in", "0"], 2, "invalid value for --expires-in"),
    (
      base + ["--scope", "jobs:read", "--expires", "2026-02-30"], 2,
      "invalid value for --expires: '2026-02-30': day 30 is out of range"
    ),
    (base + ["--scope", "jobs:read", "--expires", "2001-01-01"], 2, "in the past"),
    (base + ["--scope", "jobs:read", "--expires", "tomorrow"], 2, "invalid value for --expires"),
    (
      base + ["--scope", "jobs:read", "--expires", "2099-01-01", "--expires-in", "1d"], 2,
      "--expires and --expires-in cannot be used together"
    ),
    (base + ["--scope", "jobs:read", "--rate-limit", "100/d"], 2, "invalid value for --rate-limit: '100/d'"),
    (base + ["--scope", "jobs:read", "--rate-limit", "0/m"], 2, "at least 1 request"),
    (base + ["--scope", "jobs:read", "--meta", "owner"], 2, "invalid value for --meta: 'owner': expected KEY=VALUE"),
    (base + ["--scope", "jobs:read", "--meta", "=v"], 2, "invalid value for --meta"),
    (base + ["--scope", "jobs:read", "--env", "prod"], 2, "invalid value for --env: 'prod': expected live or test"),
    (
      base + ["--scope", "jobs:read", "--type", "partner"], 2,
      "invalid value for --type: 'partner': expected regular or ats"
    ),
    (base + ["--scope", "jobs:read", "--contact", "not-an-email"], 2, "invalid value for --contact"),
    (base + ["--scope", "jobs:read", "--count", "0"], 2, "invalid value for --count"),
    (base + ["--scope", "jobs:read", "--count", "ten"], 2, "invalid value for --count"),
    (base + ["--scope", "jobs:read", "--tag", "has space"], 2, "invalid value for --tag"),
    (base + ["--scope", "jobs:read", "--link-company", "globex"], 2, "--link-company applies only to ATS keys"),
    (base + ["--scope", "jobs:read", "--type", "ats"], 2, "needs at least one --link-company"),
    (["create", "--name", "n", "--scope", "jobs:read"], 2, "'ivkeys create' needs --company"),
    (["create", "--company", "acme", "--scope", "jobs:read"], 2, "'ivkeys create' needs --name"),
    (base, 2, "'ivkeys create' needs --scope or --preset"),
    (["create", "--company", "", "--name", "n", "--scope", "jobs:read"], 2, "invalid value for --company"),
    (["create", "--company", "a,b", "--name", "n", "--scope", "jobs:read"], 2, "invalid value for --company"),
    (["create", "--company", "acme", "--name", "  ", "--scope", "jobs:read"], 2, "invalid value for --name"),
    (base + ["--scope"], 2, "option --scope needs a value"),
    (base + ["--scope", "jobs:read", "--company", "globex"], 2, "option --company was given more than once"),
    (base + ["--scope", "jobs:read", "--colour"], 2, "unknown option '--colour' for 'ivkeys create'"),
    (base + ["--scope", "jobs:read", "extra"], 2, "unexpected argument 'extra'"),
    (base + ["--scope", "jobs:read", "--json", "-q"], 2, "--json and --quiet cannot be used together"),
    (base + ["--scope", "jobs:read", "--format", "yaml"], 2, "invalid value for --format"),
  ]

  @Test(arguments: 0..<createCases.count)
  func createRefusesBadInput(_ index: Int) throws {
    let s = try Sandbox()
    let (args, status, message) = Self.createCases[index]
    let keys = s.keyCount
    let audits = s.auditCount
    let r = s.run(args)
    #expect(r.status == status, "\(args): \(r.stderr)")
    #expect(r.stderr.hasPrefix("ivkeys: error: "), "\(args): \(r.stderr)")
    #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
    #expect(r.stdout.isEmpty)
    #expect(s.keyCount == keys && s.auditCount == audits)
  }

  @Test func otherCommandsRefuseBadValues() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let keys = s.keyCount
    let audits = s.auditCount
    let cases: [([String], Int32, String)] = [
      (["list", "--status", "alive"], 2, "invalid value for --status"),
      (["list", "--env", "prod"], 2, "invalid value for --env"),
      (["list", "--type", "x"], 2, "invalid value for --type"),
      (["list", "--expiring-within", "soon"], 2, "invalid value for --expiring-within"),
      (["list", "--scope", "bad scope"], 2, "invalid value for --scope"),
      (["rotate", k.id, "--grace", "1 day"], 2, "invalid value for --grace"),
      (["suspend", k.id, "--reason", ""], 2, "invalid value for --reason"),
      (["revoke", k.id], 2, "needs --reason"),
      (["show"], 2, "'ivkeys show' needs ID"),
      (["show", k.id, k.id], 2, "unexpected argument"),
      (["audit", "--event", "nope"], 2, "invalid value for --event"),
      (["lst"], 2, "unknown command 'lst'"),
      (["scopes", "lsit"], 2, "unknown command 'scopes lsit'"),
      (["help", "nothing"], 2, "unknown command 'nothing'"),
    ]
    for (args, status, message) in cases {
      let r = s.run(args)
      #expect(r.status == status, "\(args): \(r.stderr)")
      #expect(r.stderr.hasPrefix("ivkeys: error: "), "\(args): \(r.stderr)")
      #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
    }
    #expect(s.keyCount == keys && s.auditCount == audits)
  }

  @Test func suggestionsNameTheClosestValidChoice() throws {
    let s = try Sandbox()
    #expect(s.run("lst").stderr.contains("ivkeys: hint: did you mean 'list'?"))
    #expect(s.run("creat").stderr.contains("did you mean 'create'?"))
    #expect(s.run("create", "--compnay", "x").stderr.contains("did you mean '--company'?"))
    #expect(s.run("list", "--stat", "active").stderr.contains("did you mean '--status'?"))
    #expect(s.run("admin", "ad", "x").stderr.contains("did you mean 'admin add'?"))
    #expect(
      s.run("create", "--company", "a", "--name", "n", "--preset", "candidate-portl").stderr.contains(
        "did you mean 'candidate-portal'?"))
  }
}
