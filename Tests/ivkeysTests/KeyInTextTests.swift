import Foundation
import Testing

@testable import IVKeysCore

/// SPEC, "More hardening": the key-in-text guard refuses a key in names, metadata, reasons, tags
/// and actors (`$IVKEYS_ACTOR`, `$SUDO_USER`) also without its prefix, in another case, or
/// percent-encoded; and the refusal never echoes the key.
@Suite("the key-in-text guard")
struct KeyInTextTests {
  /// The forms of one key the guard must refuse, by name.
  static func forms(of key: String) -> [(String, String)] {
    let body = String(key.dropFirst(8))
    return [
      ("whole", key),
      ("body", body),
      ("body without _", body.replacingOccurrences(of: "_", with: "")),
      ("upper case", key.uppercased()),
      ("prefix in another case", "Sk_LiVe_" + body),
      ("percent-encoded _", key.replacingOccurrences(of: "_", with: "%5F")),
      ("percent-encoded twice", key.replacingOccurrences(of: "_", with: "%255f")),
      ("every byte percent-encoded", key.utf8.map { "%" + String($0, radix: 16) }.joined()),
    ]
  }

  /// The run refused the text as a usage error and printed no part of the key's secret.
  static func expectRefusedWithoutEcho(_ r: RunResult, key: String, form: String, _ what: String) {
    #expect(r.status == 2, "\(what): \(r.stderr)")
    let secret = String(key.dropFirst(41))
    let out = (r.stdout + r.stderr).lowercased()
    for chunk in stride(from: 0, to: secret.count - 12, by: 12) {
      let piece = String(secret.dropFirst(chunk).prefix(12)).lowercased()
      #expect(!out.contains(piece), "\(what): secret digits echoed")
    }
    #expect(!r.stderr.contains(String(form.suffix(24))), "\(what): the form echoed")
  }

  @Test func everyFormInEveryFieldIsRefusedAndNothingChanges() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let keys = s.keyCount
    let audits = s.auditCount
    for (name, form) in Self.forms(of: k.key) {
      let commands: [(String, [String])] = [
        ("create --name", ["create", "--company", "a", "--name", "x \(form)", "--scope", "jobs:read"]),
        ("update --name", ["update", k.id, "--name", form]),
        ("--meta value", ["update", k.id, "--meta", "note=\(form)"]),
        ("--meta key", ["create", "--company", "a", "--name", "n", "--scope", "jobs:read", "--meta", "\(form)=1"]),
        ("--unset-meta", ["update", k.id, "--unset-meta", form]),
        ("create --tag", ["create", "--company", "a", "--name", "n", "--scope", "jobs:read", "--tag", form]),
        ("update --tag", ["update", k.id, "--tag", form]),
        ("--contact", ["update", k.id, "--contact", "\(form)@example.com"]),
        ("--company", ["create", "--company", form, "--name", "n", "--scope", "jobs:read"]),
        ("suspend --reason", ["suspend", k.id, "--reason", "leaked as \(form)"]),
        ("revoke --reason", ["revoke", k.id, "--reason", form]),
        ("resume --reason", ["resume", k.id, "--reason", form]),
        ("bulk --reason", ["revoke", "--company", "acme", "--reason", form, "--yes"]),
        ("scopes add --description", ["scopes", "add", "x:read", "--description", form]),
      ]
      for (field, args) in commands {
        let r = s.run(args)
        Self.expectRefusedWithoutEcho(r, key: k.key, form: form, "\(name) in \(field)")
      }
    }
    #expect(s.keyCount == keys && s.auditCount == audits)
    #expect(s.status(of: k.id) == "active")
  }

  @Test func theMessageSaysWhatWasRefusedAndWhy() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let body = String(k.key.dropFirst(8))
    let r = s.run("update", k.id, "--name", "see \(body)")
    #expect(r.status == 2)
    #expect(
      r.stderr.contains(
        "ivkeys: error: invalid value for --name: '…': it contains an API key; refer to keys by their id"))
  }

  @Test func aTestKeysBodyIsFoundToo() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--env", "test"])
    let bare = String(k.key.dropFirst(8)).replacingOccurrences(of: "_", with: "")
    let r = s.run("update", k.id, "--meta", "k=\(bare)")
    Self.expectRefusedWithoutEcho(r, key: k.key, form: bare, "test body")
  }

  @Test func anActorHoldingAKeyIsRefusedNeverRecorded() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let audits = s.auditCount
    for variable in ["IVKEYS_ACTOR", "SUDO_USER"] {
      for (name, form) in Self.forms(of: k.key) {
        for args in [
          ["suspend", k.id, "--reason", "r"], ["create", "--company", "a", "--name", "n", "--scope", "jobs:read"],
        ] {
          let r = s.run(args, env: [variable: "bot \(form)"])
          Self.expectRefusedWithoutEcho(r, key: k.key, form: form, "\(name) in $\(variable)")
          #expect(r.stderr.contains("ivkeys: error: $\(variable) contains an API key"), "\(r.stderr)")
          #expect(
            r.stderr.contains("ivkeys: hint: set \(variable) to a name (or unset it), and rotate the key it held"))
        }
      }
    }
    #expect(s.auditCount == audits)
    #expect(s.status(of: k.id) == "active")
    // A name is still recorded as before.
    #expect(s.run("suspend", k.id, "--reason", "r", env: ["IVKEYS_ACTOR": "ci-bot", "SUDO_USER": "alice"]).status == 0)
    let entries = try #require(try s.run("audit", "--event", "key.suspended", "--json").json() as? [[String: Any]])
    let actor = try #require(entries.first?["actor"] as? String)
    #expect(actor.hasSuffix("(claims ci-bot)"))
  }
}
