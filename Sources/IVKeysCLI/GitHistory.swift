import Glibc
import IVKeysCore

/// `ivkeys scan --git [RANGE]`: runs `git log -p` in the current directory and hands its output
/// to `LeakScanner.scanHistory`, so that each key added by a commit is found with that commit.
///
/// The output is fixed whatever the user's git configuration: no pager, colour, external diff
/// or text conversion; `a/` and `b/` prefixes; binary files as text (`--text`, a key inside one
/// is found as in a tree); no context lines (only added lines matter); root commits diffed
/// (`--root`, whatever `log.showRoot` says); merges as dense combined diffs (`--cc`), so a key
/// first written while resolving a merge is found there. Needs git 2.24 (`--end-of-options`).
enum GitHistory {
  /// What running git gave: its exit status (or the signal) and what it wrote to stderr.
  struct Outcome {
    var status: Int32
    var stderr: String
    var exited: Bool { status & 0x7f == 0 }
    var code: Int32 { (status >> 8) & 0xff }
  }

  /// The arguments after `git`: every commit reachable from any ref without a range, or the
  /// range given (`main..feature`, `v1.2.0..`, a single commit and its ancestors).
  static func arguments(range: String?) -> [String] {
    var args = [
      "--no-pager", "-c", "core.quotePath=true", "-c", "log.showSignature=false", "log", "-p",
      "--format=commit %H", "--no-color", "--no-ext-diff", "--no-textconv", "--text", "--unified=0",
      "--src-prefix=a/", "--dst-prefix=b/", "--no-relative", "--root", "--cc",
    ]
    if let range {
      args += ["--end-of-options", range]
    } else {
      args.append("--all")
    }
    args.append("--")
    return args
  }

  /// Runs git with `arguments(range:)`, its stdout read by `read` (given the pipe's descriptor)
  /// while it runs; returns how git ended. Throws when git cannot be started.
  static func run(range: String?, _ read: (Int32) -> Void) throws(IVKeysError) -> Outcome {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw .io("cannot create a pipe: \(Errno.current)") }
    let (readEnd, writeEnd) = (fds[0], fds[1])
    _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
    _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
    // git's stderr goes to an unlinked file, read once it exits: a pipe could fill and stall it.
    guard let errors = tmpfile() else { throw .io("cannot create a temporary file: \(Errno.current)") }
    defer { fclose(errors) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
    posix_spawn_file_actions_adddup2(&actions, fileno(errors), 2)
    let argv: [UnsafeMutablePointer<CChar>?] = (["git"] + arguments(range: range)).map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    // No pager, whatever the environment says.
    let envp = Spawn.environment(dropping: ["GIT_PAGER"])
    var pid: pid_t = 0
    let rc = Spawn.withDefaultSignals { attributes in posix_spawnp(&pid, "git", &actions, &attributes, argv, envp) }
    close(writeEnd)
    guard rc == 0 else {
      close(readEnd)
      throw .io(
        "cannot run git: \(Errno.describe(rc))",
        hint: rc == ENOENT ? "install git, or scan a checkout with 'ivkeys scan PATH'" : nil)
    }
    read(readEnd)
    // Whatever was not read (the reader stopped on an error) must not stall git.
    close(readEnd)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    rewind(errors)
    var text = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 4096)
    while text.count < 65536 {
      let n = fread(&chunk, 1, chunk.count, errors)
      if n <= 0 { break }
      text += chunk[..<n]
    }
    return Outcome(status: status, stderr: String(decoding: text, as: UTF8.self))
  }

  /// The error for git's failure: exit 2 when git refused what it was asked (not a repository,
  /// an unknown revision or range), exit 1 otherwise. git's own first `fatal:` or `error:` line
  /// is quoted, keys in it cut short.
  static func failure(_ outcome: Outcome, range: String?) -> IVKeysError {
    let lines = outcome.stderr.split(separator: "\n").map(String.init)
    let said = lines.first { $0.hasPrefix("fatal:") || $0.hasPrefix("error:") } ?? lines.first ?? ""
    let quoted = Text.escapeControl(Text.redactKeys(said))
    let how = outcome.exited ? "exited with status \(outcome.code)" : "was killed by signal \(outcome.status & 0x7f)"
    let message = "git log \(how)" + (quoted.isEmpty ? "" : ": \(quoted)")
    if said.contains("not a git repository") {
      return .usage(message, hint: "run 'ivkeys scan --git' inside the repository's work tree")
    }
    let refused = ["bad revision", "unknown revision", "ambiguous argument", "bad range", "Invalid revision range"]
    if refused.contains(where: { said.contains($0) }) {
      return .usage(message, hint: "RANGE is what 'git log' takes, as in: ivkeys scan --git origin/main..HEAD")
    }
    return .io(message)
  }
}
