import Foundation
import Testing

@testable import IVKeysCore

/// SPEC, "More hardening": a key never silently opens to every address; `/0` warns; an IPv4
/// client and its IPv4-mapped IPv6 form are one client.
@Suite("IP allowlists")
struct AllowlistTests {
  static func allowlist(_ s: Sandbox, _ id: String) throws -> [String] {
    let obj = try #require(try s.run("show", id, "--json").json() as? [String: Any])
    return obj["allowed_ips"] as? [String] ?? ["?"]
  }

  @Test func removingTheLastAllowedAddressNeedsClearIPs() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--allow-ip", "10.0.0.0/8", "--allow-ip", "192.0.2.7"])
    #expect(s.run("update", k.id, "--remove-ip", "192.0.2.7").status == 0, "one of two may go")
    #expect(try Self.allowlist(s, k.id) == ["10.0.0.0/8"])

    let audits = s.auditCount
    let r = s.run("update", k.id, "--remove-ip", "10.0.0.0/8")
    #expect(r.status == 2)
    #expect(r.stderr.contains("ivkeys: error: --remove-ip would remove the last address allowed for key \(k.id)"))
    #expect(
      r.stderr.contains(
        "ivkeys: hint: a key with no allowlist admits every address; pass --clear-ips to mean that"))
    #expect(r.stdout.isEmpty)
    // Nothing changed, not even the other settings asked for in the same command.
    #expect(s.run("update", k.id, "--remove-ip", "10.0.0.0/8", "--name", "other").status == 2)
    #expect(try Self.allowlist(s, k.id) == ["10.0.0.0/8"])
    #expect(s.auditCount == audits)

    // Replacing the last entry in one command keeps the key closed: allowed.
    #expect(s.run("update", k.id, "--remove-ip", "10.0.0.0/8", "--allow-ip", "198.51.100.0/24").status == 0)
    #expect(try Self.allowlist(s, k.id) == ["198.51.100.0/24"])
    // Said outright, it empties the list (with or without naming the entry).
    #expect(s.run("update", k.id, "--remove-ip", "198.51.100.0/24", "--clear-ips").status == 0)
    #expect(try Self.allowlist(s, k.id) == [])
    #expect(s.run("update", k.id, "--allow-ip", "10.0.0.0/8").status == 0)
    #expect(s.run("update", k.id, "--clear-ips").status == 0)
    #expect(try Self.allowlist(s, k.id) == [])
  }

  @Test func everyAddressRangesWarnButAreAccepted() throws {
    let s = try Sandbox()
    for (range, family) in [("0.0.0.0/0", "IPv4"), ("::/0", "IPv6"), ("::ffff:0.0.0.0/96", "IPv4")] {
      let r = s.run("create", "--company", "acme", "--name", "n", "--scope", "jobs:read", "--allow-ip", range, "-q")
      #expect(r.status == 0)
      #expect(r.stderr.contains("ivkeys: warning: --allow-ip \(range) admits every \(family) address"), "\(r.stderr)")
      #expect(r.stderr.contains("ivkeys: hint: name the networks the key's clients use"))
      let id = String(r.stdout.dropFirst(8).prefix(32))
      #expect(try Self.allowlist(s, id) == [range])
    }
    let k = try s.createKey(["--allow-ip", "10.0.0.0/8"])
    let narrow = s.run("create", "--company", "acme", "--name", "n", "--scope", "jobs:read", "--allow-ip", "0.0.0.0/1")
    #expect(narrow.status == 0 && !narrow.stderr.contains("warning"))
    let update = s.run("update", k.id, "--allow-ip", "::/0", "-q")
    #expect(update.status == 0)
    #expect(update.stderr.contains("ivkeys: warning: --allow-ip ::/0 admits every IPv6 address"))
    #expect(try Self.allowlist(s, k.id) == ["10.0.0.0/8", "::/0"])
    #expect(!s.run("update", k.id, "--allow-ip", "192.0.2.0/24").stderr.contains("warning"))
  }

  @Test func anIPv4ClientAndItsMappedFormAreOneClient() throws {
    let s = try Sandbox()
    let mappedEntry = try s.createKey(["--allow-ip", "::ffff:10.0.0.0/104"])
    let ipv4Entry = try s.createKey(["--allow-ip", "10.0.0.0/8"])
    func decide(_ key: String, _ ip: String) throws -> (Int32, String?) {
      let r = s.run(
        ["verify", "--env", "live", "--json", "--company", "acme", "--scope", "jobs:read", "--ip", ip], stdin: key)
      return (r.status, (try? r.json() as? [String: Any])?["code"] as? String)
    }
    for key in [mappedEntry.key, ipv4Entry.key] {
      for client in ["10.1.2.3", "::ffff:10.1.2.3"] {
        let (status, code) = try decide(key, client)
        #expect(status == 0 && code == "ok", "\(client)")
      }
      for client in ["11.1.2.3", "::ffff:11.1.2.3", "::10.1.2.3", "2001:db8::1"] {
        let (status, code) = try decide(key, client)
        #expect(status == 11 && code == "ip_not_allowed", "\(client)")
      }
    }
  }
}
