import IVKeysCore

/// Why a command line did not parse. Each is a usage error: exit 2.
enum ParseError: Error, Equatable, CustomStringConvertible {
  case unknownCommand(String, suggestion: String?)
  case unknownOption(String, command: String?, suggestion: String?)
  case missingValue(String)
  case unexpectedValue(String)
  case repeated(String)
  case conflicting(String, String)
  case unexpectedArgument(String, command: String)
  case missingArgument(String, command: String)
  case missingCommand
  /// A key where an argument or `--key` was given: refused, and never echoed.
  case keyOnCommandLine(command: String)

  var description: String {
    switch self {
    case .unknownCommand(let c, _): return "unknown command '\(Text.escapeControl(c))'"
    case .unknownOption(let o, let c, _):
      return "unknown option '\(Text.escapeControl(o))'" + (c.map { " for 'ivkeys \($0)'" } ?? "")
    case .missingValue(let o): return "option \(o) needs a value"
    case .unexpectedValue(let o): return "option \(o) takes no value"
    case .repeated(let o): return "option \(o) was given more than once"
    case .conflicting(let a, let b): return "\(a) and \(b) cannot be used together"
    case .unexpectedArgument(let a, let c): return "unexpected argument '\(Text.escapeControl(a))' for 'ivkeys \(c)'"
    case .missingArgument(let a, let c): return "'ivkeys \(c)' needs \(a)"
    case .missingCommand: return "no command given"
    case .keyOnCommandLine:
      return "keys are never read from the command line: argv is visible in ps and kept in shell history"
    }
  }

  var hint: String? {
    switch self {
    case .unknownCommand(_, let s): return s.map { "did you mean '\($0)'?" } ?? "'ivkeys --help' lists the commands"
    case .unknownOption(_, let c, let s):
      return s.map { "did you mean '\($0)'?" } ?? "'ivkeys \(c.map { "\($0) " } ?? "")--help' lists the options"
    case .conflicting(let a, let b): return "give either \(a) or \(b)"
    case .unexpectedArgument(_, let c), .missingArgument(_, let c): return "usage: \(Help.usageLine(path: c))"
    case .missingCommand: return "'ivkeys --help' lists the commands"
    case .keyOnCommandLine(let c):
      return c == "verify"
        ? "pipe the key to 'ivkeys verify' on stdin, or use --key-file PATH or IVKEYS_KEY"
        : "usage: \(Help.usageLine(path: c))"
    case .missingValue, .unexpectedValue, .repeated: return nil
    }
  }
}

/// A parsed command line.
struct Invocation {
  /// The command and subcommand names, for example `["scopes", "add"]`.
  var path: [String] = []
  var spec: CommandSpec?
  /// Values by option, in the order given; flags hold `""`.
  var values: [OptionName: [String]] = [:]
  var arguments: [String] = []
  var wantsHelp: Bool { values[.help] != nil }

  /// Whether the option was given.
  func flag(_ name: OptionName) -> Bool { values[name] != nil }
  /// The option's value (the last, if given more than once).
  func value(_ name: OptionName) -> String? { values[name]?.last }

  /// Every value of a repeatable option, comma-separated values split apart.
  func list(_ name: OptionName) -> [String] {
    (values[name] ?? []).flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
  }

  /// The value parsed by `parse`, with errors naming the option.
  func parse<T>(_ name: OptionName, _ parse: (String) throws(ValueError) -> T) throws(IVKeysError) -> T? {
    guard let v = value(name) else { return nil }
    do { return try parse(v) } catch { throw error.for("--\(name.rawValue)", v) }
  }

  /// Each value of a repeatable option parsed by `parse`.
  func parseList<T>(_ name: OptionName, _ parse: (String) throws(ValueError) -> T) throws(IVKeysError) -> [T] {
    var out = [T]()
    for v in list(name) {
      do { out.append(try parse(v)) } catch { throw error.for("--\(name.rawValue)", v) }
    }
    return out
  }

  /// A required option's value parsed by `parse`.
  func required<T>(_ name: OptionName, _ parse: (String) throws(ValueError) -> T) throws(IVKeysError) -> T {
    let v = try required(name)
    do { return try parse(v) } catch { throw error.for("--\(name.rawValue)", v) }
  }

  /// A required option's value.
  func required(_ name: OptionName) throws(IVKeysError) -> String {
    guard let v = value(name) else {
      let command = path.joined(separator: " ")
      throw .usage("'ivkeys \(command)' needs --\(name.rawValue)", hint: "usage: \(Help.usageLine(path: command))")
    }
    return v
  }
}

/// The single-loop parser: walks argv once, resolving the command, its subcommand, options
/// (`--opt value`, `--opt=value`, `-q`) and arguments; `--` ends options.
enum Parser {
  static func parse(_ args: [String]) throws(ParseError) -> Invocation {
    var walk = Walk(args: args)
    while walk.next < args.count { try walk.step() }
    return try check(walk.inv)
  }

  /// The walk over argv: the invocation so far and the index of the next word.
  struct Walk {
    let args: [String]
    var next = 0
    var inv = Invocation()
    var optionsEnded = false

    /// Reads the next word, and its value when it is an option that takes one.
    mutating func step() throws(ParseError) {
      let a = args[next]
      next += 1
      if optionsEnded || a == "-" || !a.hasPrefix("-") {
        try word(a)
      } else if a == "--" {
        optionsEnded = true
      } else if a.hasPrefix("--") {
        try long(a)
      } else {
        try short(a)
      }
    }

    /// The options valid so far: the command's own, then the global ones.
    var available: [OptionSpec] { (inv.spec?.options ?? []) + globalOptions }

    /// The command path for messages, nil before the command.
    var commandPath: String? { inv.path.isEmpty ? nil : inv.path.joined(separator: " ") }

    /// A word that is not an option: the command, a subcommand, or an argument.
    mutating func word(_ a: String) throws(ParseError) {
      guard let spec = inv.spec else {
        guard let c = command(named: a) else {
          throw .unknownCommand(a, suggestion: Text.suggestion(for: a, among: commandTable.map(\.name)))
        }
        inv.spec = c
        inv.path = [a]
        return
      }
      // A command with subcommands that also takes an argument (`usage ID`) reads anything
      // that is not a subcommand's name as that argument.
      guard !optionsEnded, inv.arguments.isEmpty, inv.path.count == 1, !spec.subcommands.isEmpty,
        spec.subcommands.contains(where: { $0.name == a }) || spec.maximumArguments == 0
      else {
        inv.arguments.append(a)
        return
      }
      guard let sub = spec.subcommands.first(where: { $0.name == a }) else {
        let suggestion = Text.suggestion(for: a, among: spec.subcommands.map(\.name)).map { "\(spec.name) \($0)" }
        throw .unknownCommand("\(spec.name) \(a)", suggestion: suggestion)
      }
      // Options given before the subcommand must still be valid for it.
      for name in inv.values.keys
      where sub.option(named: name) == nil && !globalOptions.contains(where: { $0.name == name }) {
        throw .unknownOption("--\(name.rawValue)", command: "\(spec.name) \(a)", suggestion: nil)
      }
      inv.spec = sub
      inv.path.append(a)
    }

    /// `--name`, `--name=value` or `--name value`.
    mutating func long(_ a: String) throws(ParseError) {
      let body = a.dropFirst(2)
      let name: String
      var inline: String?
      if let eq = body.firstIndex(of: "=") {
        name = String(body[..<eq])
        inline = String(body[body.index(after: eq)...])
      } else {
        name = String(body)
      }
      guard let spec = available.first(where: { $0.long == name }) else {
        let suggestion = Text.suggestion(for: name, among: available.map(\.long)).map { "--\($0)" }
        throw .unknownOption("--\(name)", command: commandPath, suggestion: suggestion)
      }
      if spec.value == nil {
        guard inline == nil else { throw .unexpectedValue("--\(name)") }
        try record(spec, "")
      } else if let inline {
        try record(spec, inline)
      } else {
        guard next < args.count, !args[next].hasPrefix("--") else { throw .missingValue("--\(name)") }
        try record(spec, args[next])
        next += 1
      }
    }

    /// Short options: -q, -h, several flags together (-qh), a value attached or next (-fVALUE).
    mutating func short(_ a: String) throws(ParseError) {
      var letters = Array(a.dropFirst())
      while !letters.isEmpty {
        let letter = letters.removeFirst()
        guard let spec = available.first(where: { $0.short == letter }) else {
          throw .unknownOption("-\(letter)", command: commandPath, suggestion: nil)
        }
        if spec.value == nil {
          try record(spec, "")
        } else {
          let rest = String(letters)
          letters = []
          if !rest.isEmpty {
            try record(spec, rest)
          } else {
            guard next < args.count else { throw .missingValue("-\(letter)") }
            try record(spec, args[next])
            next += 1
          }
        }
      }
    }

    mutating func record(_ spec: OptionSpec, _ value: String) throws(ParseError) {
      if inv.values[spec.name] != nil && !spec.repeatable && spec.name != .help {
        throw .repeated("--\(spec.long)")
      }
      inv.values[spec.name, default: []].append(value)
    }
  }

  /// What only the whole command line shows: a command given, conflicts (the command's, then
  /// the global ones), the number of arguments.
  static func check(_ inv: Invocation) throws(ParseError) -> Invocation {
    if inv.wantsHelp || inv.flag(.version) { return inv }
    guard let spec = inv.spec else { throw .missingCommand }
    for (a, b) in spec.conflicts + globalConflicts where inv.flag(a) && inv.flag(b) {
      throw .conflicting("--\(a.rawValue)", "--\(b.rawValue)")
    }
    let path = inv.path.joined(separator: " ")
    if inv.arguments.count > spec.maximumArguments {
      // A key pasted where no argument belongs (`ivkeys verify sk_live_…`) gets the clear refusal.
      if inv.arguments[spec.maximumArguments...].contains(where: Text.looksLikeKey) {
        throw .keyOnCommandLine(command: path)
      }
      throw .unexpectedArgument(inv.arguments[spec.maximumArguments], command: path)
    }
    if inv.arguments.count < spec.minimumArguments {
      throw .missingArgument(spec.arguments[inv.arguments.count].display, command: path)
    }
    return inv
  }
}
