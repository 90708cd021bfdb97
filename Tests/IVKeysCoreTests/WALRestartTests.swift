import Foundation
import Testing

@testable import IVKeysCore

/// A long-running writer's WAL (`serve`): a second connection copies it into the vault, and the
/// writer's own connection starts it over once it is long, between two of its transactions, so
/// that the writer never waits on a lock for it.
@Suite("WAL restart")
struct WALRestartTests {
  @Test func theWriterStartsALongWALOverBetweenItsTransactions() throws {
    let (v, dir) = try makeTestVault()
    defer { try? FileManager.default.removeItem(at: dir) }
    let key = try v.createKeys(KeyDraft(company: "acme", name: "n", scopes: ["jobs:read"])).keys[0]
    _ = try v.deferCommitSyncs()
    let checkpointer = try #require(try v.openCheckpointer())
    let verifier = try Verifier(vault: v, batch: true)
    let request = VerifyRequest(
      presented: key.string, company: "acme", scope: "jobs:read", ip: nil, endpoint: nil, env: .live)

    func walFrames() -> Int {
      var st = stat()
      guard stat(dir.path + "/v.db-wal", &st) == 0 else { return 0 }
      return (Int(st.st_size) - 32) / (4096 + 24)
    }
    // Decisions one a transaction until the WAL is long; the checkpointer copies it all.
    while walFrames() <= 4096 {
      for _ in 0..<200 { #expect(try verifier.decide([request])[0].code == .ok) }
    }
    #expect(try checkpointer.checkpoint().get(), "a WAL past 4096 frames is due to restart")
    // Written after that copy, as the writer goes on committing in serve: SQLite starts the WAL
    // over by itself only once every frame is copied, which these few are not.
    for _ in 0..<5 { #expect(try verifier.decide([request])[0].code == .ok) }

    // A reader in the way: the restart gives up at once rather than hold the writer.
    let reader = try reopen(dir)
    let started = Date()
    try reader.store.read { () throws(IVKeysError) in
      _ = try reader.store.meta("secret_version")
      #expect(try checkpointer.restart().get() == false, "a reader was in the way")
    }
    #expect(Date().timeIntervalSince(started) < 5, "it waited for the reader (the busy timeout is 10 s)")

    #expect(try checkpointer.restart().get(), "nothing was in the way")
    #expect(try verifier.decide([request])[0].code == .ok)
    // The WAL started over: the next checkpoint finds it short.
    #expect(try checkpointer.checkpoint().get() == false)
    try verifier.finish()
    #expect(try v.verifyAudit().intact)
  }
}
