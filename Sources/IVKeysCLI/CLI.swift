import Glibc
import IVKeysCore

/// Runs one command line and returns the exit status: the whole of `ivkeys` but `main.swift`.
public enum CLI {
  /// The command line `main` runs (without the program name), for `serve` to hand on.
  nonisolated(unsafe) static var arguments: [String] = []

  /// Runs `args` (without the program name) and returns the exit status.
  public static func main(_ args: [String], environment: [String: String]) -> Int32 {
    arguments = args
    ProcessHardening.disableCoreDumps()
    // Files ivkeys creates are the user's alone whatever the caller's umask.
    umask(0o077)
    // A closed pipe is a write error (EPIPE) like any other, not death: `create` must live to
    // revoke keys it could not deliver, and every command reports it (see Output).
    signal(SIGPIPE, SIG_IGN)
    let stdout = Output(fd: 1)
    let stderr = Output(fd: 2)
    defer { stderr.flush() }
    let (status, reported) = run(args, environment: environment, stdout: stdout, stderr: stderr)
    // Whatever the command decided (a verify decision, a check's exit 3), output that did not
    // arrive is a failure: exit 1, said once (a command's own error already says it).
    stdout.flush()
    if let failure = stdout.failure, !reported {
      let error = Output.writeError(failure)
      report(error.description, hint: error.hint, to: stderr)
      return 1
    }
    return status
  }

  /// Parses and runs one command line, writing to `stdout` and `stderr`: the exit status, and
  /// whether an error was reported.
  static func run(_ args: [String], environment: [String: String], stdout: Output, stderr: Output)
    -> (status: Int32, reported: Bool)
  {
    // Bare `ivkeys`: the overview, as a usage error (stdout stays for results).
    if args.isEmpty {
      stderr.write(Help.overview() + "\n")
      return (2, true)
    }
    let inv: Invocation
    do {
      inv = try Parser.parse(args)
    } catch {
      report(error.description, hint: error.hint, to: stderr)
      return (2, true)
    }
    if inv.flag(.version) {
      stdout.line(Help.version)
      return (0, false)
    }
    if inv.wantsHelp {
      stdout.write(inv.spec == nil ? Help.overview() + "\n" : Help.command(inv.path))
      return (0, false)
    }
    guard let spec = inv.spec, let run = spec.run else { return (2, false) }
    let ctx = Context(environment: environment, invocation: inv, stdout: stdout, stderr: stderr)
    do {
      try ctx.checkFormat()
      let status = try run(inv, ctx)
      // Output first, housekeeping after: a caller waiting for the answer never waits for this.
      stdout.flush()
      ctx.opened?.checkpointIfLarge()
      return (status, false)
    } catch {
      stdout.flush()
      report(error.description, hint: error.hint, to: stderr)
      return (error.exitCode, true)
    }
  }

  /// The process environment, without Foundation.
  public static func processEnvironment() -> [String: String] { Context.processEnvironment() }

  /// Prints an error and its hint. Any key in the text is masked: an error message must never
  /// carry a secret, even one the user typed in the wrong place.
  static func report(_ message: String, hint: String?, to stderr: Output) {
    stderr.line("ivkeys: error: " + Text.redactKeys(message))
    if let hint { stderr.line("ivkeys: hint: " + Text.redactKeys(hint)) }
  }
}
