import Foundation
import Testing

@testable import IVKeysCore

@Suite("row seals")
struct SealTests {
  /// A new key is sealed from the values it is inserted with, without reading the row back; the
  /// row as stored must match that seal, every sealed column set.
  @Test func aNewKeysSealMatchesItsRowAsStored() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    var draft = KeyDraft(company: "acme", name: "k", scopes: ["jobs:read", "candidates:*"])
    draft.env = .test
    draft.type = .ats
    draft.linkedCompanies = ["acme", "globex"]
    draft.expiresAt = v.now() + 86400
    draft.allowedIPs = [try IPRange.parse("10.0.0.0/8"), try IPRange.parse("2001:db8::/32")]
    draft.rateLimit = try RateLimit.parse("600/m")
    let made = try v.createKeys(draft, count: 3).keys
    // The rotation's new key has rotated_from set; the old key is resealed from its row.
    _ = try v.rotateKey(made[0].id, grace: 3600)
    #expect(try v.store.brokenSeals(limit: 10).isEmpty)
    // And a seal fails when any sealed column changes.
    try v.testDB.run("UPDATE keys SET rate_limit = '601/m' WHERE id = ?", [.text(made[1].id)])
    #expect(try v.store.brokenSeals(limit: 10) == [BrokenSeal(table: "keys", primaryKey: made[1].id)])
  }

  /// No two different rows encode alike: field boundaries and stored types are part of the
  /// message.
  @Test func theEncodingKeepsBoundariesAndTypes() {
    func message(_ values: [SealValue]) -> [UInt8] {
      var m = SealMessage(table: "t", primaryKey: "p")
      for v in values { m.append(v) }
      return m.bytes
    }
    #expect(message([.text("ab"), .text("c")]) != message([.text("a"), .text("bc")]))
    #expect(message([.text("1")]) != message([.int(1)]))
    #expect(message([.text("ab")]) != message([.blob(Array("ab".utf8))]))
    #expect(message([.null]) != message([.text("")]))
    #expect(SealMessage(table: "keys", primaryKey: "x").bytes != SealMessage(table: "admins", primaryKey: "x").bytes)
  }
}
