import IVKeysCore

/// Shell completion scripts for bash, zsh and fish, generated from the command table each time
/// `ivkeys completion SHELL` runs: a command or option added to the table completes without
/// anything else changing.
///
/// What a value completes to is read from the table too (see `values(forPlaceholder:)`): a
/// placeholder that lists lowercase words (`live|test`) completes to those words, `PATH`, `FILE`
/// and `DEST` to file names, `STATUS` to the key statuses, `COMMAND` to the commands; `--preset`
/// completes to the preset names; any other value (`DUR`) to nothing. Positional arguments say
/// what they complete to in their `ArgumentSpec`: a key `ID` completes to the ids in the vault,
/// which the script asks `ivkeys list -q` for when the user presses tab (never keys).
enum Completion {
  /// The shells a script can be generated for.
  enum Shell: String, CaseIterable, Sendable {
    case bash, zsh, fish
  }

  /// What a word on the command line completes to.
  enum Values: Equatable, Sendable {
    /// Nothing: the value is free text (a duration, a name).
    case nothing
    /// The key ids in the vault, from `ivkeys list -q` (never keys).
    case keyIDs
    /// Exactly these words.
    case words([String])
    /// File and directory names.
    case files
    /// The command names (`help COMMAND`).
    case commands
    /// The subcommands of the first argument (`help audit SUBCOMMAND`).
    case subcommandsOfFirstArgument
  }

  /// One place the command line can be at: the top level (`ivkeys …`), a command
  /// (`ivkeys audit …`) or a subcommand (`ivkeys audit verify …`).
  struct Node {
    /// The command names typed so far: `[]`, `["audit"]`, `["audit", "verify"]`.
    let path: [String]
    /// The command's own options (the global ones at the top level).
    let own: [OptionSpec]
    /// The global options the command does not redefine.
    let inherited: [OptionSpec]
    /// Whether the command redefines a global option (`audit export --format`).
    let redefinesGlobals: Bool
    /// The words that lead one level down: the commands at the top level, else the subcommands.
    let children: [CommandSpec]
    /// What each positional argument completes to, by position.
    let arguments: [Values]
    /// Whether the last of `arguments` repeats (`scan PATH...`).
    let variadic: Bool

    /// The options valid here, as the parser looks them up: the command's own first.
    var options: [OptionSpec] { own + inherited }

    /// The path as typed, words joined by a space: `""`, `"audit verify"`.
    var name: String { path.joined(separator: " ") }
  }

  /// The script for `shell`, from the given table (the real one unless a test passes its own).
  static func script(for shell: Shell, commands: [CommandSpec] = commandTable, globals: [OptionSpec] = globalOptions)
    -> String
  {
    let nodes = self.nodes(commands: commands, globals: globals)
    switch shell {
    case .bash: return bash(nodes, globals: globals)
    case .zsh: return zsh(nodes)
    case .fish: return fish(nodes, globals: globals)
    }
  }

  // MARK: - The table, read for completion

  /// Every place of the table, the top level first, each command followed by its subcommands.
  static func nodes(commands: [CommandSpec], globals: [OptionSpec]) -> [Node] {
    let top = Node(
      path: [], own: globals, inherited: [], redefinesGlobals: false, children: commands, arguments: [],
      variadic: false)
    var out = [top]
    func add(_ spec: CommandSpec, _ path: [String]) {
      let own = Set(spec.options.map(\.long))
      let inherited = globals.filter { !own.contains($0.long) }
      let (arguments, variadic) = positionals(of: spec)
      let node = Node(
        path: path, own: spec.options, inherited: inherited, redefinesGlobals: inherited.count < globals.count,
        children: spec.subcommands, arguments: arguments, variadic: variadic)
      out.append(node)
      for sub in spec.subcommands { add(sub, path + [sub.name]) }
    }
    for c in commands { add(c, [c.name]) }
    return out
  }

  /// What an option's value completes to.
  static func values(for option: OptionSpec) -> Values {
    if option.name == .preset { return .words(Scopes.presets.map(\.name)) }
    return option.value.map(values(forPlaceholder:)) ?? .nothing
  }

  /// What a value written as `placeholder` in the table completes to.
  static func values(forPlaceholder placeholder: String) -> Values {
    var p = Substring(placeholder)
    while p.hasSuffix(".") { p = p.dropLast() }
    let parts = p.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
    if parts.count > 1, parts.allSatisfy(isLowercaseWord) { return .words(parts) }
    if parts.contains(where: { ["PATH", "FILE", "DEST", "DIR"].contains($0) }) { return .files }
    switch p {
    case "STATUS": return .words(KeyStatus.allCases.map(\.rawValue))
    case "COMMAND": return .commands
    case "SUBCOMMAND": return .subcommandsOfFirstArgument
    default: return .nothing
    }
  }

  /// What each positional argument of a command completes to, as its table entry says, and
  /// whether the last one repeats (`scan PATH...`).
  static func positionals(of spec: CommandSpec) -> (arguments: [Values], variadic: Bool) {
    (spec.arguments.map(\.completion), spec.arguments.last?.repeating ?? false)
  }

  /// `live`, `regular`, `jsonl`: a word an enumerated placeholder lists.
  static func isLowercaseWord(_ s: String) -> Bool {
    let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_")
    guard let first = s.first, first.isASCII, first.isLowercase else { return false }
    return s.allSatisfy(allowed.contains)
  }

  /// An option as typed: `--env`, `-q`.
  static func spellings(_ o: OptionSpec) -> [String] { ["--\(o.long)"] + (o.short.map { ["-\($0)"] } ?? []) }

  /// Help text on one line, with a note when the option repeats.
  static func description(_ o: OptionSpec) -> String { oneLine(o.help + (o.repeatable ? " (repeatable)" : "")) }

  /// Control characters (a newline in help text) as spaces: every script keeps one entry a line.
  static func oneLine(_ s: String) -> String {
    String(String.UnicodeScalarView(s.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
  }

  // MARK: - Quoting

  /// `s` as one word for sh, bash and zsh: in single quotes, each `'` written `'\''`.
  static func shellQuote(_ s: String) -> String {
    "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
  }

  /// `s` as one word for fish: in single quotes, where only `\'` and `\\` are escapes.
  static func fishQuote(_ s: String) -> String {
    var out = "'"
    for c in s {
      if c == "'" || c == "\\" { out.append("\\") }
      out.append(c)
    }
    return out + "'"
  }

  /// `s` with a backslash before each character other than letters, digits, `-`, `_`, `.`
  /// and `/`: a literal word inside text that zsh or fish evaluates again (a `(w1 w2)` action,
  /// a `-a` list).
  static func backslashed(_ s: String) -> String {
    var out = ""
    for c in s {
      if !(c.isASCII && (c.isLetter || c.isNumber || "-_./".contains(c))) { out.append("\\") }
      out.append(c)
    }
    return out
  }

  /// `s` with a backslash before each of `specials` and before each backslash.
  static func escaping(_ s: String, _ specials: String) -> String {
    var out = ""
    for c in s {
      if c == "\\" || specials.contains(c) { out.append("\\") }
      out.append(c)
    }
    return out
  }
}
