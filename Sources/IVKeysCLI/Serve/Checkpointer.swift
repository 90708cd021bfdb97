import Glibc
import IVKeysCore

/// Runs a vault's checkpointer (`Vault.openCheckpointer`: on SQLite, a connection of its own) on
/// a thread of its own, every 100 ms after commits, so the vault's thread does not pause to copy
/// the WAL into the vault.
final class Checkpointer: WorkerThread, @unchecked Sendable {
  static let intervalNanoseconds = 100_000_000
  private var committed = false
  /// Set when the WAL is long enough to restart; the vault's thread does it (`restartIfDue`).
  private var restartDue = false
  private let checkpointer: any Checkpointing
  /// Told of an I/O error, after which this thread copies nothing more.
  private let onFailure: (IVKeysError) -> Void
  private var failed = false

  private init(_ checkpointer: any Checkpointing, onFailure: @escaping (IVKeysError) -> Void) {
    self.checkpointer = checkpointer
    self.onFailure = onFailure
    super.init(name: "ivkeys-ckpt", scheduling: .background)
  }

  /// Starts one for `vault`; nil when its engine needs none. `onFailure` is called, on this
  /// thread, with the first I/O error.
  static func start(for vault: Vault, onFailure: @escaping (IVKeysError) -> Void) throws(IVKeysError)
    -> Checkpointer?
  {
    guard let checkpointer = try vault.openCheckpointer() else { return nil }
    let c = Checkpointer(checkpointer, onFailure: onFailure)
    try c.startThread()
    return c
  }

  /// A transaction committed: the next turn checkpoints.
  func noteCommit() {
    pthread_mutex_lock(&mutex)
    committed = true
    pthread_mutex_unlock(&mutex)
  }

  /// On the vault's thread, between groups: restarts the WAL when the last checkpoint found it
  /// long (`Checkpointing.restart`).
  func restartIfDue() {
    pthread_mutex_lock(&mutex)
    let due = restartDue && !failed
    restartDue = false
    pthread_mutex_unlock(&mutex)
    guard due, let error = checkpointer.restart() else { return }
    pthread_mutex_lock(&mutex)
    failed = true
    pthread_mutex_unlock(&mutex)
    onFailure(error)
  }

  /// Ends the thread and waits for it; then checkpoints the whole WAL and truncates it, as a
  /// command does when it ends.
  func stop() {
    stopThread()
    // After an I/O error nothing more is copied: the WAL keeps what the vault file may not.
    if !failed { checkpointer.finish(walBytes: 512 << 10) }
  }

  override func run() {
    pthread_mutex_lock(&mutex)
    while !stopping {
      var deadline = timespec()
      clock_gettime(CLOCK_REALTIME, &deadline)
      let ns = Int(deadline.tv_nsec) + Self.intervalNanoseconds
      deadline.tv_sec += ns / 1_000_000_000
      deadline.tv_nsec = ns % 1_000_000_000
      _ = pthread_cond_timedwait(&wake, &mutex, &deadline)
      guard committed, !stopping, !failed else { continue }
      committed = false
      pthread_mutex_unlock(&mutex)
      let outcome = checkpointer.checkpoint()
      pthread_mutex_lock(&mutex)
      switch outcome {
      case .success(let long): restartDue = long
      case .failure(let error):
        failed = true
        pthread_mutex_unlock(&mutex)
        onFailure(error)
        pthread_mutex_lock(&mutex)
      }
    }
    pthread_mutex_unlock(&mutex)
  }
}
