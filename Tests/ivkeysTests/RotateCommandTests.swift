import Foundation
import Testing

@testable import IVKeysCore

/// SPEC, "More hardening": a suspended key can be rotated (the old key stays suspended and is
/// revoked when the grace ends); a rotated key keeps its rate limit.
@Suite("rotate: suspended keys and rate limits")
struct RotateCommandTests {
  static func show(_ s: Sandbox, _ id: String) throws -> [String: Any] {
    try #require(try s.run("show", id, "--json").json() as? [String: Any])
  }

  /// The decision code and exit status of one `verify` of `key`.
  static func decide(_ s: Sandbox, _ key: String, env: String = "live") throws -> (Int32, String?) {
    let r = s.run(
      ["verify", "--env", env, "--json", "--company", "acme", "--scope", "jobs:read"], stdin: key + "\n")
    return (r.status, (try? r.json() as? [String: Any])?["code"] as? String)
  }

  @Test func aSuspendedKeyIsRotatedStaysSuspendedAndIsRevokedWhenTheGraceEnds() throws {
    let s = try Sandbox()
    let old = try s.createKey(["--rate-limit", "5/m", "--allow-ip", "10.0.0.0/8", "--tag", "t"])
    #expect(s.run("suspend", old.id, "--reason", "leaked in a log").status == 0)
    let r = s.run("rotate", old.id, "--grace", "2h", "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let new = try #require(try r.json() as? [String: Any])
    let newID = try #require(new["id"] as? String)
    let newKey = try #require(new["key"] as? String)
    #expect(new["status"] as? String == "active")
    #expect(new["rate_limit"] as? String == "5/m")
    #expect(new["allowed_ips"] as? [String] == ["10.0.0.0/8"])

    var o = try Self.show(s, old.id)
    #expect(o["status"] as? String == "suspended")
    #expect(o["replaced_by"] as? String == newID)
    #expect(o["grace_until"] is String)
    #expect((o["status_reason"] as? String)?.hasPrefix("leaked in a log; rotated, revoked at ") == true)
    let entries = try #require(
      try s.run("audit", "--key", old.id, "--event", "key.rotated", "--json").json() as? [[String: Any]])
    #expect((entries.first?["detail"] as? [String: Any])?["previous_status"] as? String == "suspended")

    // The table form says what becomes of the old key.
    let other = try s.createKey()
    #expect(s.run("suspend", other.id, "--reason", "r").status == 0)
    let said = s.run("rotate", other.id, "--grace", "1h")
    #expect(
      said.stderr.contains("ivkeys: the old key \(other.id) stays suspended and is revoked at "), "\(said.stderr)")

    // The old key is refused as suspended during the grace; the new one works.
    #expect(try Self.decide(s, old.key) == (10, "suspended"))
    let ok = s.run(
      ["verify", "--env", "live", "--json", "--company", "acme", "--scope", "jobs:read", "--ip", "10.1.2.3"],
      stdin: newKey + "\n")
    #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
    #expect(s.run("rotate", old.id).stderr.contains("already rotated"))

    // The grace ends: revoked for every command, before and after sweep records it.
    try s.backdate(old.id, .graceUntil)
    o = try Self.show(s, old.id)
    #expect(o["status"] as? String == "revoked")
    #expect(s.run("list", "--status", "revoked", "-q").lines == [old.id])
    #expect(s.run("list", "--status", "suspended", "-q").lines == [other.id])
    #expect(try Self.decide(s, old.key) == (10, "revoked"))
    let sweep = s.run("sweep", "--json")
    #expect(sweep.status == 0)
    #expect(sweep.stdout.contains(old.id))
    let revoked = try #require(
      try s.run("audit", "--key", old.id, "--event", "key.revoked", "--json").json() as? [[String: Any]])
    let detail = try #require(revoked.first?["detail"] as? [String: Any])
    #expect(detail["reason"] as? String == "rotation grace ended")
    #expect(detail["previous_status"] as? String == "suspended")
    #expect(try Self.show(s, old.id)["status"] as? String == "revoked")
    #expect(s.run("resume", old.id).status == 1, "revoked is final")
  }

  @Test func aKeyRotatedWhileSuspendedResumesAsRotating() throws {
    let s = try Sandbox()
    let old = try s.createKey()
    #expect(s.run("suspend", old.id, "--reason", "r").status == 0)
    #expect(s.run("rotate", old.id, "--grace", "1h", "-q").status == 0)
    let resumed = s.run("resume", old.id, "--json")
    #expect(resumed.status == 0)
    #expect((try resumed.json() as? [String: Any])?["status"] as? String == "rotating")
    #expect(try Self.decide(s, old.key) == (0, "ok"))
  }

  @Test func aRotatedKeyKeepsItsRateLimit() throws {
    let s = try Sandbox()
    let old = try s.createKey(["--rate-limit", "2/h", "--env", "test"])
    let r = s.run("rotate", old.id, "--grace", "0", "--json")
    #expect(r.status == 0)
    let new = try #require(try r.json() as? [String: Any])
    #expect(new["rate_limit"] as? String == "2/h")
    let key = try #require(new["key"] as? String)
    #expect(try Self.show(s, try #require(new["id"] as? String))["rate_limit"] as? String == "2/h")
    // The new key is held to it: two requests pass, the third is refused.
    #expect(try Self.decide(s, key, env: "test") == (0, "ok"))
    #expect(try Self.decide(s, key, env: "test") == (0, "ok"))
    #expect(try Self.decide(s, key, env: "test") == (12, "rate_limited"))
  }
}
