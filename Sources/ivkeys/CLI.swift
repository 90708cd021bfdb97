#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IVKeysCore

/// Runs one command line and returns the exit status.
enum CLI {
  static func main(_ args: [String], environment: [String: String]) -> Int32 {
    // Files ivkeys creates are the user's alone whatever the caller's umask.
    umask(0o077)
    let stdout = Output(fd: 1)
    let stderr = Output(fd: 2)
    defer {
      stdout.flush()
      stderr.flush()
    }
    let inv: Invocation
    do {
      inv = try Parser.parse(args)
    } catch {
      stderr.line("ivkeys: error: \(error)")
      if let h = error.hint { stderr.line("ivkeys: hint: \(h)") }
      return 2
    }
    if inv.flag("version") {
      stdout.line(Help.version)
      return 0
    }
    if inv.wantsHelp {
      stdout.write(inv.spec == nil ? Help.overview() + "\n" : Help.command(inv.path))
      return 0
    }
    guard let spec = inv.spec, let run = spec.run else { return 2 }
    let ctx = Context(environment: environment, invocation: inv, stdout: stdout, stderr: stderr)
    do {
      try ctx.checkFormat()
      return try run(inv, ctx)
    } catch {
      stdout.flush()
      stderr.line("ivkeys: error: \(error)")
      if let h = error.hint { stderr.line("ivkeys: hint: \(h)") }
      return error.exitCode
    }
  }
}
