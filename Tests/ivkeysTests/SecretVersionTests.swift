import Foundation
import Testing

@testable import IVKeysCore

/// `secret rotate`, `secret list` and `secret retire`: a leaked secret has a way out without
/// re-issuing every key at once.
@Suite("secret versions")
struct SecretVersionTests {
  func verify(_ s: Sandbox, _ key: String) -> Int32 {
    s.run(["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read"], stdin: key).status
  }

  func versions(_ s: Sandbox) throws -> [[String: Any]] {
    try #require(try s.run("secret", "list", "--json").json() as? [[String: Any]])
  }

  func currentVersion(_ s: Sandbox) throws -> Int? {
    try versions(s).first { $0["current"] as? Bool == true }?["version"] as? Int
  }

  @Test func oldKeysKeepVerifyingUntilTheirVersionIsRetired() throws {
    let s = try Sandbox()
    let old = try s.createKey()
    let secretBefore = try Data(contentsOf: URL(fileURLWithPath: s.secret))
    let r = s.run("secret", "rotate", "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let rotated = try #require(try r.json() as? [String: Any])
    #expect(rotated["previous_version"] as? Int == 1 && rotated["version"] as? Int == 2)
    #expect(rotated["keys_on_older_versions"] as? Int == 1)
    // The file holds both versions, still mode 0600, and never entered the vault.
    let text = try String(contentsOfFile: s.secret, encoding: .utf8)
    #expect(text.hasPrefix("ivkeys-secret-v2\n") && text.contains("\n1 ") && text.contains("\n2 "))
    #expect((try FileManager.default.attributesOfItem(atPath: s.secret)[.posixPermissions] as? Int) == 0o600)
    if Engine.isSQLite {
      let vaultBytes = try Data(contentsOf: URL(fileURLWithPath: s.vault))
      #expect(vaultBytes.range(of: secretBefore.prefix(64)) == nil)
    }
    // The old key verifies; a new key is made under version 2; both pass doctor.
    #expect(verify(s, old.key) == 0)
    let new = try s.createKey()
    #expect(verify(s, new.key) == 0)
    #expect(s.run("doctor").status == 0)
    #expect(s.run("audit", "verify").status == 0)
    let list = try versions(s)
    #expect(list.map { $0["version"] as? Int } == [1, 2])
    #expect(list[0]["keys"] as? Int == 1 && list[1]["keys"] as? Int == 1 && list[1]["current"] as? Bool == true)
    // rotation-due names the old key, with the reason.
    let due = try #require(try s.run("rotation-due", "--json").json() as? [[String: Any]])
    #expect(due.map { $0["id"] as? String } == [old.id])
    #expect(due.first?["reason"] as? String == "secret version 1 is being retired")
    #expect(s.run("rotation-due", "--check").status == 3)
    // Retiring refuses while the old key is not revoked.
    let refused = s.run("secret", "retire", "1")
    #expect(refused.status == 1 && refused.stderr.contains("1 key that is not revoked uses secret version 1"))
    #expect(s.run("rotate", old.id, "--grace", "0", "-q").status == 0)
    let retired = s.run("secret", "retire", "1", "--json")
    #expect(retired.status == 0, "\(retired.stderr)")
    let file = try String(contentsOfFile: s.secret, encoding: .utf8)
    #expect(!file.contains("\n1 ") && file.contains("\n2 "))
    // History stays provable without version 1: the checkpoint covers its entries.
    #expect(s.run("audit", "verify").status == 0)
    #expect(s.run("doctor").status == 0)
    #expect(try s.events().last == "secret.retired")
    #expect(verify(s, new.key) == 0)
    // A version cannot be retired twice, nor the current one, nor one that never was.
    #expect(s.run("secret", "retire", "1").status == 1)
    #expect(s.run("secret", "retire", "2").status == 1)
    #expect(s.run("secret", "retire", "9").status == 1)
    #expect(s.run("secret", "retire", "one").status == 2)
  }

  @Test func anEntryOfARetiredVersionChangedLaterIsStillDetected() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    #expect(s.run("revoke", k.id, "--reason", "x").status == 0)
    #expect(s.run("secret", "rotate").status == 0)
    #expect(s.run("secret", "retire", "1").status == 0)
    try s.tamper("DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = 2;")
    let r = s.run("audit", "verify", "--json")
    #expect(r.status == 3)
    #expect((try r.json() as? [String: Any])?["bad_seq"] as? Int == 1, "\(r.stdout)")
  }

  @Test func aRotationNeverSealsAChangeMadeOutsideIvkeys() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    try s.edit("UPDATE keys SET scopes = '[\"*\"]' WHERE id = ?", [.text(k.id)])
    let r = s.run("secret", "rotate")
    #expect(r.status == 1 && r.stderr.contains("changed outside ivkeys"))
    #expect(try currentVersion(s) == 1)
    #expect(!(try String(contentsOfFile: s.secret, encoding: .utf8)).contains("ivkeys-secret-v2"))
  }

  /// SIGKILL at each point of a rotation: the vault is on the old version or the new one, never
  /// a mix, and works either way.
  @Test(arguments: [("secret:file-written", 1), ("secret:resealed", 1), ("secret:committed", 2)])
  func aKilledRotationLeavesTheOldStateOrTheNew(point: String, expected: Int) throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let r = s.run(["secret", "rotate"], env: ["IVKEYS_TEST_KILL_AT": point])
    #expect(r.status == 128 + SIGKILL, "\(point): not killed (\(r.status)): \(r.stderr)")
    #expect(try s.engineIntact())
    #expect(try currentVersion(s) == expected, "\(point)")
    #expect(s.run("doctor").status == 0, "\(point): \(s.run("doctor").stdout)")
    #expect(s.run("audit", "verify").status == 0, "\(point)")
    #expect(verify(s, k.key) == 0, "\(point)")
    // The next rotation goes on from there, and every key still verifies.
    #expect(s.run("secret", "rotate").status == 0)
    #expect(try currentVersion(s) == expected + 1)
    #expect(verify(s, k.key) == 0)
    #expect(s.run("doctor").status == 0)
  }

  @Test func aVerifyStreamFollowsARotationMadeByAnotherProcess() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let (p, input, output) = try s.startCoprocess(["verify", "--batch", "--env", "live"])
    let line = #"{"key":"\#(k.key)","company":"acme","scope":"jobs:read"}"# + "\n"
    func ask() -> [String: Any]? {
      input.fileHandleForWriting.write(Data(line.utf8))
      var bytes = Data()
      while true {
        let b = output.fileHandleForReading.readData(ofLength: 1)
        if b.isEmpty || b == Data("\n".utf8) { break }
        bytes.append(b)
      }
      return try? JSONSerialization.jsonObject(with: bytes) as? [String: Any]
    }
    #expect(ask()?["allowed"] as? Bool == true)
    #expect(s.run("secret", "rotate").status == 0)
    #expect(ask()?["allowed"] as? Bool == true, "the stream still decides after the rotation")
    try input.fileHandleForWriting.close()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    #expect(s.run("audit", "verify").status == 0)
  }

  @Test func onlyAnAdministratorRotatesOrRetires() throws {
    let s = try Sandbox()
    #expect(s.run("admin", "add", "someone-else").status == 0)
    let me = try #require(
      ProcessInfo.processInfo.environment["USER"] ?? String(validatingCString: getpwuid(getuid())!.pointee.pw_name))
    #expect(s.run("admin", "remove", me).status == 0)
    let r = s.run("secret", "rotate")
    #expect(r.status == 1 && r.stderr.contains("only a vault administrator"))
    #expect(s.run("secret", "retire", "1").status == 1)
  }
}
