import Foundation
import Testing

@testable import IVKeysCore

/// Edge cases of `verify --batch`, `usage import` and stored settings found in review.
@Suite("verify streams and edge cases")
struct VerifyStreamTests {
  func decisions(_ r: RunResult) -> [[String: Any]] {
    r.stdout.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
  }

  @Test func aDamagedKeyInAnEndpointOrCompanyIsRefused() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let damaged = String(k.key.dropLast()) + (k.key.last == "Z" ? "Y" : "Z")  // checksum broken, secret intact
    let audits = s.auditCount
    let single = s.run(
      ["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read", "--endpoint", "GET /x?k=\(damaged)"],
      stdin: k.key)
    #expect(single.status == 2)
    #expect(single.stderr.contains("invalid value for --endpoint"), "\(single.stderr)")
    #expect(!single.stderr.contains(String(k.key.dropFirst(41).prefix(20))))
    #expect(s.auditCount == audits)
    let company = s.run("create", "--company", damaged, "--name", "n", "--scope", "jobs:read")
    #expect(company.status == 2)
    let batch = s.run(
      ["verify", "--batch", "--env", "live"],
      stdin: #"{"key":"\#(k.key)","company":"acme","scope":"jobs:read","endpoint":"GET /?k=\#(damaged)"}"# + "\n")
    #expect(decisions(batch).map { $0["code"] as? String } == ["bad_request"])
    #expect(!s.vaultBytes().contains(Data(String(k.key.dropFirst(41).prefix(30)).utf8)))
  }

  @Test func batchLinesMayEndInCRLFOrNotEndAtAll() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let line = #"{"key":"\#(k.key)","company":"acme","scope":"jobs:read"}"#
    let r = s.run(["verify", "--batch", "--env", "live"], stdin: line + "\r\n" + line)
    #expect(decisions(r).map { $0["code"] as? String } == ["ok", "ok"])
  }

  @Test func anOverlongLineGetsOneBadRequestAndTheStreamGoesOn() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let line = #"{"key":"\#(k.key)","company":"acme","scope":"jobs:read"}"#
    let long = String(repeating: "x", count: (1 << 20) + 70_000)
    let r = s.run(["verify", "--batch", "--env", "live"], stdin: long + "\n" + line + "\n" + long)
    #expect(r.status == 0)
    #expect(decisions(r).map { $0["code"] as? String } == ["bad_request", "ok", "bad_request"])
  }

  @Test(.timeLimit(.minutes(1)))
  func aQuietStreamWritesItsUsageWithinSecondsAndOnSIGTERM() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let (p, input, output) = try s.startCoprocess(["verify", "--batch", "--env", "live"])
    let line = Data((#"{"key":"\#(k.key)","company":"acme","scope":"jobs:read"}"# + "\n").utf8)
    // Request and answer, one at a time, as a coprocess would: each answer comes without
    // waiting for more input.
    for _ in 0..<5 {
      input.fileHandleForWriting.write(line)
      var got = Data()
      while !got.contains(0x0a) { got.append(output.fileHandleForReading.availableData) }
      #expect(String(decoding: got, as: UTF8.self).contains(#""code":"ok""#))
    }
    // The stream stays open and quiet: usage must reach the vault anyway.
    var count: Int64 = 0
    for _ in 0..<50 where count < 5 {
      usleep(100_000)
      count = (try? s.count("SELECT request_count FROM keys")) ?? 0
    }
    #expect(count == 5)
    input.fileHandleForWriting.write(line)
    var got = Data()
    while !got.contains(0x0a) { got.append(output.fileHandleForReading.availableData) }
    p.terminate()  // SIGTERM: held counts are written before exit
    p.waitUntilExit()
    #expect(try s.count("SELECT request_count FROM keys") == 6)
  }

  @Test func importRefusesOverlongAndFutureLinesAndGoesOn() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let now = ISO8601DateFormatter().string(from: Date())
    let future = ISO8601DateFormatter().string(from: Date().addingTimeInterval(30 * 86400))
    let log = [
      #"{"request_id":"a","key_id":"\#(k.id)","endpoint":"GET /","status":200,"at":"\#(now)"}"#,
      String(repeating: "y", count: (1 << 20) + 10),
      #"{"request_id":"b","key_id":"\#(k.id)","endpoint":"GET /","status":200,"at":"\#(future)"}"#,
      #"{"request_id":"c","key_id":"\#(k.id)","endpoint":"GET /","status":200,"at":"\#(now)"}"#,
    ].joined(separator: "\n")
    let r = try #require(try s.run(["usage", "import", "-", "--json"], stdin: log).json() as? [String: Any])
    #expect(r["imported"] as? Int == 2)
    #expect(r["bad_lines"] as? Int == 2)
  }

  @Test func aKeyWhoseStoredAllowlistCannotBeReadAdmitsNobody() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--allow-ip", "10.0.0.0/8"])
    try s.edit("UPDATE keys SET allowed_ips = '[\"not an address\"]' WHERE id = ?", [.text(k.id)])
    try s.reseal(k.id)
    let r = s.run(
      ["verify", "--json", "--env", "live", "--company", "acme", "--scope", "jobs:read", "--ip", "10.1.1.1"],
      stdin: k.key)
    #expect(r.status == 11)
    #expect((try r.json() as? [String: Any])?["code"] as? String == "ip_not_allowed")
  }

  @Test func showAndVerifyAgreeOnASuspendedKeyPastItsExpiry() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--expires-in", "1h"])
    #expect(s.run("suspend", k.id, "--reason", "r").status == 0)
    try s.backdate(k.id, .expiresAt)
    let shown = (try s.run("show", k.id, "--json").json() as? [String: Any])?["status"] as? String
    let decided =
      (try s.run(["verify", "--json", "--env", "live", "--company", "acme", "--scope", "jobs:read"], stdin: k.key)
      .json()
      as? [String: Any])?["code"] as? String
    #expect(shown == "suspended")
    #expect(decided == "suspended")
  }
}
