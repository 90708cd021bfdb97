import Glibc

/// What every program ivkeys starts (the mail command, git) gets the same way.
enum Spawn {
  /// Runs `body` with spawn attributes that give the child the default SIGPIPE back: ivkeys
  /// ignores it, and an ignored signal stays ignored across exec.
  static func withDefaultSignals<T>(_ body: (inout posix_spawnattr_t) -> T) -> T {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
    return body(&attributes)
  }

  /// ivkeys' environment less the variables named (`IVKEYS_KEY` always: a key has no business
  /// in another program's environment), NULL-terminated for `posix_spawn`. The entries are
  /// `environ`'s own, valid while the environment is not changed.
  static func environment(dropping names: [String] = []) -> [UnsafeMutablePointer<CChar>?] {
    let prefixes = (["IVKEYS_KEY"] + names).map { Array(($0 + "=").utf8CString.dropLast()) }
    var envp = [UnsafeMutablePointer<CChar>?]()
    var p = environ
    while let entry = p.pointee {
      if !prefixes.contains(where: { strncmp(entry, $0, $0.count) == 0 }) { envp.append(entry) }
      p += 1
    }
    envp.append(nil)
    return envp
  }
}
