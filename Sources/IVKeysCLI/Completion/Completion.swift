import IVKeysCore

/// Shell completion scripts for bash, zsh and fish, generated from the command table each time
/// `ivkeys completion SHELL` runs: a command or option added to the table completes without
/// anything else changing.
///
/// What a value completes to is read from the table too (see `values(forPlaceholder:)`): a
/// placeholder that lists lowercase words (`live|test`) completes to those words, `PATH`, `FILE`
/// and `DEST` to file names, `STATUS` to the key statuses, `COMMAND` to the commands; `--preset`
/// completes to the preset names; any other value (`ID`, `DUR`) to nothing. Keys are never
/// completed: a completion script does not open the vault.
enum Completion {
  /// The shells a script can be generated for.
  enum Shell: String, CaseIterable, Sendable {
    case bash, zsh, fish
  }

  /// What a word on the command line completes to.
  enum Values: Equatable {
    /// Nothing: the value is free text (an ID, a duration).
    case nothing
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
    if option.long == "preset" { return .words(Scopes.presets.map(\.name)) }
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

  /// The positional arguments of a command, read from the head of its synopsis: the
  /// placeholders before the first option, `|` or plain word (`ID --reason TEXT`,
  /// `[COMMAND [SUBCOMMAND]]`, `PATH... | -`, `bash|zsh|fish`).
  static func positionals(of spec: CommandSpec) -> (arguments: [Values], variadic: Bool) {
    guard spec.arguments.upperBound > 0 else { return ([], false) }
    var out = [Values]()
    var variadic = false
    for token in spec.synopsis.split(separator: " ") {
      let t = String(token.drop { "[(".contains($0) }.reversed().drop { "])".contains($0) }.reversed())
      let isEnumeration = t.contains("|") && t.split(separator: "|").allSatisfy { isLowercaseWord(String($0)) }
      let isPlaceholder =
        t.first?.isUppercase == true && t.allSatisfy { $0.isUppercase || $0.isNumber || "_|-.".contains($0) }
      guard isEnumeration || isPlaceholder, out.count < spec.arguments.upperBound else { break }
      out.append(values(forPlaceholder: t))
      if t.hasSuffix("...") {
        variadic = true
        break
      }
    }
    return (out, variadic)
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

  // MARK: - bash

  /// A bash script defining `_ivkeys` and registering it with `complete -F`. It needs nothing
  /// but bash (no bash-completion package) and walks `COMP_WORDS` as the parser walks argv:
  /// the first plain word is the command, the next a subcommand if the command has one of
  /// that name, option values are skipped, `--` ends options.
  static func bash(_ nodes: [Node], globals: [OptionSpec]) -> String {
    var s = """
      # bash completion for ivkeys, generated by 'ivkeys completion bash' from its command table.
      # Install: ivkeys completion bash > ~/.local/share/bash-completion/completions/ivkeys
      # or add to ~/.bashrc: source <(ivkeys completion bash)

      # _ivkeys_children PATH: sets _ivkeys_words to the words one level below command path PATH
      # (the commands for the empty path, else the subcommands).
      _ivkeys_children() {
        case $1 in

      """
    for n in nodes where !n.children.isEmpty {
      let words = n.children.map { shellQuote($0.name) }.joined(separator: " ")
      s += "    \(shellQuote(n.name))) _ivkeys_words=(\(words)) ;;\n"
    }
    s += """
          *) _ivkeys_words=() ;;
        esac
      }

      # _ivkeys_options PATH: sets _ivkeys_words to the options valid at command path PATH.
      _ivkeys_options() {
        case $1 in

      """
    for n in nodes {
      let words = n.options.flatMap(spellings).map(shellQuote).joined(separator: " ")
      s += "    \(shellQuote(n.name))) _ivkeys_words=(\(words)) ;;\n"
    }
    s += """
          *) _ivkeys_words=() ;;
        esac
      }

      # _ivkeys_option_values PATH OPTION: sets _ivkeys_values (and _ivkeys_words) to what the
      # value of OPTION at command path PATH completes to; fails when OPTION takes no value.
      _ivkeys_option_values() {
        _ivkeys_words=()
        case $1/$2 in

      """
    // A command's own options first: `case` takes the first match, so they win over the
    // global ones (audit export --format) as they do in the parser.
    for n in nodes where !n.path.isEmpty {
      for o in n.own {
        let patterns = spellings(o).map { shellQuote("\(n.name)/\($0)") }.joined(separator: " | ")
        if o.value != nil {
          s += "    \(patterns)) \(bashValues(values(for: o))) ;;\n"
        } else if globals.contains(where: { $0.long == o.long && $0.value != nil }) {
          s += "    \(patterns)) return 1 ;;\n"
        }
      }
    }
    for o in globals where o.value != nil {
      let patterns = spellings(o).map { "*" + shellQuote("/\($0)") }.joined(separator: " | ")
      s += "    \(patterns)) \(bashValues(values(for: o))) ;;\n"
    }
    s += """
          *) return 1 ;;
        esac
      }

      # _ivkeys_argument_values PATH INDEX: sets _ivkeys_values (and _ivkeys_words) to what the
      # positional argument INDEX (from 0) at command path PATH completes to.
      _ivkeys_argument_values() {
        _ivkeys_values=nothing _ivkeys_words=()
        case $1/$2 in

      """
    for n in nodes {
      for (i, v) in n.arguments.enumerated() where v != .nothing {
        let last = n.variadic && i == n.arguments.count - 1
        s += "    \(shellQuote("\(n.name)/"))\(last ? "*" : String(i))) \(bashValues(v)) ;;\n"
      }
    }
    s += #"""
        esac
      }

      # _ivkeys_is_child PATH WORD: whether WORD is a subcommand one level below command path PATH.
      _ivkeys_is_child() {
        local w
        _ivkeys_children "$1"
        for w in "${_ivkeys_words[@]}"; do
          [[ $w == "$2" ]] && return 0
        done
        return 1
      }

      # _ivkeys_add CUR PREFIX WORD...: adds to COMPREPLY each WORD that starts with CUR, after PREFIX.
      _ivkeys_add() {
        local cur=$1 prefix=$2 w
        shift 2
        for w in "$@"; do
          [[ $w == "$cur"* ]] && COMPREPLY+=("$prefix$w")
        done
        return 0
      }

      # _ivkeys_reply CUR PREFIX FIRST: adds to COMPREPLY what _ivkeys_values says, for the word
      # CUR; FIRST is the first positional argument (help COMMAND SUBCOMMAND).
      _ivkeys_reply() {
        local w
        case $_ivkeys_values in
          words) _ivkeys_add "$1" "$2" "${_ivkeys_words[@]}" ;;
          commands) _ivkeys_children ''; _ivkeys_add "$1" "$2" "${_ivkeys_words[@]}" ;;
          subcommands) _ivkeys_children "$3"; _ivkeys_add "$1" "$2" "${_ivkeys_words[@]}" ;;
          files)
            compopt -o filenames 2>/dev/null
            while IFS= read -r w; do COMPREPLY+=("$2$w"); done < <(compgen -f -- "$1")
            ;;
        esac
      }

      # _ivkeys: the completion function for ivkeys.
      _ivkeys() {
        local cur=${COMP_WORDS[COMP_CWORD]} path= opt= w i skip=0 ended=0
        local _ivkeys_values=nothing
        local -a _ivkeys_words=() args=()
        COMPREPLY=()
        for ((i = 1; i < COMP_CWORD; i++)); do
          w=${COMP_WORDS[i]}
          if ((skip)); then
            # bash splits --opt=value at '=' (COMP_WORDBREAKS): the value comes after the '='.
            [[ $w == = ]] || skip=0
            continue
          fi
          if ((!ended)); then
            case $w in
              --) ended=1; continue ;;
              --*=*) continue ;;
              -?*) opt=$w; _ivkeys_option_values "$path" "$w" && skip=1; continue ;;
            esac
          fi
          if [[ -z $path ]]; then
            path=$w
          elif [[ $path != *' '* && ${#args[@]} -eq 0 ]] && _ivkeys_is_child "$path" "$w"; then
            path="$path $w"
          else
            args+=("$w")
          fi
        done
        if ((skip)); then
          # The value of the option before: --opt VALUE, or --opt=VALUE split by bash.
          [[ $cur == = ]] && cur=
          _ivkeys_option_values "$path" "$opt"
          _ivkeys_reply "$cur" '' "${args[0]-}"
        elif ((!ended)) && [[ $cur == --*=* ]]; then
          # --opt=VALUE in one word (COMP_WORDBREAKS without '=').
          _ivkeys_option_values "$path" "${cur%%=*}" && _ivkeys_reply "${cur#*=}" "${cur%%=*}=" "${args[0]-}"
        elif ((!ended)) && [[ $cur == -* ]]; then
          _ivkeys_options "$path"
          _ivkeys_add "$cur" '' "${_ivkeys_words[@]}"
        elif [[ -z $path ]]; then
          _ivkeys_children ''
          _ivkeys_add "$cur" '' "${_ivkeys_words[@]}"
        else
          _ivkeys_argument_values "$path" "${#args[@]}"
          _ivkeys_reply "$cur" '' "${args[0]-}"
          if [[ $path != *' '* && ${#args[@]} -eq 0 ]]; then
            _ivkeys_children "$path"
            _ivkeys_add "$cur" '' "${_ivkeys_words[@]}"
          fi
        fi
        return 0
      }

      complete -F _ivkeys ivkeys

      """#
    return s
  }

  /// The body of a bash `case` branch setting `_ivkeys_values` (and `_ivkeys_words`).
  static func bashValues(_ v: Values) -> String {
    switch v {
    case .nothing: return "_ivkeys_values=nothing"
    case .files: return "_ivkeys_values=files"
    case .commands: return "_ivkeys_values=commands"
    case .subcommandsOfFirstArgument: return "_ivkeys_values=subcommands"
    case .words(let w): return "_ivkeys_values=words _ivkeys_words=(\(w.map(shellQuote).joined(separator: " ")))"
    }
  }

  // MARK: - zsh

  /// A `#compdef ivkeys` script: `_arguments` specs for each command and subcommand, with
  /// help text, and `_describe` for command names with their abstracts. It works from a
  /// directory of `$fpath` (as `_ivkeys`) and when sourced after `compinit`.
  static func zsh(_ nodes: [Node]) -> String {
    let top = nodes[0]
    var s = """
      #compdef ivkeys
      # zsh completion for ivkeys, generated by 'ivkeys completion zsh' from its command table.
      # Install as _ivkeys in a directory of $fpath, for example:
      #   ivkeys completion zsh > ~/.zfunc/_ivkeys   (with fpath=(~/.zfunc $fpath) before compinit)
      # or add to ~/.zshrc after compinit: source <(ivkeys completion zsh)

      # _ivkeys_children [PATH]: offers the words one level below command path PATH: the
      # commands for none, else the subcommands, each with its abstract.
      _ivkeys_children() {
        local -a children
        case $1 in

      """
    for n in nodes where !n.children.isEmpty {
      let entries = n.children.map { shellQuote(escaping($0.name, ":") + ":" + oneLine($0.abstract)) }
      s += "    (\(shellQuote(n.name)))\n      children=(\n"
      for e in entries { s += "        \(e)\n" }
      s += "      ) ;;\n"
    }
    s += """
        esac
        if [[ -z $1 ]]; then
          _describe -t commands 'ivkeys command' children
        else
          _describe -t subcommands "ivkeys $1 subcommand" children
        fi
      }

      # _ivkeys: the completion function for ivkeys. Each level parses its options with
      # _arguments and hands the words after its command name (*::) to the level below.
      _ivkeys() {
        local curcontext=$curcontext state state_descr line ret=1
        typeset -A opt_args

      """
    s += "  local -a global\n  global=(\n"
    s += top.own.flatMap(zshOptionSpec).map { "    \(shellQuote($0))\n" }.joined() + "  )\n"
    s += "  _arguments -C -S -A '-*' : \\\n" + zshSpecs(top).map { "    \($0) \\\n" }.joined()
    s += """
          '1: :->command' '*:: :->argument' && ret=0
        case $state in
          (command) _ivkeys_children && ret=0 ;;
          (argument)
            curcontext=${curcontext%:*:*}:ivkeys-$words[1]:
            case $words[1] in

      """
    for n in nodes where n.path.count == 1 {
      s += "        (\(shellQuote(n.name)))\n"
      let specs = zshSpecs(n)
      if n.children.isEmpty {
        s += "          _arguments -S : \\\n" + specs.map { "            \($0) \\\n" }.joined()
        s += "            && ret=0\n"
      } else {
        s += "          _arguments -C -S -A '-*' : \\\n" + specs.map { "            \($0) \\\n" }.joined()
        s += "            '1: :->subcommand' '*:: :->subargument' && ret=0\n"
        s += "          case $state in\n"
        s += "            (subcommand) _ivkeys_children \(shellQuote(n.name)) && ret=0 ;;\n"
        s += "            (subargument)\n"
        s += "              curcontext=${curcontext%:*:*}:ivkeys-\(shellQuote(n.name))-$words[1]:\n"
        s += "              case $words[1] in\n"
        for sub in nodes where sub.path.count == 2 && sub.path[0] == n.path[0] {
          s += "                (\(shellQuote(sub.path[1])))\n"
          s += "                  _arguments -S : \\\n"
          s += zshSpecs(sub).map { "                    \($0) \\\n" }.joined()
          s += "                    && ret=0 ;;\n"
        }
        // Not a subcommand: the command's own argument (`usage ID --top N`).
        s += "                (*)\n"
        s += "                  _arguments -S : \\\n"
        s += zshOptionSpecs(n).map { "                    \($0) \\\n" }.joined()
        s += "                    && ret=0 ;;\n"
        s += "              esac ;;\n"
        s += "          esac\n"
      }
      s += "          ;;\n"
    }
    s += """
            esac
            ;;
        esac
        return ret
      }

      if [[ $funcstack[1] == _ivkeys ]]; then
        # Autoloaded from $fpath: this file is the function's first call.
        _ivkeys "$@"
      else
        # Sourced: register the function.
        compdef _ivkeys ivkeys
      fi

      """
    return s
  }

  /// The `_arguments` specs of a place, quoted for the shell: its options, then its positional
  /// arguments when it has no subcommands.
  static func zshSpecs(_ n: Node) -> [String] {
    var specs = zshOptionSpecs(n)
    if n.children.isEmpty {
      for (i, v) in n.arguments.enumerated() {
        let last = n.variadic && i == n.arguments.count - 1
        specs.append(shellQuote("\(last ? "*" : String(i + 1)):\(zshMessage(v)):\(zshAction(v))"))
      }
    }
    return specs
  }

  /// The specs of every option of a place, quoted for the shell:
  /// `$global` (the array `_ivkeys` fills with the global options' specs) stands for them
  /// where the command redefines none.
  static func zshOptionSpecs(_ n: Node) -> [String] {
    if n.path.isEmpty { return ["$global"] }
    let own = n.own.flatMap(zshOptionSpec).map(shellQuote)
    return own + (n.redefinesGlobals ? n.inherited.flatMap(zshOptionSpec).map(shellQuote) : ["$global"])
  }

  /// The `_arguments` specs of one option, unquoted: `--env=[help]:live|test:(live test)`,
  /// or a pair `(-q --quiet)-q[help]`, `(-q --quiet)--quiet[help]` for one with a short name.
  static func zshOptionSpec(_ o: OptionSpec) -> [String] {
    let help = "[" + escaping(description(o), "[]") + "]"
    let value = o.value.map { ":" + escaping($0.lowercased(), ":") + ":" + zshAction(values(for: o)) } ?? ""
    let star = o.repeatable ? "*" : ""
    guard let short = o.short else { return ["\(star)--\(o.long)\(o.value == nil ? "" : "=")\(help)\(value)"] }
    let exclusion = o.repeatable ? "" : "(-\(short) --\(o.long))"
    return [
      "\(exclusion)\(star)-\(short)\(o.value == nil ? "" : "+")\(help)\(value)",
      "\(exclusion)\(star)--\(o.long)\(o.value == nil ? "" : "=")\(help)\(value)",
    ]
  }

  /// The message zsh shows above a positional argument's matches.
  static func zshMessage(_ v: Values) -> String {
    switch v {
    case .commands: return "command"
    case .subcommandsOfFirstArgument: return "subcommand"
    case .files: return "file"
    case .words, .nothing: return "argument"
    }
  }

  /// The `_arguments` action completing `v`.
  static func zshAction(_ v: Values) -> String {
    switch v {
    case .nothing: return " "
    case .files: return "_files"
    case .words(let w): return "(" + w.map(backslashed).joined(separator: " ") + ")"
    case .commands: return "{_ivkeys_children}"
    case .subcommandsOfFirstArgument: return "{_ivkeys_children $words[2]}"
    }
  }

  // MARK: - fish

  /// `complete -c ivkeys` lines, each guarded by `__ivkeys_at`, which walks the command line
  /// as the parser walks argv and compares the command path (and argument position) reached.
  static func fish(_ nodes: [Node], globals: [OptionSpec]) -> String {
    var s = """
      # fish completion for ivkeys, generated by 'ivkeys completion fish' from its command table.
      # Install: ivkeys completion fish > ~/.config/fish/completions/ivkeys.fish

      # The words one level below a command path: the commands for none, else the subcommands.
      function __ivkeys_children --description 'the words below command path $argv[1], tab, abstract'
          switch "$argv[1]"

      """
    for n in nodes where !n.children.isEmpty {
      s += "        case \(fishQuote(n.name))\n"
      s += "            printf '%s\\t%s\\n' \\\n"
      let entries = n.children.map { "                \(fishQuote($0.name)) \(fishQuote(oneLine($0.abstract)))" }
      s += entries.joined(separator: " \\\n") + "\n"
    }
    s += """
          end
      end

      # A command's own options are looked at first, so they win over the global ones
      # (audit export --format) as they do in the parser.
      function __ivkeys_takes_value --description 'whether option $argv[2] takes a value at path $argv[1]'
          set -l at "$argv[1]/$argv[2]"

      """
    var valued = [String]()
    var flags = [String]()
    for n in nodes where !n.path.isEmpty {
      for o in n.own {
        let names = spellings(o).map { "\(n.name)/\($0)" }
        if o.value != nil {
          valued += names
        } else if globals.contains(where: { $0.long == o.long && $0.value != nil }) {
          flags += names
        }
      }
    }
    func contains(_ what: String, _ list: [String]) -> String {
      "    contains -- \(what)" + list.map { " \\\n        \(fishQuote($0))" }.joined()
    }
    if !valued.isEmpty { s += contains("$at", valued) + "\n    and return 0\n" }
    if !flags.isEmpty { s += contains("$at", flags) + "\n    and return 1\n" }
    s += contains("$argv[2]", globals.filter { $0.value != nil }.flatMap(spellings)) + "\n"
    s += """
      end

      # __ivkeys_at PATH [INDEX [FIRST]]: whether the command line is at command path PATH and,
      # when given, at its positional argument INDEX (from 0) with FIRST as the first argument.
      function __ivkeys_at
          set -l words (commandline -opc)
          set -e words[1]
          set -l path
          set -l args
          set -l skip 0
          set -l ended 0
          for w in $words
              if test $skip = 1
                  set skip 0
                  continue
              end
              if test $ended = 0
                  switch $w
                      case --
                          set ended 1
                          continue
                      case -
                          # Standard input: an argument.
                      case '--*=*'
                          continue
                      case '-*'
                          __ivkeys_takes_value "$path" $w; and set skip 1
                          continue
                  end
              end
              if test (count $path) -eq 0
                  set path $w
              else if test (count $path) -eq 1; and test (count $args) -eq 0
                  and contains -- $w (__ivkeys_children $path[1] | string split -f1 \\t)
                  set -a path $w
              else
                  set -a args $w
              end
          end
          test "$path" = "$argv[1]"; or return 1
          set -q argv[2]; or return 0
          test (count $args) -eq $argv[2]; or return 1
          set -q argv[3]; or return 0
          test "$args[1]" = "$argv[3]"
      end

      # No file names unless a value or argument is a file.
      complete -c ivkeys -f

      """
    // Global options go everywhere except where a command redefines one (audit export --format).
    for g in globals {
      let redefined = nodes.filter { n in !n.path.isEmpty && n.own.contains { $0.long == g.long } }
        .map { "not __ivkeys_at \(fishQuote($0.name))" }
      let condition = redefined.isEmpty ? nil : redefined.joined(separator: "; and ")
      s += fishOption(g, condition: condition)
    }
    /// A `complete` line offering `arguments` (a list fish expands) when `condition` holds.
    func complete(_ condition: String, _ arguments: String) -> String {
      "complete -c ivkeys -n \(fishQuote(condition)) \(arguments)\n"
    }
    /// The words one level below a command path, with their abstracts.
    func children(_ path: String) -> String { "-a " + fishQuote("(__ivkeys_children \(fishQuote(path)))") }
    for n in nodes {
      let at = "__ivkeys_at \(fishQuote(n.name))"
      if !n.children.isEmpty { s += complete(n.path.isEmpty ? at : at + " 0", children(n.name)) }
      guard !n.path.isEmpty else { continue }
      for o in n.own { s += fishOption(o, condition: at) }
      for (i, v) in n.arguments.enumerated() {
        let position = n.variadic && i == n.arguments.count - 1 ? at : "\(at) \(i)"
        switch v {
        case .nothing: break
        case .files: s += complete(position, "-F")
        case .words(let w): s += complete(position, "-a " + fishQuote(fishWords(w)))
        case .commands: s += complete(position, children(""))
        case .subcommandsOfFirstArgument:
          for c in nodes where c.path.count == 1 && !c.children.isEmpty {
            s += complete("\(at) \(i) \(fishQuote(c.name))", children(c.name))
          }
        }
      }
    }
    return s
  }

  /// The `complete` line of one option, under `condition` when there is one.
  static func fishOption(_ o: OptionSpec, condition: String?) -> String {
    var s = "complete -c ivkeys"
    if let condition { s += " -n \(fishQuote(condition))" }
    if let short = o.short { s += " -s \(fishQuote(String(short)))" }
    s += " -l \(fishQuote(o.long))"
    if o.value != nil {
      switch values(for: o) {
      case .files: s += " -r -F"
      case .words(let w): s += " -x -a \(fishQuote(fishWords(w)))"
      case .commands: s += " -x -a " + fishQuote("(__ivkeys_children '')")
      case .nothing, .subcommandsOfFirstArgument: s += " -x"
      }
    }
    return s + " -d \(fishQuote(description(o)))\n"
  }

  /// Words for `complete -a`, which fish expands: each one literal.
  static func fishWords(_ w: [String]) -> String { w.map(backslashed).joined(separator: " ") }
}
