import IVKeysCore

/// `ivkeys completion bash|zsh|fish`: prints the shell's completion script, generated from the
/// command table (see `Completion`). It reads no vault and no secret.
enum CompletionCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let name = inv.arguments[0]
    guard let shell = Completion.Shell(rawValue: name) else {
      let shells = Completion.Shell.allCases.map(\.rawValue)
      let list = shells.dropLast().joined(separator: ", ") + " and " + (shells.last ?? "")
      throw .usage("unknown shell '\(Text.escapeControl(name))'", hint: "completion scripts exist for \(list)")
    }
    ctx.stdout.write(Completion.script(for: shell))
    try ctx.stdout.flushChecked("the completion script")
    return 0
  }
}
