import Glibc

/// A one-shot result the main thread waits for while the server runs on other threads.
final class Completion: @unchecked Sendable {
  private var mutex = pthread_mutex_t()
  private var cond = pthread_cond_t()
  private var status: Int32?

  init() {
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&cond, nil)
  }

  func finish(_ s: Int32) {
    pthread_mutex_lock(&mutex)
    status = s
    pthread_cond_signal(&cond)
    pthread_mutex_unlock(&mutex)
  }

  var isFinished: Bool {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    return status != nil
  }

  func wait() -> Int32 {
    pthread_mutex_lock(&mutex)
    while status == nil { pthread_cond_wait(&cond, &mutex) }
    let s = status ?? 1
    pthread_mutex_unlock(&mutex)
    return s
  }
}
