import Glibc
import IVKeysCore

/// The one thread that touches the vault while `serve` runs. Requests from any number of
/// connections queue here; each turn takes every request waiting (up to 5,000) and decides them
/// in one transaction (`Verifier.decide`), so concurrent requests share a commit, as a
/// `verify --batch` group does. A request is answered only after its group committed; a group
/// that fails answers each of its requests with the error (503: fail closed).
final class Decider: WorkerThread, @unchecked Sendable {
  typealias Answer = Result<Decision, IVKeysError>
  private var queue: [(Verifier.Item, @Sendable (Answer) -> Void)] = []
  private var probes: [@Sendable (Result<Void, IVKeysError>) -> Void] = []
  private var stopped = false
  private var finished = false
  private var finishError: IVKeysError?
  /// After a usage flush failed: no new attempt before this (monotonic milliseconds).
  private var flushRetryAt: Int64 = 0
  private let vault: Vault
  private let verifier: Verifier
  /// Copies the WAL into the vault beside this thread (SQLite); nil on PostgreSQL.
  private var checkpointer: Checkpointer?
  /// Makes commits durable beside this thread (SQLite's fdatasync, PostgreSQL's confirming
  /// connection).
  private var syncer: Syncer?

  init(vault: Vault) throws(IVKeysError) {
    self.vault = vault
    self.verifier = try Verifier(vault: vault, batch: true, usage: .serve)
    super.init(name: "ivkeys-decide", scheduling: .batch)
  }

  func start(failSyncs: Bool = false) throws(IVKeysError) {
    syncer = try Syncer.start(for: vault, failing: failSyncs)
    do {
      checkpointer = try Checkpointer.start(for: vault) { [syncer] in syncer?.fail($0) }
    } catch {
      try? syncer?.stop()
      throw error
    }
    do {
      try startThread()
    } catch {
      try? syncer?.stop()
      checkpointer?.stop()
      throw error
    }
  }

  /// Milliseconds until held usage counts should be written: when due, but not before a failed
  /// attempt's retry time.
  private var flushDue: Int64? {
    guard let due = verifier.pendingDue else { return nil }
    return max(due, flushRetryAt - Verifier.monotonicMilliseconds())
  }

  /// Decides one request with whatever else is waiting; `answer` is called on the vault's
  /// thread once its group committed (or failed).
  func decide(_ item: Verifier.Item, then answer: @escaping @Sendable (Answer) -> Void) {
    submit(answer, stopped: .failure(.io("the server is stopping"))) { $0.queue.append((item, answer)) }
  }

  /// Whether the vault can be read and an audit entry appended now (`Vault.probeAppend`: written
  /// and rolled back), after the requests already waiting.
  func probe(then answer: @escaping @Sendable (Result<Void, IVKeysError>) -> Void) {
    submit(answer, stopped: .failure(.io("the server is stopping"))) { $0.probes.append(answer) }
  }

  /// Queues work for the thread (`add`, under the lock); once the thread has stopped, answers
  /// `stopped` at once.
  private func submit<T>(_ answer: (T) -> Void, stopped: T, _ add: (Decider) -> Void) {
    pthread_mutex_lock(&mutex)
    if self.stopped {
      pthread_mutex_unlock(&mutex)
      answer(stopped)
      return
    }
    add(self)
    pthread_cond_signal(&wake)
    pthread_mutex_unlock(&mutex)
  }

  /// Answers what is queued, writes held usage counts and ends the thread; waits for it.
  func stop() throws(IVKeysError) {
    stopThread()
    if let finishError { throw finishError }
  }

  static func log(_ line: String) {
    let text = "ivkeys: " + Text.redactKeys(line) + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
  }

  override func run() {
    while true {
      pthread_mutex_lock(&mutex)
      while queue.isEmpty && probes.isEmpty && !stopping {
        guard let due = flushDue else {
          pthread_cond_wait(&wake, &mutex)
          continue
        }
        if due <= 0 { break }
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let ns = Int(deadline.tv_nsec) + Int(due % 1000) * 1_000_000
        deadline.tv_sec += Int(due / 1000) + ns / 1_000_000_000
        deadline.tv_nsec = ns % 1_000_000_000
        if pthread_cond_timedwait(&wake, &mutex, &deadline) == ETIMEDOUT { break }
      }
      let take = min(queue.count, 5000)
      let group = Array(queue.prefix(take))
      queue.removeFirst(take)
      let waitingProbes = probes
      probes.removeAll()
      let ending = stopping && queue.isEmpty
      if ending { stopped = true }
      pthread_mutex_unlock(&mutex)

      if !group.isEmpty {
        decideGroup(group)
      }
      for p in waitingProbes {
        if let failed = syncer?.failure {
          p(.failure(failed))
          continue
        }
        do {
          try vault.probeAppend()
          // Healthy only once a sync succeeds too: a stuck or failing one is not.
          if let syncer {
            syncer.whenSynced { p($0.map { .failure($0) } ?? .success(())) }
          } else {
            p(.success(()))
          }
        } catch {
          p(.failure(error))
        }
      }
      if let due = flushDue, due <= 0 || ending {
        do {
          try verifier.finish(all: ending)
          finishError = nil
        } catch {
          // Kept for the exit status if the last attempt fails too; retried a second later,
          // not in a loop that would take a core.
          finishError = error
          flushRetryAt = Verifier.monotonicMilliseconds() + 1000
          if !ending { Self.log("cannot write usage counts (retrying): \(error.description)") }
        }
      }
      if ending {
        end()
        return
      }
    }
  }

  /// Decides a group in one transaction and answers it: at once, or once it is on disk when a
  /// syncer makes commits durable.
  private func decideGroup(_ group: [(Verifier.Item, @Sendable (Answer) -> Void)]) {
    if let failed = syncer?.failure {
      for pair in group { pair.1(.failure(failed)) }
      return
    }
    do {
      let decisions = try verifier.decide(group.map(\.0))
      if let syncer {
        syncer.answerWhenSynced(zip(decisions, group.map(\.1)).map { ($0, $1) })
      } else {
        for (pair, d) in zip(group, decisions) { pair.1(.success(d)) }
      }
    } catch {
      for pair in group { pair.1(.failure(error)) }
    }
    // The checkpointer copies the WAL; without one (PostgreSQL) there is nothing to copy. Not
    // even the size is looked at here: a stat() a group was 2.5 % of this thread's time.
    checkpointer?.noteCommit()
    checkpointer?.restartIfDue()
  }

  /// The thread's last work: what was committed is made durable and answered, and the WAL is
  /// copied into the vault and truncated, as a command does when it ends.
  private func end() {
    do {
      try syncer?.stop()
    } catch {
      finishError = error
    }
    if let checkpointer {
      checkpointer.stop()
    } else {
      vault.checkpointIfLarge(bytes: 512 << 10)
    }
  }
}
