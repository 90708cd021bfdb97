import Glibc
import IVKeysCore

/// Makes committed groups durable before they are answered, on a thread of its own
/// (`Vault.deferCommitSyncs`): while it waits for the disk, the vault's thread decides the next
/// groups, and one sync then covers every group committed before it. A request is answered only
/// once its decision and audit entry are on disk, as with a commit that waits itself.
///
/// A sync that fails answers its requests 503. On SQLite every later one too: after a failed
/// fdatasync Linux may report the next one clean although the data never reached the disk, so
/// nothing later can be vouched for; the server must be restarted (`/healthz` says 503
/// meanwhile). On PostgreSQL (a lost connection) the next sync connects again.
final class Syncer: WorkerThread, @unchecked Sendable {
  typealias Answer = Decider.Answer
  /// What waits for the next sync: each is called with its failure, or nil once synced.
  private var waiting: [@Sendable (IVKeysError?) -> Void] = []
  /// A failure after which nothing is vouched for (`CommitSyncing.failureIsFinal`).
  private var failed: IVKeysError?
  /// The last sync's failure, if it failed.
  private var lastFailure: IVKeysError?
  private let syncer: any CommitSyncing

  private init(_ syncer: any CommitSyncing) {
    self.syncer = syncer
    super.init(name: "ivkeys-sync", scheduling: .batch)
  }

  /// Starts one for `vault`; nil when the vault's commits wait for the disk themselves.
  /// `failing`: every sync fails (a test's fault).
  static func start(for vault: Vault, failing: Bool = false) throws(IVKeysError) -> Syncer? {
    guard let syncer = try vault.deferCommitSyncs() else { return nil }
    let s = Syncer(failing ? FaultInjection.FailingSync() : syncer)
    try s.startThread()
    return s
  }

  /// The failure that ended syncing, if one did.
  var failure: IVKeysError? {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    return failed
  }

  /// Answers a committed group once it is on disk.
  func answerWhenSynced(_ group: [(Decision, @Sendable (Answer) -> Void)]) {
    enqueue(group.map { decision, answer in { answer($0.map { .failure($0) } ?? .success(decision)) } })
  }

  /// Calls `then` after the next sync, with its failure or nil (a health check: a sync that is
  /// stuck or failing makes the server unhealthy).
  func whenSynced(_ then: @escaping @Sendable (IVKeysError?) -> Void) { enqueue([then]) }

  private func enqueue(_ work: [@Sendable (IVKeysError?) -> Void]) {
    pthread_mutex_lock(&mutex)
    waiting.append(contentsOf: work)
    pthread_cond_signal(&wake)
    pthread_mutex_unlock(&mutex)
  }

  /// Ends syncing for good (the checkpointer's I/O error): nothing written since can be vouched
  /// for, so every later request fails closed.
  func fail(_ error: IVKeysError) {
    pthread_mutex_lock(&mutex)
    let first = failed == nil
    if first { failed = error }
    pthread_mutex_unlock(&mutex)
    if first { Decider.log("cannot checkpoint the vault; failing closed until restarted: \(error.description)") }
  }

  /// Syncs what is committed, answers what waits and ends the thread; waits for it. Throws when
  /// syncing failed for good, or the last sync (the end's) failed.
  func stop() throws(IVKeysError) {
    stopThread()
    if let e = failed ?? lastFailure { throw e }
  }

  override func run() {
    pthread_mutex_lock(&mutex)
    while true {
      while waiting.isEmpty && !stopping { pthread_cond_wait(&wake, &mutex) }
      let group = waiting
      waiting.removeAll(keepingCapacity: true)
      let last = stopping
      let final = failed
      pthread_mutex_unlock(&mutex)
      // At the end too, with nothing waiting: commits that answer no one (usage counts) are
      // made durable before the server exits.
      let failure = final ?? sync()
      pthread_mutex_lock(&mutex)
      // Recorded before anyone is answered: a health check queued meanwhile sees it.
      if failed == nil, let failure, syncer.failureIsFinal { failed = failure }
      lastFailure = failure
      pthread_mutex_unlock(&mutex)
      for answer in group { answer(failure) }
      pthread_mutex_lock(&mutex)
      if last && waiting.isEmpty { break }
    }
    pthread_mutex_unlock(&mutex)
  }

  /// One sync; its failure, said on standard error.
  private func sync() -> IVKeysError? {
    do {
      try syncer.sync()
      return nil
    } catch {
      if syncer.failureIsFinal {
        Decider.log("cannot sync the vault; failing closed until restarted: \(error.description)")
      } else {
        Decider.log("cannot confirm that the decisions committed are on disk; answering 503: \(error.description)")
      }
      return error
    }
  }
}
