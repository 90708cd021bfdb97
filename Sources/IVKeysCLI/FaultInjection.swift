import Glibc
import IVKeysCore

/// Deterministic crash points for the end-to-end fault tests, compiled into debug builds only:
/// with `IVKEYS_TEST_KILL_AT=POINT` in the environment the process sends itself SIGKILL when it
/// reaches POINT, so a test can kill a bulk create at a known moment instead of guessing one
/// with a timer. Release builds (what `make install` ships) contain none of this.
enum FaultInjection {
  /// The points `create` knows, in the order it reaches them: after N rows were inserted, before
  /// COMMIT (`rows:N`, N a multiple of 1000); after COMMIT, before anything is printed
  /// (`committed`); after the keys were printed and standard output flushed (`printed`).
  /// `secret rotate` knows `secret:file-written` (the new secret file is in place) and
  /// `secret:resealed` (every row sealed anew), both before COMMIT, and `secret:committed`.
  static func killIfAsked(at point: String, environment: [String: String]) {
    #if DEBUG
      if environment["IVKEYS_TEST_KILL_AT"] == point { kill(getpid(), SIGKILL) }
    #endif
  }

  /// Whether any crash point is set, so that `create` reports its progress to `killIfAsked`.
  static func isArmed(_ environment: [String: String]) -> Bool {
    #if DEBUG
      return environment["IVKEYS_TEST_KILL_AT"] != nil
    #else
      return false
    #endif
  }

  /// With `IVKEYS_TEST_FAIL_SYNC=1`, `serve`'s syncs of committed groups fail (as fdatasync does
  /// with EIO), so a test can see it fail closed. Debug builds only.
  static func failsSyncs(_ environment: [String: String]) -> Bool {
    #if DEBUG
      return environment["IVKEYS_TEST_FAIL_SYNC"] == "1"
    #else
      return false
    #endif
  }

  /// A sync that always fails, for `failsSyncs`.
  final class FailingSync: CommitSyncing {
    func sync() throws(IVKeysError) { throw .io("cannot sync the vault's WAL: Input/output error (injected)") }
    var failureIsFinal: Bool { true }
  }
}
