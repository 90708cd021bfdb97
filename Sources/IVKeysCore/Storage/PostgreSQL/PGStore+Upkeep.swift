/// A long-running writer's commits on PostgreSQL (`serve`): the writer's connection commits with
/// `synchronous_commit = off`, and a second connection confirms many commits at once.
extension PGStore {
  /// From now on this connection's commits return before the server has flushed them; the
  /// returned syncer's `sync` makes every one of them as durable as the server's own
  /// `synchronous_commit` setting makes a commit (a standby included, when it names one).
  func deferCommitSyncs() throws(IVKeysError) -> (any CommitSyncing)? {
    guard !isReadOnly else { return nil }
    let syncer = PGCommitSync(url: url)
    try syncer.connect()
    try pg { () throws(PGConnection.Failure) in try db.execute("SET synchronous_commit = off") }
    return syncer
  }

  func openCheckpointer() throws(IVKeysError) -> (any Checkpointing)? { nil }
}

/// Confirms commits with one synchronous commit of its own: `txid_current()` gives its
/// transaction an id, so COMMIT writes a record and waits for the WAL to be flushed up to it,
/// and with it every commit record written before, whatever their own setting (the WAL is
/// flushed in order; so is a synchronous standby's confirmation).
final class PGCommitSync: CommitSyncing {
  private let url: String
  private var connection: PGConnection?

  init(url: String) { self.url = url }

  var failureIsFinal: Bool { false }

  func connect() throws(IVKeysError) {
    if connection == nil {
      connection = try PGConnection(url, options: PGStore.session + " -c application_name=ivkeys-sync")
    }
  }

  func sync() throws(IVKeysError) {
    try connect()
    do {
      _ = try connection?.query("SELECT txid_current()")
    } catch {
      // Reconnected by the next sync.
      connection = nil
      throw PGStore.error(error)
    }
  }
}
