import Foundation
import Testing

@testable import IVKeysCore

@Suite("SQLite wrapper")
struct DatabaseTests {
  func temporaryPath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("db-\(UUID().uuidString).sqlite").path
  }

  @Test func errorsCarryTheSQLButNeverBoundValues() throws {
    let path = temporaryPath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let db = try Database(path: path, create: true)
    try db.execute("CREATE TABLE t (v TEXT UNIQUE NOT NULL)")
    let secret = "sk_live_THISISASECRETVALUE"
    try db.run("INSERT INTO t (v) VALUES (?)", [.text(secret)])
    do {
      try db.run("INSERT INTO t (v) VALUES (?)", [.text(secret)])
      Issue.record("a duplicate insert must fail")
    } catch {
      guard case .sqlite(let e) = error else {
        Issue.record("not an SQLite error: \(error)")
        return
      }
      #expect(e.primaryCode == 19)  // SQLITE_CONSTRAINT
      #expect(e.sql == "INSERT INTO t (v) VALUES (?)")
      #expect(!e.description.contains(secret))
      #expect(!(e.hint ?? "").contains(secret))
      #expect(!String(describing: error).contains("THISISASECRET"))
    }
  }

  @Test func aFailedWriteTransactionRollsBackEverything() throws {
    let path = temporaryPath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let db = try Database(path: path, create: true)
    try db.execute("CREATE TABLE t (v INTEGER PRIMARY KEY)")
    #expect(throws: IVKeysError.self) {
      try db.writeTransaction { () throws(IVKeysError) in
        try db.run("INSERT INTO t (v) VALUES (1)")
        try db.run("INSERT INTO t (v) VALUES (1)")  // fails: duplicate
      }
    }
    #expect(try db.scalarInt("SELECT count(*) FROM t") == 0)
    try db.writeTransaction { () throws(IVKeysError) in try db.run("INSERT INTO t (v) VALUES (2)") }
    #expect(try db.scalarInt("SELECT count(*) FROM t") == 1)
  }

  @Test func statementsAreCachedBySQL() throws {
    let db = try Database(path: ":memory:", create: true)
    let a = try db.statement("SELECT 1")
    let b = try db.statement("SELECT 1")
    #expect(a === b)
    #expect(try db.statement("SELECT 2") !== a)
  }

  @Test func bindingTheWrongNumberOfValuesIsRefusedWithTheCounts() throws {
    let db = try Database(path: ":memory:", create: true)
    try db.execute("CREATE TABLE t (a TEXT, b TEXT)")
    let insert = "INSERT INTO t (a, b) VALUES (?1, ?2)"
    for values: [SQLValue] in [[.text("only one")], [.text("a"), .text("b"), .text("three")], []] {
      do {
        try db.run(insert, values)
        Issue.record("\(values.count) values for 2 parameters must fail")
      } catch {
        guard case .sqlite(let e) = error else {
          Issue.record("not an SQLite error: \(error)")
          continue
        }
        #expect(e.message == "\(values.count) values given for 2 parameters")
        #expect(e.sql == insert)
        #expect(!e.description.contains("only one") && !e.description.contains("three"))
      }
    }
    #expect(try db.scalarInt("SELECT count(*) FROM t") == 0)
    // A parameter used twice counts once.
    try db.run("INSERT INTO t (a, b) VALUES (?1, ?1)", [.text("x")])
    #expect(try db.scalarInt("SELECT count(*) FROM t WHERE a = b") == 1)
  }

  @Test func boundTextAndBlobsRoundTripAcrossRebindsAndArenaGrowth() throws {
    let db = try Database(path: ":memory:", create: true)
    try db.execute("CREATE TABLE t (n INTEGER, a TEXT, b BLOB, c TEXT)")
    let insert = "INSERT INTO t (n, a, b, c) VALUES (?, ?, ?, ?)"
    let big = String(repeating: "é", count: 5000)  // 10,000 bytes: more than the first arena
    let cases: [(String, [UInt8], String?)] = [
      ("short", [1, 2, 3], "x"), ("", [], ""), (big, Array(repeating: 0xab, count: 3000), big), ("after", [0], nil),
      ("nul\u{0}inside", [0, 0], "ünïcödé"),
    ]
    for (i, c) in cases.enumerated() {
      try db.run(insert, [.int(Int64(i)), .text(c.0), .blob(c.1), .optional(c.2)])
    }
    var rows = [(String, [UInt8], String?, Bool, Bool)]()
    try db.statement("SELECT a, b, c, a IS NULL, b IS NULL FROM t ORDER BY n").forEachRow { row in
      rows.append((row.text(0), row.blob(1), row.optionalText(2), row.int(3) == 1, row.int(4) == 1))
    }
    #expect(rows.count == cases.count)
    for (r, c) in zip(rows, cases) {
      #expect(r.0 == c.0)
      #expect(r.1 == c.1)
      #expect(r.2 == c.2)
      #expect(!r.3, "an empty text binds '', not NULL")
      #expect(!r.4, "an empty blob binds a zero-length blob, not NULL")
    }
    #expect(try db.scalarInt("SELECT length(a) FROM t WHERE n = 2") == 5000)
    #expect(try db.scalarInt("SELECT typeof(b) = 'blob' AND length(b) = 0 FROM t WHERE n = 1") == 1)
  }
}
