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

  var description: String {
    switch self {
    case let .unknownCommand(c, _): return "unknown command '\(Text.escapeControl(c))'"
    case let .unknownOption(o, c, _):
      return "unknown option '\(Text.escapeControl(o))'" + (c.map { " for 'ivkeys \($0)'" } ?? "")
    case let .missingValue(o): return "option \(o) needs a value"
    case let .unexpectedValue(o): return "option \(o) takes no value"
    case let .repeated(o): return "option \(o) was given more than once"
    case let .conflicting(a, b): return "\(a) and \(b) cannot be used together"
    case let .unexpectedArgument(a, c): return "unexpected argument '\(Text.escapeControl(a))' for 'ivkeys \(c)'"
    case let .missingArgument(a, c): return "'ivkeys \(c)' needs \(a)"
    case .missingCommand: return "no command given"
    }
  }

  var hint: String? {
    switch self {
    case let .unknownCommand(_, s): return s.map { "did you mean '\($0)'?" } ?? "'ivkeys --help' lists the commands"
    case let .unknownOption(_, c, s):
      return s.map { "did you mean '\($0)'?" } ?? "'ivkeys \(c.map { "\($0) " } ?? "")--help' lists the options"
    case let .conflicting(a, b): return "give either \(a) or \(b)"
    case let .unexpectedArgument(_, c), let .missingArgument(_, c): return "usage: \(Help.usageLine(path: c))"
    case .missingCommand: return "'ivkeys --help' lists the commands"
    case .missingValue, .unexpectedValue, .repeated: return nil
    }
  }
}

/// A parsed command line.
struct Invocation {
  /// The command and subcommand names, for example `["scopes", "add"]`.
  var path: [String] = []
  var spec: CommandSpec?
  /// Values by long option name, in the order given; flags hold `""`.
  var values: [String: [String]] = [:]
  var arguments: [String] = []
  var wantsHelp: Bool { values["help"] != nil }

  func flag(_ long: String) -> Bool { values[long] != nil }
  func value(_ long: String) -> String? { values[long]?.last }

  /// Every value of a repeatable option, comma-separated values split apart.
  func list(_ long: String) -> [String] {
    (values[long] ?? []).flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
  }

  /// The value parsed by `parse`, with errors naming the option.
  func parse<T>(_ long: String, _ parse: (String) throws(ValueError) -> T) throws(IVKeysError) -> T? {
    guard let v = value(long) else { return nil }
    do { return try parse(v) } catch { throw error.for("--\(long)", v) }
  }

  /// Each value of a repeatable option parsed by `parse`.
  func parseList<T>(_ long: String, _ parse: (String) throws(ValueError) -> T) throws(IVKeysError) -> [T] {
    var out = [T]()
    for v in list(long) {
      do { out.append(try parse(v)) } catch { throw error.for("--\(long)", v) }
    }
    return out
  }

  /// A required option's value parsed by `parse`.
  func required<T>(_ long: String, _ parse: (String) throws(ValueError) -> T) throws(IVKeysError) -> T {
    let v = try required(long)
    do { return try parse(v) } catch { throw error.for("--\(long)", v) }
  }

  /// A required option's value.
  func required(_ long: String) throws(IVKeysError) -> String {
    guard let v = value(long) else {
      throw .usage("'ivkeys \(path.joined(separator: " "))' needs --\(long)", hint: "usage: \(Help.usageLine(path: path.joined(separator: " ")))")
    }
    return v
  }
}

/// The single-loop parser: walks argv once, resolving the command, its subcommand, options
/// (`--opt value`, `--opt=value`, `-q`) and arguments; `--` ends options.
enum Parser {
  static func parse(_ args: [String]) throws(ParseError) -> Invocation {
    var inv = Invocation()
    var optionsEnded = false
    var i = 0
    func available() -> [OptionSpec] { (inv.spec?.options ?? []) + globalOptions }

    func record(_ spec: OptionSpec, _ value: String, as written: String) throws(ParseError) {
      if inv.values[spec.long] != nil && !spec.repeatable && spec.long != "help" {
        throw .repeated("--\(spec.long)")
      }
      inv.values[spec.long, default: []].append(value)
    }

    while i < args.count {
      let a = args[i]
      i += 1
      if optionsEnded || a == "-" || !a.hasPrefix("-") {
        if inv.spec == nil {
          guard let c = command(named: a) else {
            throw .unknownCommand(a, suggestion: Text.suggestion(for: a, among: commandTable.map(\.name)))
          }
          inv.spec = c
          inv.path = [a]
        } else if let spec = inv.spec, !optionsEnded, inv.arguments.isEmpty, inv.path.count == 1, !spec.subcommands.isEmpty,
          spec.subcommands.contains(where: { $0.name == a }) || spec.arguments.upperBound == 0
        {
          // A command with subcommands that also takes an argument (`usage ID`) reads anything
          // that is not a subcommand's name as that argument.
          guard let sub = spec.subcommands.first(where: { $0.name == a }) else {
            throw .unknownCommand("\(spec.name) \(a)", suggestion: Text.suggestion(for: a, among: spec.subcommands.map(\.name)).map { "\(spec.name) \($0)" })
          }
          // Options given before the subcommand must still be valid for it.
          for long in inv.values.keys where sub.option(named: long) == nil && !globalOptions.contains(where: { $0.long == long }) {
            throw .unknownOption("--\(long)", command: "\(spec.name) \(a)", suggestion: nil)
          }
          inv.spec = sub
          inv.path.append(a)
        } else {
          inv.arguments.append(a)
        }
        continue
      }
      if a == "--" {
        optionsEnded = true
        continue
      }
      if a.hasPrefix("--") {
        let body = a.dropFirst(2)
        let name: String
        var inline: String?
        if let eq = body.firstIndex(of: "=") {
          name = String(body[..<eq])
          inline = String(body[body.index(after: eq)...])
        } else {
          name = String(body)
        }
        guard let spec = available().first(where: { $0.long == name }) else {
          let suggestion = Text.suggestion(for: name, among: available().map(\.long)).map { "--\($0)" }
          throw .unknownOption("--\(name)", command: inv.path.isEmpty ? nil : inv.path.joined(separator: " "), suggestion: suggestion)
        }
        if spec.value == nil {
          guard inline == nil else { throw .unexpectedValue("--\(name)") }
          try record(spec, "", as: a)
        } else if let inline {
          try record(spec, inline, as: a)
        } else {
          guard i < args.count, !args[i].hasPrefix("--") else { throw .missingValue("--\(name)") }
          try record(spec, args[i], as: a)
          i += 1
        }
        continue
      }
      // Short options: -q, -h, or several flags together (-qh).
      var letters = Array(a.dropFirst())
      while !letters.isEmpty {
        let letter = letters.removeFirst()
        guard let spec = available().first(where: { $0.short == letter }) else {
          throw .unknownOption("-\(letter)", command: inv.path.isEmpty ? nil : inv.path.joined(separator: " "), suggestion: nil)
        }
        if spec.value == nil {
          try record(spec, "", as: "-\(letter)")
        } else {
          let rest = String(letters)
          letters = []
          if !rest.isEmpty {
            try record(spec, rest, as: "-\(letter)")
          } else {
            guard i < args.count else { throw .missingValue("-\(letter)") }
            try record(spec, args[i], as: "-\(letter)")
            i += 1
          }
        }
      }
    }

    if inv.wantsHelp || inv.flag("version") { return inv }
    guard let spec = inv.spec else { throw .missingCommand }
    for (a, b) in spec.conflicts + [("json", "quiet")] where inv.values[a] != nil && inv.values[b] != nil {
      throw .conflicting("--\(a)", "--\(b)")
    }
    if inv.values["json"] != nil && inv.values["format"] != nil { throw .conflicting("--json", "--format") }
    if inv.values["quiet"] != nil && inv.values["format"] != nil { throw .conflicting("--format", "--quiet") }
    if inv.arguments.count > spec.arguments.upperBound {
      throw .unexpectedArgument(inv.arguments[spec.arguments.upperBound], command: inv.path.joined(separator: " "))
    }
    if inv.arguments.count < spec.arguments.lowerBound {
      let name = spec.synopsis.split(separator: " ").first.map(String.init) ?? "an argument"
      throw .missingArgument(name, command: inv.path.joined(separator: " "))
    }
    return inv
  }
}
