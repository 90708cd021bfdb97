import Glibc
import IVKeysCore

/// Runs a vault's checkpointer (`Vault.openCheckpointer`: on SQLite, a connection of its own) on
/// a thread of its own, every 100 ms after commits, so the vault's thread does not pause to copy
/// the WAL into the vault; that thread only starts a long WAL over (`restartIfDue`), copying the
/// few frames the last checkpoint left.
final class Checkpointer: WorkerThread, @unchecked Sendable {
  static let intervalNanoseconds = 100_000_000
  private var committed = false
  /// Set when the WAL is long enough to restart; the vault's thread does it (`restartIfDue`).
  private var restartDue = false
  /// Checkpoints to let pass before asking for a restart again, after one that a reader kept
  /// from happening (each attempt syncs twice on the vault's thread).
  private var restartBackoff = 0
  private let checkpointer: any Checkpointing
  /// Told of an I/O error, after which this thread copies nothing more.
  private let onFailure: (IVKeysError) -> Void
  private var failed = false

  private init(_ checkpointer: any Checkpointing, onFailure: @escaping (IVKeysError) -> Void) {
    self.checkpointer = checkpointer
    self.onFailure = onFailure
    super.init(name: "ivkeys-ckpt", scheduling: .background)
  }

  /// Starts one for `vault`; nil when its engine needs none. `onFailure` is called with the
  /// first I/O error, on this thread or the vault's (`restartIfDue`); it may be called twice.
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
    guard due else { return }
    let outcome = checkpointer.restart()
    pthread_mutex_lock(&mutex)
    switch outcome {
    case .success(let restarted): restartBackoff = restarted ? 0 : 10
    case .failure: failed = true
    }
    pthread_mutex_unlock(&mutex)
    if case .failure(let error) = outcome { onFailure(error) }
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
      case .success(let long):
        if restartBackoff > 0 {
          restartBackoff -= 1
        } else {
          restartDue = long
        }
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
