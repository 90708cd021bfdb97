import Foundation
import Testing

@testable import IVKeysCore

@Suite("suspend, resume and revoke one key")
struct StatusChangeTests {
  /// The number of audit entries, read from the vault file directly.
  func auditEntries(_ v: Vault) throws -> Int64 { try v.testDB.scalarInt("SELECT count(*) FROM audit") ?? -1 }

  @Test func aKeyAlreadyInTheStateAskedForIsLeftAloneWithoutAnAuditEntry() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let made = try v.createKeys(KeyDraft(company: "acme", name: "k", scopes: ["jobs:read"])).template
    let first = try v.changeStatus(made.id, .suspend, reason: "incident")
    #expect(first.changed && first.record.status == .suspended)
    let entries = try auditEntries(v)
    let again = try v.changeStatus(made.id, .suspend, reason: "incident")
    #expect(!again.changed && again.record.status == .suspended)
    #expect(try auditEntries(v) == entries, "a change that changes nothing records nothing")
    #expect(try v.changeStatus(made.id, .resume, reason: nil).changed)
    #expect(try !v.changeStatus(made.id, .resume, reason: nil).changed)
    #expect(try v.changeStatus(made.id, .revoke, reason: "done").changed)
    #expect(try !v.changeStatus(made.id, .revoke, reason: "done").changed)
    #expect(try auditEntries(v) == entries + 2)
  }

  @Test func aChangeTheStatusDoesNotAllowIsAnError() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let made = try v.createKeys(KeyDraft(company: "acme", name: "k", scopes: ["jobs:read"])).template
    _ = try v.changeStatus(made.id, .revoke, reason: "done")
    let entries = try auditEntries(v)
    #expect(throws: IVKeysError.self) { try v.changeStatus(made.id, .resume, reason: nil) }
    #expect(throws: IVKeysError.self) { try v.changeStatus(made.id, .suspend, reason: "x") }
    #expect(try auditEntries(v) == entries)
  }
}
