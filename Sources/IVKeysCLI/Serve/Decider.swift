import Glibc
import IVKeysCore

/// The one thread that touches the vault while `serve` runs. Requests from any number of
/// connections queue here; each turn takes every request waiting (up to 5,000) and decides them
/// in one transaction (`Verifier.decide`), so concurrent requests share a commit, as a
/// `verify --batch` group does. A request is answered only after its group committed; a group
/// that fails answers each of its requests with the error (503: fail closed).
final class Decider: @unchecked Sendable {
  typealias Answer = Result<Decision, IVKeysError>
  private var mutex = pthread_mutex_t()
  private var wake = pthread_cond_t()
  private var queue: [(Verifier.Item, @Sendable (Answer) -> Void)] = []
  private var probes: [@Sendable (Result<Void, IVKeysError>) -> Void] = []
  private var stopping = false
  private var stopped = false
  private var finished = false
  private var finishError: IVKeysError?
  private var thread = pthread_t()
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
    self.verifier = try Verifier(vault: vault, batch: true)
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&wake, nil)
  }

  func start(failSyncs: Bool = false) throws(IVKeysError) {
    syncer = try Syncer.start(for: vault, failing: failSyncs)
    do {
      checkpointer = try Checkpointer.start(for: vault) { [syncer] in syncer?.fail($0) }
    } catch {
      try? syncer?.stop()
      throw error
    }
    let box = Unmanaged.passRetained(self).toOpaque()
    let r = pthread_create(
      &thread, nil,
      { raw in
        let decider = Unmanaged<Decider>.fromOpaque(raw!).takeRetainedValue()
        decider.loop()
        return nil
      }, box)
    guard r == 0 else {
      Unmanaged<Decider>.fromOpaque(box).release()
      try? syncer?.stop()
      checkpointer?.stop()
      throw .io("cannot start the decision thread: \(Errno.describe(r))")
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
    pthread_mutex_lock(&mutex)
    stopping = true
    pthread_cond_signal(&wake)
    pthread_mutex_unlock(&mutex)
    pthread_join(thread, nil)
    if let finishError { throw finishError }
  }

  /// How a thread of `serve`'s own is scheduled beside the event loop.
  enum Scheduling {
    /// SCHED_BATCH: the thread does not preempt the one running when it wakes. The vault's and
    /// the sync thread wake for every group; as ordinary threads they preempted the event loop
    /// about 2,000 times a second under `make bench`'s load (with all its connections waiting),
    /// as batch threads about 500, and decisions per second rose by 5 to 10 % (A/B runs).
    case batch
    /// Nice 10: background work.
    case background
  }

  /// Names the calling thread as `top -H` and `ps -L` show it (at most 15 bytes) and sets how it
  /// is scheduled (on Linux, a thread's own; neither needs a privilege, and a failure changes
  /// nothing but speed).
  static func setUpThread(_ name: String, _ scheduling: Scheduling) {
    switch scheduling {
    case .batch:
      var param = sched_param()
      let schedBatch: Int32 = 3  // SCHED_BATCH, which Glibc's module does not export
      _ = sched_setscheduler(0, schedBatch, &param)
    case .background:
      _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
    }
    let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = name.withCString { write(fd, $0, strlen($0)) }
    close(fd)
  }

  static func log(_ line: String) {
    let text = "ivkeys: " + Text.redactKeys(line) + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
  }

  private func loop() {
    Decider.setUpThread("ivkeys-decide", .batch)
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
          try verifier.finish()
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
