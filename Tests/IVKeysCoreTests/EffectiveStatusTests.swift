import Foundation
import Testing

@testable import IVKeysCore

/// A key's effective status has three statements, `KeyPolicy.effectiveStatus` in Swift and each
/// engine's expression for filters; this runs them over the same cases, on SQLite and on a real
/// PostgreSQL server.
@Suite("effective status: Swift and SQL agree")
struct EffectiveStatusTests {
  struct Case: Sendable, CustomStringConvertible {
    let stored: KeyStatus
    let expiresAt: Timestamp?
    let graceUntil: Timestamp?
    let expected: KeyStatus
    var description: String {
      "\(stored) expires \(expiresAt.map(String.init) ?? "-") grace \(graceUntil.map(String.init) ?? "-")"
    }
  }

  static let now: Timestamp = 1_800_000_000
  static let past = now - 1, future = now + 1

  static let cases: [Case] = [
    Case(stored: .active, expiresAt: nil, graceUntil: nil, expected: .active),
    Case(stored: .active, expiresAt: future, graceUntil: nil, expected: .active),
    Case(stored: .active, expiresAt: now, graceUntil: nil, expected: .expired),
    Case(stored: .active, expiresAt: past, graceUntil: nil, expected: .expired),
    Case(stored: .suspended, expiresAt: past, graceUntil: nil, expected: .suspended),
    Case(stored: .suspended, expiresAt: nil, graceUntil: nil, expected: .suspended),
    // Rotated while suspended: suspended until the grace ends, then revoked.
    Case(stored: .suspended, expiresAt: nil, graceUntil: future, expected: .suspended),
    Case(stored: .suspended, expiresAt: past, graceUntil: future, expected: .suspended),
    Case(stored: .suspended, expiresAt: nil, graceUntil: now, expected: .revoked),
    Case(stored: .suspended, expiresAt: future, graceUntil: past, expected: .revoked),
    Case(stored: .suspended, expiresAt: past, graceUntil: past, expected: .revoked),
    Case(stored: .rotating, expiresAt: nil, graceUntil: future, expected: .rotating),
    Case(stored: .rotating, expiresAt: nil, graceUntil: now, expected: .revoked),
    Case(stored: .rotating, expiresAt: past, graceUntil: future, expected: .expired),
    Case(stored: .rotating, expiresAt: past, graceUntil: past, expected: .revoked),
    Case(stored: .rotating, expiresAt: future, graceUntil: nil, expected: .rotating),
    Case(stored: .revoked, expiresAt: past, graceUntil: past, expected: .revoked),
    Case(stored: .revoked, expiresAt: nil, graceUntil: nil, expected: .revoked),
    Case(stored: .expired, expiresAt: future, graceUntil: nil, expected: .expired),
    Case(stored: .expired, expiresAt: past, graceUntil: nil, expected: .expired),
  ]

  @Test(arguments: [false, true]) func swiftAndSQLAgreeOnEveryCase(postgres: Bool) throws {
    let server = postgres ? try PostgresServer() : nil
    defer { server?.stop() }
    let (v, dir) = try makeTestVault(server: server)
    defer { try? FileManager.default.removeItem(at: dir) }
    v.now = { Self.now - 100 }
    var ids = [String]()
    for _ in Self.cases {
      ids.append(try v.createKeys(KeyDraft(company: "acme", name: "k", scopes: ["jobs:read"])).template.id)
    }
    for (id, c) in zip(ids, Self.cases) {
      if let server {
        try PGConnection(server.conninfo).query(
          "UPDATE keys SET status = $1, expires_at = $2::bigint, grace_until = $3::bigint WHERE id = $4",
          [c.stored.rawValue, c.expiresAt.map { String($0) }, c.graceUntil.map { String($0) }, id])
      } else {
        try v.testDB.run(
          "UPDATE keys SET status = ?, expires_at = ?, grace_until = ? WHERE id = ?",
          [.text(c.stored.rawValue), .optional(c.expiresAt), .optional(c.graceUntil), .text(id)])
      }
    }
    let sql = try v.store.effectiveStatuses(of: Set(ids), now: Self.now)
    for (id, c) in zip(ids, Self.cases) {
      let swift = KeyPolicy.effectiveStatus(
        stored: c.stored, expiresAt: c.expiresAt, graceUntil: c.graceUntil, now: Self.now)
      #expect(swift == c.expected, "Swift: \(c)")
      #expect(sql[id] == c.expected, "SQL: \(c)")
    }
    // The listing filters use the same expression: `list --status` finds exactly the keys each says.
    v.now = { Self.now }
    for status in KeyStatus.allCases {
      var filter = KeyFilter()
      filter.status = status
      var listed = Set<String>()
      try v.listKeys(filter) { listed.insert($0.id) }
      let expected = Set(zip(ids, Self.cases).filter { $0.1.expected == status }.map(\.0))
      #expect(listed == expected, "list --status \(status)")
    }
  }
}
