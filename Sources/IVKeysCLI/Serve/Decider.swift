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
  private var queue: [(Verifier.Item, CheckedContinuation<Answer, Never>)] = []
  private var probes: [CheckedContinuation<Result<Void, IVKeysError>, Never>] = []
  private var stopping = false
  private var stopped = false
  private var finished = false
  private var finishError: IVKeysError?
  private var thread = pthread_t()
  /// After a usage flush failed: no new attempt before this (monotonic milliseconds).
  private var flushRetryAt: Int64 = 0
  private let vault: Vault
  private let verifier: Verifier

  init(vault: Vault) throws(IVKeysError) {
    self.vault = vault
    self.verifier = try Verifier(vault: vault, batch: true)
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&wake, nil)
  }

  func start() throws(IVKeysError) {
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
      throw .io("cannot start the decision thread: \(Errno.describe(r))")
    }
  }

  /// Milliseconds until held usage counts should be written: when due, but not before a failed
  /// attempt's retry time.
  private var flushDue: Int64? {
    guard let due = verifier.pendingDue else { return nil }
    return max(due, flushRetryAt - Verifier.monotonicMilliseconds())
  }

  /// Decides one request with whatever else is waiting.
  func decide(_ item: Verifier.Item) async -> Answer {
    await submit(stopped: .failure(.io("the server is stopping"))) { $0.queue.append((item, $1)) }
  }

  /// Whether the vault can be read and an audit entry appended now (`Vault.probeAppend`: written
  /// and rolled back), after the requests already waiting.
  func probe() async -> Result<Void, IVKeysError> {
    await submit(stopped: .failure(.io("the server is stopping"))) { $0.probes.append($1) }
  }

  /// Queues work for the thread (`add`, under the lock) and waits for its answer; once the
  /// thread has stopped, answers `stopped` at once.
  private func submit<T: Sendable>(stopped answer: T, _ add: (Decider, CheckedContinuation<T, Never>) -> Void) async
    -> T
  {
    await withCheckedContinuation { c in
      pthread_mutex_lock(&mutex)
      if stopped {
        pthread_mutex_unlock(&mutex)
        c.resume(returning: answer)
        return
      }
      add(self, c)
      pthread_cond_signal(&wake)
      pthread_mutex_unlock(&mutex)
    }
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

  static func log(_ line: String) {
    let text = "ivkeys: " + Text.redactKeys(line) + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
  }

  private func loop() {
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
        do {
          let decisions = try verifier.decide(group.map(\.0))
          for (pair, d) in zip(group, decisions) { pair.1.resume(returning: .success(d)) }
        } catch {
          for pair in group { pair.1.resume(returning: .failure(error)) }
        }
        vault.checkpointIfLarge()
      }
      for p in waitingProbes {
        do {
          try vault.probeAppend()
          p.resume(returning: .success(()))
        } catch {
          p.resume(returning: .failure(error))
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
        vault.checkpointIfLarge(bytes: 512 << 10)
        return
      }
    }
  }
}
