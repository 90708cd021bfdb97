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
  private let vault: Vault
  private let verifier: Verifier

  init(vault: Vault) throws(IVKeysError) {
    self.vault = vault
    self.verifier = try Verifier(vault: vault, batch: true)
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&wake, nil)
  }

  func start() {
    let box = Unmanaged.passRetained(self).toOpaque()
    pthread_create(
      &thread, nil,
      { raw in
        let decider = Unmanaged<Decider>.fromOpaque(raw!).takeRetainedValue()
        decider.loop()
        return nil
      }, box)
  }

  /// Decides one request with whatever else is waiting.
  func decide(_ item: Verifier.Item) async -> Answer {
    await withCheckedContinuation { c in
      pthread_mutex_lock(&mutex)
      if stopped {
        pthread_mutex_unlock(&mutex)
        c.resume(returning: .failure(.io("the server is stopping")))
        return
      }
      queue.append((item, c))
      pthread_cond_signal(&wake)
      pthread_mutex_unlock(&mutex)
    }
  }

  /// Whether the vault can be read and an audit entry appended now (`Vault.probeAppend`: written
  /// and rolled back), after the requests already waiting.
  func probe() async -> Result<Void, IVKeysError> {
    await withCheckedContinuation { c in
      pthread_mutex_lock(&mutex)
      if stopped {
        pthread_mutex_unlock(&mutex)
        c.resume(returning: .failure(.io("the server is stopping")))
        return
      }
      probes.append(c)
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

  private func loop() {
    while true {
      pthread_mutex_lock(&mutex)
      while queue.isEmpty && probes.isEmpty && !stopping {
        guard let due = verifier.pendingDue else {
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
      if let due = verifier.pendingDue, due <= 0 || ending {
        do { try verifier.finish() } catch { finishError = error }
      }
      if ending {
        vault.checkpointIfLarge(bytes: 512 << 10)
        return
      }
    }
  }
}
