import Foundation
import Testing

@testable import IVKeysCore

@Suite("opening a vault")
struct VaultAccessTests {
  @Test func readingWithoutTheSecretFileOpensTheVaultReadOnlyAndSaysWhatCannotBeChecked() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let made = try v.createKeys(KeyDraft(company: "acme", name: "k", scopes: ["jobs:read"])).template
    let missing = dir.path + "/no-such-secret"
    let r = try Vault.open(
      path: dir.path + "/v.db", secretPath: missing, actor: Actor(osUser: "auditor"), access: .read)
    #expect(!r.secretAvailable)
    #expect(r.fingerprint == nil)
    #expect(
      r.notices == [
        "no secret file at \(missing): reading without it; the audit chain and the secret's fingerprint cannot be checked"
      ])
    #expect(try r.resolve(made.id).id == made.id)
    var listed = [String]()
    try r.listKeys(KeyFilter()) { listed.append($0.id) }
    #expect(listed == [made.id])
    var entries = 0
    try r.auditEntries(AuditFilter()) { _ in entries += 1 }
    #expect(entries == 2)
    // What needs the secret says so.
    #expect(throws: IVKeysError.self) { try r.verifyAudit() }
    #expect(throws: IVKeysError.self) { try r.changeStatus(made.id, .suspend, reason: nil) }
    #expect(throws: IVKeysError.self) { try Verifier(vault: r) }
  }

  @Test func writeAndInspectStillNeedTheSecretAndAMismatchFailsInEveryMode() throws {
    let (_, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let vault = dir.path + "/v.db"
    for access in [VaultAccess.write, .inspect] {
      #expect(throws: IVKeysError.self) {
        try Vault.open(path: vault, secretPath: dir.path + "/none", actor: Actor(osUser: "x"), access: access)
      }
    }
    let other = dir.path + "/other-secret"
    _ = try Vault.initialize(path: dir.path + "/other.db", secretPath: other, actor: Actor(osUser: "x"))
    for access in [VaultAccess.write, .read, .inspect] {
      do {
        _ = try Vault.open(path: vault, secretPath: other, actor: Actor(osUser: "x"), access: access)
        Issue.record("\(access): a secret that does not match must fail")
      } catch {
        #expect(error.description.contains("does not match the vault"))
      }
    }
  }

  @Test func aMissingSecretBesideAnExistingVaultHintsAtTheRealWayOut() throws {
    let (_, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    do {
      _ = try Vault.open(path: dir.path + "/v.db", secretPath: dir.path + "/gone", actor: Actor(osUser: "x"))
      Issue.record("opening without a secret to write must fail")
    } catch {
      #expect(error.description == "no secret file at \(dir.path)/gone")
      let hint = error.hint ?? ""
      #expect(hint.contains("--secret-file or IVKEYS_SECRET_FILE at the secret \(dir.path)/v.db was created with"))
      #expect(hint.contains("'ivkeys init' only makes a new vault, at a new --vault path"))
      #expect(!hint.hasPrefix("run 'ivkeys init'"))
    }
  }

  @Test func aBackupIntoAMissingDirectoryNamesItAndSaysToCreateIt() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let dest = dir.path + "/nodir/x.db"
    do {
      _ = try v.backup(to: dest, force: false, secretPath: dir.path + "/secret")
      Issue.record("a backup into a missing directory must fail")
    } catch {
      #expect(error.description.contains(dest))
      #expect(error.description.contains("the directory \(dir.path)/nodir does not exist"))
      #expect(!error.description.contains(".ivkeys-backup"))
      #expect(error.hint?.contains("mkdir -p \(dir.path)/nodir") == true)
    }
  }
}
