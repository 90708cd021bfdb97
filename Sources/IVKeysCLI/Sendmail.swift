import Glibc
import IVKeysCore

/// Hands a message to a mail command (`sendmail -t -i` by default): runs `/bin/sh -c CMD` with the
/// message on its stdin and its stdout sent to our stderr, so ivkeys' stdout stays results only.
enum Sendmail {
  /// Runs `command` with `message` on stdin; throws unless it reads it all and exits 0.
  static func deliver(_ message: String, command: String, timeout: Int64 = timeout) throws(IVKeysError) {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw .io("cannot create a pipe: \(Errno.current)") }
    let (readEnd, writeEnd) = (fds[0], fds[1])
    // Neither end may leak into the command: it would never see end of input.
    _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
    _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    // dup2 clears close-on-exec on the copies; the originals close at exec.
    posix_spawn_file_actions_adddup2(&actions, readEnd, 0)
    posix_spawn_file_actions_adddup2(&actions, 2, 1)
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("sh"), strdup("-c"), strdup(command), nil]
    defer { for a in argv { free(a) } }
    let envp = Spawn.environment()
    var pid: pid_t = 0
    let rc = Spawn.withDefaultSignals { attributes in posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp) }
    close(readEnd)
    guard rc == 0 else {
      close(writeEnd)
      throw .io("cannot run /bin/sh: \(Errno.describe(rc))")
    }
    // Write it all; a command that exits without reading gives EPIPE (SIGPIPE is ignored).
    var complete = true
    let bytes = Array(message.utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        complete = false
        break
      }
      offset += n
    }
    close(writeEnd)
    let status = try wait(pid, command: command, timeout: timeout)
    let exited = status & 0x7f == 0
    let code = (status >> 8) & 0xff
    if !exited {
      throw .io("the mail command '\(command)' was killed by signal \(status & 0x7f)")
    }
    if code != 0 {
      let why = code == 127 ? " (command not found)" : code == 126 ? " (not executable)" : ""
      throw .io("the mail command '\(command)' exited with status \(code)\(why)")
    }
    if !complete { throw .io("the mail command '\(command)' exited without reading the whole message") }
  }

  /// How long the mail command may take, in seconds. Well under the 15 minutes a notice's claim
  /// holds (`Vault.notificationClaimSeconds`): a hung command must fail (and give its claim
  /// back) before another `notify` may take the notice over and send it a second time.
  static let timeout: Int64 = 5 * 60

  /// Waits for `pid` to exit, stopping it (SIGTERM, then SIGKILL) after `timeout` seconds.
  static func wait(_ pid: pid_t, command: String, timeout: Int64) throws(IVKeysError) -> Int32 {
    var status: Int32 = 0
    var start = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    var pause: UInt32 = 1000
    var signalled: Int32 = 0
    while true {
      let r = waitpid(pid, &status, WNOHANG)
      if r == pid { break }
      if r < 0 {
        if errno == EINTR { continue }
        throw .io("cannot wait for the mail command: \(Errno.current)")
      }
      var now = timespec()
      clock_gettime(CLOCK_MONOTONIC, &now)
      let elapsed = Int64(now.tv_sec - start.tv_sec)
      if elapsed >= timeout && signalled == 0 {
        signalled = SIGTERM
        kill(pid, SIGTERM)
      } else if elapsed >= timeout + 5 && signalled == SIGTERM {
        signalled = SIGKILL
        kill(pid, SIGKILL)
      }
      usleep(pause)
      pause = min(pause * 2, 50_000)
    }
    if signalled != 0 {
      throw .io(
        "the mail command '\(command)' did not finish within \(Time.describe(seconds: timeout)) and was stopped")
    }
    return status
  }

  /// This machine's host name, for the default sender and Message-ID.
  static func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
