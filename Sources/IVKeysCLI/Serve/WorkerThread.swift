import Glibc
import IVKeysCore

/// A thread of `serve`'s own (the vault's, the sync and the checkpoint thread): a lock, a
/// condition to wake it, a flag to stop it, and how it is named and scheduled. Subclasses
/// override `run`, which holds no lock when called.
class WorkerThread: @unchecked Sendable {
  /// How the thread is scheduled beside the event loop.
  enum Scheduling {
    /// SCHED_BATCH: the thread does not preempt the one running when it wakes. The vault's and
    /// the sync thread wake for every group; as ordinary threads they preempted the event loop
    /// about 2,000 times a second under `make bench`'s load (with all its connections waiting),
    /// as batch threads about 500, and decisions per second rose by 5 to 10 % (A/B runs).
    case batch
    /// Nice 10: background work.
    case background
  }

  var mutex = pthread_mutex_t()
  var wake = pthread_cond_t()
  /// Set under `mutex` by `stopThread`.
  var stopping = false
  private var thread = pthread_t()
  private let name: String
  private let scheduling: Scheduling

  /// `name` as `top -H` and `ps -L` show the thread (at most 15 bytes).
  init(name: String, scheduling: Scheduling) {
    self.name = name
    self.scheduling = scheduling
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&wake, nil)
  }

  func run() {}

  /// Starts the thread, which holds this object until `run` returns.
  func startThread() throws(IVKeysError) {
    let box = Unmanaged.passRetained(self).toOpaque()
    let r = pthread_create(
      &thread, nil,
      { raw in
        let worker = Unmanaged<WorkerThread>.fromOpaque(raw!).takeRetainedValue()
        worker.setUp()
        worker.run()
        return nil
      }, box)
    guard r == 0 else {
      Unmanaged<WorkerThread>.fromOpaque(box).release()
      throw .io("cannot start the \(name) thread: \(Errno.describe(r))")
    }
  }

  /// Sets `stopping`, wakes the thread and waits for it to end.
  func stopThread() {
    pthread_mutex_lock(&mutex)
    stopping = true
    pthread_cond_signal(&wake)
    pthread_mutex_unlock(&mutex)
    pthread_join(thread, nil)
  }

  /// Names the calling thread and sets how it is scheduled (on Linux, a thread's own; neither
  /// needs a privilege, and a failure changes nothing but speed).
  private func setUp() {
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
}
