import Foundation

@testable import IVKeysCore

/// A fresh vault in a temporary directory, for tests that drive the library with a clock they
/// control (`vault.now`). Remove `dir` when done.
func makeTestVault(server: PostgresServer? = nil) throws -> (Vault, URL) {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ivk-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  let actor = Actor(osUser: "tester")
  // On a test server, its `postgres` database.
  let path = server.map { "postgresql:///postgres?host=\($0.dir.path)&user=\($0.user)" } ?? dir.path + "/v.db"
  _ = try Vault.initialize(path: path, secretPath: dir.path + "/secret", actor: actor)
  return (try Vault.open(path: path, secretPath: dir.path + "/secret", actor: actor), dir)
}

/// A second connection to the same vault, as another process would have.
func reopen(_ dir: URL) throws -> Vault {
  try Vault.open(path: dir.path + "/v.db", secretPath: dir.path + "/secret", actor: Actor(osUser: "other"))
}

extension Vault {
  /// The SQLite connection under the vault, for tests that look at (or damage) rows directly.
  var testDB: Database {
    get throws {
      guard let store = store as? SQLiteStore else { throw IVKeysError.vault("not an SQLite vault") }
      return store.db
    }
  }

  /// Seals a key's row again after a test changed it on purpose (see `Sandbox.reseal`).
  func resealForTest(_ id: String) throws {
    guard let store = store as? SQLiteStore else { return }
    try store.write { () throws(IVKeysError) in try store.resealKey(id) }
  }
}
