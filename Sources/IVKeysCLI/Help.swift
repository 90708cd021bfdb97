import IVKeysCore

/// Help text, derived from the command table.
enum Help {
  static let version = "ivkeys 0.1.0"

  /// `ivkeys create --company ID …`.
  static func usageLine(path: String) -> String {
    guard let spec = find(path) else { return "ivkeys COMMAND [options]" }
    return ["ivkeys", path, spec.argumentUsage, spec.synopsis].filter { !$0.isEmpty }.joined(separator: " ")
  }

  /// The command at a path like `scopes add`.
  static func find(_ path: String) -> CommandSpec? {
    let parts = path.split(separator: " ").map(String.init)
    guard let first = parts.first, var spec = commandTable.first(where: { $0.name == first }) else { return nil }
    for p in parts.dropFirst() {
      guard let sub = spec.subcommands.first(where: { $0.name == p }) else { return nil }
      spec = sub
    }
    return spec
  }

  static func optionLines(_ options: [OptionSpec]) -> String {
    let width = min(28, (options.map { $0.display.count }.max() ?? 0) + 2)
    return options.map { o in
      let d = o.display
      let pad =
        d.count < width
        ? String(repeating: " ", count: width - d.count) : "\n" + String(repeating: " ", count: width + 2)
      return "  \(d)\(pad)\(o.help)\(o.repeatable ? " (repeatable)" : "")"
    }.joined(separator: "\n")
  }

  /// `ivkeys --help`.
  static func overview() -> String {
    let width = (commandTable.map(\.name.count).max() ?? 0) + 2
    var s = """
      ivkeys: administer InstaView API keys

      usage: ivkeys COMMAND [options]

      commands:

      """
    for c in commandTable {
      s += "  \(c.name)\(String(repeating: " ", count: width - c.name.count))\(c.abstract)\n"
    }
    s += """

      global options:
      \(optionLines(globalOptions))

      environment:
        IVKEYS_VAULT        the vault, when --vault is not given
        IVKEYS_SECRET_FILE  the server secret, when --secret-file is not given
        IVKEYS_ACTOR        a name recorded beside the OS user in the audit log
        IVKEYS_ENV          the environment verify serves (live or test), when --env is not given
        IVKEYS_KEY          the key for verify, when --key-file is not given (empty: an empty key)
        NO_COLOR            turns color off

      exit status: 0 success, 1 operational error, 2 usage error, 3 a check found a problem
      (expiring --check, rotation-due --check, audit verify, scan, doctor),
      10/11/12 verify refused the request (401/403/429).
      'ivkeys help COMMAND' or 'ivkeys COMMAND --help' shows a command's options; 'man ivkeys' has more.
      """
    return s
  }

  /// `ivkeys CMD --help`.
  static func command(_ path: [String]) -> String {
    guard let spec = find(path.joined(separator: " ")) else { return overview() }
    var s =
      "ivkeys \(path.joined(separator: " ")): \(spec.abstract)\n\nusage: \(usageLine(path: path.joined(separator: " ")))\n"
    if !spec.subcommands.isEmpty {
      s += "\nsubcommands:\n"
      let width = (spec.subcommands.map(\.name.count).max() ?? 0) + 2
      for sub in spec.subcommands {
        s += "  \(sub.name)\(String(repeating: " ", count: width - sub.name.count))\(sub.abstract)\n"
      }
    }
    if !spec.options.isEmpty { s += "\noptions:\n\(optionLines(spec.options))\n" }
    if !spec.discussion.isEmpty { s += "\n\(spec.discussion)\n" }
    s += "\nglobal options: " + globalOptions.map { "--\($0.long)" }.joined(separator: " ") + "\n"
    return s
  }
}

/// `ivkeys help [COMMAND [SUBCOMMAND]]`.
enum HelpCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    guard !inv.arguments.isEmpty else {
      ctx.stdout.line(Help.overview())
      return 0
    }
    let path = inv.arguments.joined(separator: " ")
    guard Help.find(path) != nil else { throw unknown(inv.arguments) }
    ctx.stdout.write(Help.command(inv.arguments))
    return 0
  }

  /// The error `ivkeys NAME` gives for the same unknown command or subcommand, suggestion and all.
  static func unknown(_ words: [String]) -> IVKeysError {
    let error: ParseError
    if let spec = command(named: words[0]), words.count > 1 {
      let suggestion = Text.suggestion(for: words[1], among: spec.subcommands.map(\.name))
      error = .unknownCommand("\(spec.name) \(words[1])", suggestion: suggestion.map { "\(spec.name) \($0)" })
    } else {
      error = .unknownCommand(words[0], suggestion: Text.suggestion(for: words[0], among: commandTable.map(\.name)))
    }
    return .usage(error.description, hint: error.hint)
  }
}
