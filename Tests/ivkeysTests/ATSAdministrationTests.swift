import Foundation
import Testing

@testable import IVKeysCore

/// SPEC, Integrity: only administrators change an ATS key in any way (update, links, rotate,
/// suspend, resume, revoke), and `admin remove` never removes the last administrator.
@Suite("ATS keys are administrators' alone")
struct ATSAdministrationTests {
  /// A vault with an ATS key, a regular key of the same company, both created by the OS user
  /// while it was an administrator; then the OS user is made a non-administrator.
  struct Setup {
    let s: Sandbox
    let ats: String
    let regular: String
    let me: String
  }

  static func setup(suspendATS: Bool = false) throws -> Setup {
    let s = try Sandbox()
    let created = s.run(
      "create", "--company", "lever", "--name", "ats", "--type", "ats", "--link-company", "acme", "--tag", "ci",
      "--scope", "jobs:read", "--json")
    #expect(created.status == 0, "\(created.stderr)")
    let ats = try #require((try created.json() as? [String: Any])?["id"] as? String)
    if suspendATS { #expect(s.run("suspend", ats, "--reason", "paused").status == 0) }
    let regular = try s.createKey(["--tag", "ci"], company: "lever").id
    let me = try #require(s.run("admin", "list", "-q").lines.first)
    #expect(s.run("admin", "add", "alice").status == 0)
    #expect(s.run("admin", "remove", me).status == 0)
    #expect(s.run("admin", "list", "-q").lines == ["alice"])
    return Setup(s: s, ats: ats, regular: regular, me: me)
  }

  /// A key's row, every setting and status column, to prove a refused command changed nothing.
  static func row(_ s: Sandbox, _ id: String) throws -> String {
    let digest = Engine.current == .postgresql ? "encode(digest, 'hex')" : "hex(digest)"
    let array = Engine.current == .postgresql ? "json_build_array" : "json_array"
    let cast = Engine.current == .postgresql ? "::text" : ""
    return try s.text(
      """
      SELECT \(array)(name, scopes, allowed_ips, expires_at, rate_limit, metadata, tags, contact, linked_companies,
        status, status_reason, replaced_by, grace_until, \(digest))\(cast) FROM keys WHERE id = ?
      """, [id]) ?? "none"
  }

  @Test func aNonAdministratorCannotUpdateAnyFieldOfAnATSKey() throws {
    let t = try Self.setup()
    let s = t.s
    let before = try Self.row(s, t.ats)
    let audits = s.auditCount
    let changes: [[String]] = [
      ["--name", "renamed"], ["--add-scope", "jobs:write"], ["--allow-ip", "10.0.0.0/8"], ["--expires-in", "30d"],
      ["--meta", "owner=ops"], ["--tag", "prod"], ["--untag", "ci"], ["--rate-limit", "10/s"],
      ["--contact", "ops@example.com"], ["--link-company", "globex"], ["--unlink-company", "acme"],
    ]
    for change in changes {
      let r = s.run(["update", t.ats] + change)
      #expect(r.status == 1, "\(change)")
      #expect(
        r.stderr.contains(
          "ivkeys: error: only a vault administrator may change an ATS key; key \(t.ats) is an ATS key and "
            + "\(t.me) is not an administrator"), "\(change): \(r.stderr)")
      #expect(r.stderr.contains("ivkeys: hint: nothing was changed; 'ivkeys admin list' shows the administrators"))
      #expect(r.stdout.isEmpty)
    }
    #expect(try Self.row(s, t.ats) == before)
    #expect(s.auditCount == audits)
    // A regular key stays anyone's to change.
    #expect(s.run("update", t.regular, "--name", "renamed").status == 0)
  }

  @Test func aNonAdministratorCannotRotateSuspendOrRevokeAnATSKey() throws {
    let t = try Self.setup()
    let s = t.s
    let before = try Self.row(s, t.ats)
    let audits = s.auditCount
    let keys = s.keyCount
    for (args, verb) in [
      (["rotate", t.ats], "rotate"), (["rotate", t.ats, "--grace", "0"], "rotate"),
      (["suspend", t.ats, "--reason", "r"], "suspend"), (["revoke", t.ats, "--reason", "r"], "revoke"),
    ] {
      let r = s.run(args)
      #expect(r.status == 1, "\(args)")
      #expect(r.stderr.contains("only a vault administrator may \(verb) an ATS key; key \(t.ats)"), "\(r.stderr)")
      #expect(!r.stdout.contains("sk_live_"))
    }
    #expect(try Self.row(s, t.ats) == before)
    #expect(s.auditCount == audits && s.keyCount == keys)
    #expect(s.status(of: t.ats) == "active")
  }

  @Test func aNonAdministratorCannotResumeAnATSKey() throws {
    let t = try Self.setup(suspendATS: true)
    let s = t.s
    let audits = s.auditCount
    let r = s.run("resume", t.ats)
    #expect(r.status == 1)
    #expect(r.stderr.contains("only a vault administrator may resume an ATS key"))
    #expect(s.status(of: t.ats) == "suspended")
    // The bulk form refuses it too, whole.
    #expect(s.run("suspend", t.regular, "--reason", "r").status == 0)
    let bulk = s.run("resume", "--company", "lever", "--yes")
    #expect(bulk.status == 1)
    #expect(bulk.stderr.contains("1 of the 2 matching keys is an ATS key (\(t.ats))"), "\(bulk.stderr)")
    #expect(s.status(of: t.regular) == "suspended", "nothing changed, not even the regular key")
    #expect(s.auditCount == audits + 1)
  }

  @Test func aBulkSelectionHoldingAnATSKeyIsRefusedWholeBeforeAnythingChanges() throws {
    let t = try Self.setup()
    let s = t.s
    let audits = s.auditCount
    for action in [["suspend", "--reason", "r"], ["revoke", "--reason", "r"]] {
      let r = s.run(action + ["--company", "lever", "--yes"])
      #expect(r.status == 1, "\(action)")
      #expect(
        r.stderr.contains(
          "ivkeys: error: only a vault administrator may \(action[0]) an ATS key; 1 of the 2 matching keys is an "
            + "ATS key (\(t.ats)) and \(t.me) is not an administrator"), "\(r.stderr)")
      #expect(r.stderr.contains("ivkeys: hint: nothing was changed; leave the ATS keys out of the selection"))
      #expect(r.stdout.isEmpty)
      // The same by tag, and with a single match: still refused.
      #expect(s.run(action + ["--tag", "ci", "--yes"]).status == 1)
    }
    #expect(s.status(of: t.ats) == "active" && s.status(of: t.regular) == "active")
    #expect(s.auditCount == audits)

    // A dry run lists the keys and warns that the real run would be refused.
    let dry = s.run("suspend", "--company", "lever", "--reason", "r", "--dry-run", "-q")
    #expect(dry.status == 0)
    #expect(Set(dry.lines) == [t.ats, t.regular])
    #expect(dry.stderr.contains("ivkeys: warning: without --dry-run this would be refused: only a vault administrator"))

    // A selection without the ATS key goes through.
    #expect(s.run("suspend", "--company", "lever", "--env", "live", "--tag", "nope", "--reason", "r").status == 0)
    let regularOnly = s.run("revoke", t.regular, "--reason", "r")
    #expect(regularOnly.status == 0)
  }

  @Test func anAdministratorChangesATSKeysAsBefore() throws {
    let s = try Sandbox()
    let created = s.run(
      "create", "--company", "lever", "--name", "ats", "--type", "ats", "--link-company", "acme", "--scope",
      "jobs:read", "-q")
    let ats = String(created.stdout.dropFirst(8).prefix(32))
    _ = try s.createKey([], company: "lever")
    #expect(s.run("update", ats, "--name", "renamed", "--link-company", "globex").status == 0)
    #expect(s.run("suspend", "--company", "lever", "--reason", "r", "--yes").status == 0)
    #expect(s.status(of: ats) == "suspended")
    let dry = s.run("resume", "--company", "lever", "--dry-run")
    #expect(!dry.stderr.contains("warning"))
    #expect(s.run("resume", ats).status == 0)
    #expect(s.run("rotate", ats, "-q").status == 0)
    #expect(s.run("revoke", ats, "--reason", "done").status == 0)
  }

  @Test func theLastAdministratorCannotBeRemoved() throws {
    let s = try Sandbox()
    let me = try #require(s.run("admin", "list", "-q").lines.first)
    let audits = s.auditCount
    let r = s.run("admin", "remove", me)
    #expect(r.status == 1)
    #expect(r.stderr.contains("ivkeys: error: \(me) is the last administrator and cannot be removed"))
    #expect(r.stderr.contains("ivkeys: hint: add another with 'ivkeys admin add USER' first"))
    #expect(s.run("admin", "list", "-q").lines == [me])
    #expect(s.auditCount == audits)
    // With two, one can go; then the other is the last again.
    #expect(s.run("admin", "add", "alice").status == 0)
    #expect(s.run("admin", "remove", "alice").status == 0)
    #expect(s.run("admin", "remove", me).status == 1)
    #expect(s.run("admin", "list", "-q").lines == [me])
  }
}
