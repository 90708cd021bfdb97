import IVKeysCore

/// The identity of an option: its long name without dashes. The names are declared once, as
/// static constants (`OptionName.expiresIn`, see Options.swift); commands and the table use
/// those, never a string, so a typo does not compile.
struct OptionName: Hashable, Sendable {
  /// The long name as typed, without dashes: `expires-in`.
  let rawValue: String

  init(_ rawValue: String) { self.rawValue = rawValue }
}

/// One option of a command: `--long`, maybe `-s`, maybe a value.
struct OptionSpec: Sendable {
  let name: OptionName
  /// A one-letter alias.
  let short: Character?
  /// The value's placeholder (`ID`, `DUR`); nil for a flag.
  let value: String?
  let help: String
  /// Whether it may be given more than once (and, for values, comma-separated).
  let repeatable: Bool

  /// A flag: no value.
  init(_ name: OptionName, short: Character? = nil, _ help: String) {
    self.init(name, nil, short: short, repeatable: false, help)
  }

  /// An option with a value.
  init(_ name: OptionName, _ value: String?, short: Character? = nil, repeatable: Bool = false, _ help: String) {
    self.name = name
    self.short = short
    self.value = value
    self.help = help
    self.repeatable = repeatable
  }

  /// The long name without dashes, as typed.
  var long: String { name.rawValue }

  var display: String {
    var s = short.map { "-\($0), " } ?? ""
    s += "--\(long)"
    if let value { s += " \(value)" }
    return s
  }
}

/// One positional argument of a command, as data: the usage line, the parser's "needs ID" and
/// the completion scripts read it from here.
struct ArgumentSpec: Sendable {
  /// Whether the argument must be given.
  enum Presence: Sendable {
    /// Always: a missing one is a usage error.
    case required
    /// May be left out; shown in brackets.
    case optional
    /// May be left out when options select instead (`suspend ID | --company ID`); the command
    /// checks that one of the two is there, and the usage line shows the alternative.
    case orOptions
  }

  /// The placeholder: `ID`, `PATH`, `bash|zsh|fish`.
  let name: String
  let help: String
  /// What a shell completes the argument to.
  let completion: Completion.Values
  /// Whether it may be given more than once (`scan PATH...`); only the last argument repeats.
  let repeating: Bool
  let presence: Presence

  init(
    _ name: String, _ help: String, completion: Completion.Values = .nothing, repeating: Bool = false,
    presence: Presence = .required
  ) {
    self.name = name
    self.help = help
    self.completion = completion
    self.repeating = repeating
    self.presence = presence
  }

  /// As the usage line and errors write it: `ID`, `PATH...`.
  var display: String { name + (repeating ? "..." : "") }

  /// A key's id, a unique prefix of one or the whole key; completes to the ids in the vault.
  static func keyID(presence: Presence = .required) -> ArgumentSpec {
    ArgumentSpec(
      "ID", "a key id, a unique prefix of one (6 characters or more) or a whole key",
      completion: .keyIDs, presence: presence)
  }
}

/// What a command's run function receives and returns.
typealias RunFunction = @Sendable (Invocation, Context) throws(IVKeysError) -> Int32

/// One command of the table: everything help, parsing, errors, completions and the man page
/// check derive from.
struct CommandSpec: Sendable {
  let name: String
  let abstract: String
  /// What follows the arguments in the usage line, for example `--reason TEXT [options]`.
  let synopsis: String
  /// The positional arguments, in order.
  let arguments: [ArgumentSpec]
  let options: [OptionSpec]
  /// Pairs of options that cannot be given together, with a hint at the right one.
  let conflicts: [(OptionName, OptionName)]
  let subcommands: [CommandSpec]
  /// Extra paragraphs for `--help`: examples, rules.
  let discussion: String
  let run: RunFunction?

  init(
    _ name: String, _ abstract: String, arguments: [ArgumentSpec] = [], synopsis: String = "[options]",
    options: [OptionSpec] = [], conflicts: [(OptionName, OptionName)] = [], subcommands: [CommandSpec] = [],
    discussion: String = "", run: RunFunction?
  ) {
    self.name = name
    self.abstract = abstract
    self.synopsis = synopsis
    self.arguments = arguments
    self.options = options
    self.conflicts = conflicts
    self.subcommands = subcommands
    self.discussion = discussion
    self.run = run
  }

  func option(named name: OptionName) -> OptionSpec? { options.first { $0.name == name } }

  /// How many arguments must be given.
  var minimumArguments: Int { arguments.filter { $0.presence == .required }.count }

  /// How many arguments may be given.
  var maximumArguments: Int { arguments.last?.repeating == true ? Int(Int32.max) : arguments.count }

  /// The arguments as the usage line writes them: `ID`, `PATH...`, `[COMMAND [SUBCOMMAND]]`.
  var argumentUsage: String {
    var words = [String]()
    var open = 0
    for a in arguments {
      if a.presence == .optional {
        words.append("[" + a.display)
        open += 1
      } else {
        words.append(a.display)
      }
    }
    return words.joined(separator: " ") + String(repeating: "]", count: open)
  }
}
