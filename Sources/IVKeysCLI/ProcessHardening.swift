import CLinux

/// What every `ivkeys` process does to itself before it reads anything.
enum ProcessHardening {
  /// Core dumps off (RLIMIT_CORE 0, not dumpable): see `ivkeys_disable_core_dumps` in
  /// `Sources/CLinux/shim.h`. Neither call can fail for an unprivileged process lowering its own
  /// limit, so the result is not checked: there is nothing better to do than go on.
  static func disableCoreDumps() {
    _ = ivkeys_disable_core_dumps()
  }
}
