import Foundation
import Testing

@testable import IVKeysCLI
@testable import IVKeysCore

/// `ivkeys completion bash|zsh|fish`: each script parses in its shell, completes what the
/// command table says when a shell drives it, and covers every command and option.
///
/// The shells are real: bash, zsh and fish must be installed (`make test` installs them). A
/// missing shell fails its tests instead of skipping them.
@Suite("shell completion")
struct CompletionTests {
  // MARK: - Shells

  /// The path of a shell, or a failed test naming what to install.
  static func shell(_ name: String) throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let found = (path.split(separator: ":").map(String.init) + ["/usr/bin", "/bin", "/usr/local/bin"])
      .map { "\($0)/\(name)" }
      .first { FileManager.default.isExecutableFile(atPath: $0) }
    return try #require(found, "\(name) is not installed: 'make test' installs bash, zsh and fish (Debian packages)")
  }

  /// A sandbox with no vault, a home directory and two files for file-name completion.
  static func sandbox() throws -> Sandbox {
    let s = try Sandbox(initialize: false)
    for d in ["home", "work"] {
      try FileManager.default.createDirectory(at: s.dir.appendingPathComponent(d), withIntermediateDirectories: true)
    }
    for f in ["notes.txt", "gateway.log"] {
      try Data().write(to: s.dir.appendingPathComponent("work/\(f)"))
    }
    return s
  }

  /// `ivkeys completion SHELL`, written to a file in the sandbox.
  static func script(_ shell: String, in s: Sandbox) throws -> String {
    let r = s.run("completion", shell)
    #expect(r.status == 0, "ivkeys completion \(shell): \(r.stderr)")
    #expect(r.stderr.isEmpty)
    let path = s.dir.path + "/ivkeys.\(shell)"
    try r.stdout.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// The syntax check of each shell: `bash -n`, `zsh -n`, `fish -n`.
  static func syntaxCheck(_ shell: String, _ script: String, in s: Sandbox) throws {
    let r = s.exec(try Self.shell(shell), ["-n", script])
    #expect(r.status == 0 && r.stderr.isEmpty, "\(shell) -n: \(r.stderr)")
  }

  // MARK: - Driving each shell's completion

  /// What bash's completion function offers for each command line (the words so far, the last
  /// one being completed), sorted, run in a directory holding notes.txt and gateway.log.
  static func bashCompletions(_ script: String, _ lines: [[String]], in s: Sandbox) throws -> [[String]] {
    var driver = """
      cd "$2" || exit 1
      source "$1" || exit 1
      # Many users run with nounset; the completion must not trip over it.
      set -u
      t() {
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
        _ivkeys
        printf '%s\\n' "${COMPREPLY[@]}"
        echo '<end>'
      }

      """
    for words in lines { driver += "t " + words.map(Completion.shellQuote).joined(separator: " ") + "\n" }
    let r = s.exec(try shell("bash"), ["-c", driver, "driver", script, s.dir.path + "/work"])
    #expect(r.status == 0 && r.stderr.isEmpty, "bash: \(r.stderr)")
    return blocks(r.stdout, count: lines.count)
  }

  /// What fish's `complete -C` offers for each command line, words only, sorted.
  static func fishCompletions(_ script: String, _ lines: [String], in s: Sandbox) throws -> [[String]] {
    let driver = """
      cd $argv[2]; or exit 1
      source $argv[1]; or exit 1
      for line in $argv[3..-1]
          complete -C $line
          echo '<end>'
      end
      """
    let home = s.dir.path + "/home"
    let r = s.exec(
      try shell("fish"), ["--no-config", "-c", driver, script, s.dir.path + "/work"] + lines,
      env: ["XDG_CONFIG_HOME": home + "/.config", "XDG_DATA_HOME": home + "/.local/share"])
    #expect(r.status == 0 && r.stderr.isEmpty, "fish: \(r.stderr)")
    return blocks(r.stdout, count: lines.count).map { $0.map { String($0.prefix { $0 != "\t" }) }.sorted() }
  }

  /// Starts an interactive zsh on a pseudo-terminal (zsh/zpty), loads compinit and the script
  /// (sourced, or from `$fpath` as `_ivkeys`), types the line and a tab, and prints every match
  /// zsh's completion widget adds.
  static let zshCapture = #"""
    zmodload zsh/zpty || { print -u2 'zsh/zpty is not available'; exit 2 }
    : >| $CAPTURE_OUT
    zpty capture zsh -f -i
    zpty -w capture "source ${(q)1}"
    zpty -w -n capture "$2"$'\t'
    integer i
    for (( i = 0; i < 400; i++ )); do
      grep -qx '<done>' $CAPTURE_OUT && break
      while zpty -r -t capture junk 2>/dev/null; do :; done
      sleep 0.05
    done
    zpty -d capture
    (( i < 400 )) || { print -u2 "completion of '$2' did not finish"; exit 3 }
    grep -vx '<done>' $CAPTURE_OUT
    exit 0
    """#

  /// The interactive shell's setup: compinit, the script, and `compadd` wrapped to record matches.
  static let zshInit = #"""
    PS1= PROMPT= RPROMPT=
    cd -- $CAPTURE_DIR
    if [[ -n $CAPTURE_FPATH ]]; then fpath=($CAPTURE_FPATH $fpath); fi
    autoload -Uz compinit && compinit -u -D
    if [[ -z $CAPTURE_FPATH ]]; then source -- $CAPTURE_SCRIPT; fi
    compadd() {
      if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
      local -a __hits
      builtin compadd -A __hits "$@"
      (( $#__hits )) && print -rl -- $__hits >> $CAPTURE_OUT
      builtin compadd "$@"
    }
    __capture_done() { print -r -- '<done>' >> $CAPTURE_OUT }
    comppostfuncs=(__capture_done)
    zstyle ':completion:*' insert-tab false
    bindkey '^I' complete-word
    """#

  /// What zsh's completion offers for each command line, sorted.
  static func zshCompletions(_ script: String, _ lines: [String], fromFpath: Bool = false, in s: Sandbox) throws
    -> [[String]]
  {
    let zsh = try shell("zsh")
    let capture = s.dir.path + "/capture.zsh"
    let initFile = s.dir.path + "/init.zsh"
    try zshCapture.write(toFile: capture, atomically: true, encoding: .utf8)
    try zshInit.write(toFile: initFile, atomically: true, encoding: .utf8)
    var env = [
      "CAPTURE_OUT": s.dir.path + "/captured", "CAPTURE_DIR": s.dir.path + "/work", "CAPTURE_SCRIPT": script,
      "TERM": "dumb",
    ]
    if fromFpath {
      let functions = s.dir.path + "/functions"
      try FileManager.default.createDirectory(atPath: functions, withIntermediateDirectories: true)
      try FileManager.default.copyItem(atPath: script, toPath: functions + "/_ivkeys")
      env["CAPTURE_FPATH"] = functions
    }
    return lines.map { line in
      let r = s.exec(zsh, ["-f", capture, initFile, line], env: env)
      #expect(r.status == 0, "zsh completing '\(line)': \(r.stderr)")
      return Array(Set(r.lines)).sorted()
    }
  }

  /// Output cut at `<end>` lines, each block's lines sorted.
  static func blocks(_ out: String, count: Int) -> [[String]] {
    var result = [[String]]()
    var current = [String]()
    for line in out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      if line == "<end>" {
        result.append(current.sorted())
        current = []
      } else if !line.isEmpty {
        current.append(line)
      }
    }
    #expect(result.count == count, "expected \(count) answers, got \(result.count): \(out)")
    return result + Array(repeating: [], count: max(0, count - result.count))
  }

  // MARK: - Tests

  @Test(arguments: ["bash", "zsh", "fish"])
  func eachScriptPassesItsShellsSyntaxCheck(_ shell: String) throws {
    let s = try Self.sandbox()
    try Self.syntaxCheck(shell, try Self.script(shell, in: s), in: s)
  }

  @Test func anUnknownShellIsAUsageError() throws {
    let s = try Self.sandbox()
    let r = s.run("completion", "tcsh")
    #expect(r.status == 2)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.hasPrefix("ivkeys: error: unknown shell 'tcsh'"))
    #expect(r.stderr.contains("bash") && r.stderr.contains("zsh") && r.stderr.contains("fish"))
    #expect(s.run("completion").status == 2)
    #expect(s.run("completion", "bash", "zsh").status == 2)
  }

  @Test func generatingAScriptNeverTouchesTheVault() throws {
    let s = try Self.sandbox()
    for shell in Completion.Shell.allCases {
      #expect(s.run("completion", shell.rawValue).status == 0)
    }
    #expect(!FileManager.default.fileExists(atPath: s.vault))
    #expect(!FileManager.default.fileExists(atPath: s.secret))
  }

  @Test func everyCommandAndOptionOfTheTableIsInEachScript() throws {
    let s = try Self.sandbox()
    let bash = s.run("completion", "bash").stdout
    let zsh = s.run("completion", "zsh").stdout
    let fish = s.run("completion", "fish").stdout
    func check(_ o: OptionSpec, _ at: String) {
      #expect(bash.contains("'--\(o.long)'"), "bash lacks \(at) --\(o.long)")
      #expect(zsh.contains("--\(o.long)[") || zsh.contains("--\(o.long)=["), "zsh lacks \(at) --\(o.long)")
      #expect(fish.contains("-l '\(o.long)'"), "fish lacks \(at) --\(o.long)")
      if let short = o.short {
        #expect(bash.contains("'-\(short)'"), "bash lacks \(at) -\(short)")
        #expect(zsh.contains("-\(short)["), "zsh lacks \(at) -\(short)")
        #expect(fish.contains("-s '\(short)'"), "fish lacks \(at) -\(short)")
      }
    }
    func check(_ c: CommandSpec, _ path: String) {
      #expect(bash.contains("'\(c.name)'"), "bash lacks \(path)")
      #expect(zsh.contains("'\(c.name):"), "zsh lacks \(path)")
      let entry = Completion.fishQuote(c.name) + " " + Completion.fishQuote(c.abstract)
      #expect(fish.contains(entry), "fish lacks \(path)")
      for o in c.options { check(o, path) }
      for sub in c.subcommands { check(sub, path + " " + sub.name) }
    }
    for c in commandTable { check(c, c.name) }
    for o in globalOptions { check(o, "global") }
  }

  @Test func bashCompletesCommandsSubcommandsOptionsAndValues() throws {
    let s = try Self.sandbox()
    let script = try Self.script("bash", in: s)
    let cases: [([String], (([String]) -> Bool))] = [
      (["ivkeys", "rev"], { $0 == ["revoke"] }),
      (["ivkeys", ""], { $0 == commandTable.map(\.name).sorted() }),
      (["ivkeys", "revoke", "--"], { Set($0).isSuperset(of: ["--dry-run", "--yes", "--vault", "--reason"]) }),
      (["ivkeys", "revoke", "-"], { $0.contains("-q") && $0.contains("-h") }),
      (["ivkeys", "list", "--env", ""], { $0 == ["live", "test"] }),
      (["ivkeys", "list", "--env", "=", ""], { $0 == ["live", "test"] }),
      (["ivkeys", "list", "--env=t"], { $0 == ["--env=test"] }),
      (["ivkeys", "list", "--status", ""], { $0 == KeyStatus.allCases.map(\.rawValue).sorted() }),
      (["ivkeys", "create", "--preset", ""], { $0 == Scopes.presets.map(\.name).sorted() }),
      (["ivkeys", "create", "--type", ""], { $0 == ["ats", "regular"] }),
      (["ivkeys", "create", "--company", ""], { $0.isEmpty }),
      (["ivkeys", "show", ""], { $0.isEmpty }),
      (["ivkeys", "audit", ""], { $0 == ["export", "head", "verify"] }),
      (["ivkeys", "audit", "export", "--format", ""], { $0 == ["csv", "jsonl"] }),
      (["ivkeys", "audit", "--format", ""], { $0 == ["json", "table"] }),
      (["ivkeys", "--vault", "v.db", "audit", "--limit", "5", "ex"], { $0 == ["export"] }),
      (["ivkeys", "scopes", ""], { $0 == ["add", "list", "presets"] }),
      (["ivkeys", "usage", ""], { $0 == ["import"] }),
      (["ivkeys", "usage", "import", ""], { $0 == ["gateway.log", "notes.txt"] }),
      (["ivkeys", "scan", "notes.txt", ""], { $0 == ["gateway.log", "notes.txt"] }),
      (["ivkeys", "backup", "n"], { $0 == ["notes.txt"] }),
      (["ivkeys", "verify", "--key-file", "g"], { $0 == ["gateway.log"] }),
      (["ivkeys", "verify", "--env", ""], { $0 == ["live", "test"] }),
      (["ivkeys", "verify", "--batch", "--env", ""], { $0 == ["live", "test"] }),
      (["ivkeys", "completion", ""], { $0 == ["bash", "fish", "zsh"] }),
      (["ivkeys", "completion", "bash", ""], { $0.isEmpty }),
      (["ivkeys", "help", ""], { $0 == commandTable.map(\.name).sorted() }),
      (["ivkeys", "help", "audit", ""], { $0 == ["export", "head", "verify"] }),
      (["ivkeys", "show", "--", "--"], { $0.isEmpty }),
    ]
    let answers = try Self.bashCompletions(script, cases.map(\.0), in: s)
    for ((words, expected), answer) in zip(cases, answers) {
      #expect(expected(answer), "bash: '\(words.joined(separator: " "))' completed to \(answer)")
    }
  }

  @Test func fishCompletesCommandsSubcommandsOptionsAndValues() throws {
    let s = try Self.sandbox()
    let script = try Self.script("fish", in: s)
    let cases: [(String, ([String]) -> Bool)] = [
      ("ivkeys rev", { $0 == ["revoke"] }),
      ("ivkeys ", { $0 == commandTable.map(\.name).sorted() }),
      ("ivkeys revoke --", { Set($0).isSuperset(of: ["--dry-run", "--yes", "--vault", "--reason"]) }),
      ("ivkeys list --env ", { $0 == ["live", "test"] }),
      ("ivkeys list --env=", { $0 == ["--env=live", "--env=test"] }),
      ("ivkeys verify --env ", { $0 == ["live", "test"] }),
      ("ivkeys list --status ", { $0 == KeyStatus.allCases.map(\.rawValue).sorted() }),
      ("ivkeys create --preset ", { $0 == Scopes.presets.map(\.name).sorted() }),
      ("ivkeys create --company ", { $0.isEmpty }),
      ("ivkeys audit ", { $0 == ["export", "head", "verify"] }),
      ("ivkeys audit export --format ", { $0 == ["csv", "jsonl"] }),
      ("ivkeys audit --format ", { $0 == ["json", "table"] }),
      ("ivkeys --vault v.db audit --limit 5 ex", { $0 == ["export"] }),
      ("ivkeys usage import ", { $0 == ["gateway.log", "notes.txt"] }),
      ("ivkeys scan notes.txt ", { $0 == ["gateway.log", "notes.txt"] }),
      ("ivkeys list --vault ", { $0 == ["gateway.log", "notes.txt"] }),
      ("ivkeys show ", { $0.isEmpty }),
      ("ivkeys completion ", { $0 == ["bash", "fish", "zsh"] }),
      ("ivkeys help audit ", { $0 == ["export", "head", "verify"] }),
    ]
    let answers = try Self.fishCompletions(script, cases.map(\.0), in: s)
    for ((line, expected), answer) in zip(cases, answers) {
      #expect(expected(answer), "fish: '\(line)' completed to \(answer)")
    }
    // Abstracts and help text come along as descriptions.
    let described = s.exec(
      try Self.shell("fish"),
      ["--no-config", "-c", "source $argv[1]; complete -C 'ivkeys list --v'", script])
    #expect(described.stdout.contains("--vault\t" + globalOptions[0].help), "\(described.stdout)")
  }

  @Test(.timeLimit(.minutes(2)))
  func zshCompletesCommandsSubcommandsOptionsAndValues() throws {
    let s = try Self.sandbox()
    let script = try Self.script("zsh", in: s)
    let cases: [(String, ([String]) -> Bool)] = [
      ("ivkeys rev", { $0 == ["revoke"] }),
      ("ivkeys ", { $0 == commandTable.map(\.name).sorted() }),
      ("ivkeys revoke --", { Set($0).isSuperset(of: ["--dry-run", "--yes", "--vault", "--reason"]) }),
      ("ivkeys list --env ", { $0 == ["live", "test"] }),
      ("ivkeys list --status ", { $0 == KeyStatus.allCases.map(\.rawValue).sorted() }),
      ("ivkeys verify --env ", { $0 == ["live", "test"] }),
      ("ivkeys audit ", { $0 == ["export", "head", "verify"] }),
      ("ivkeys audit export --format ", { $0 == ["csv", "jsonl"] }),
      ("ivkeys usage import ", { $0 == ["gateway.log", "notes.txt"] }),
      ("ivkeys completion ", { $0 == ["bash", "fish", "zsh"] }),
      ("ivkeys help audit ", { $0 == ["export", "head", "verify"] }),
    ]
    let answers = try Self.zshCompletions(script, cases.map(\.0), in: s)
    for ((line, expected), answer) in zip(cases, answers) {
      #expect(expected(answer), "zsh: '\(line)' completed to \(answer)")
    }
    // Installed as _ivkeys in a directory of $fpath, as make install does.
    let autoloaded = try Self.zshCompletions(script, ["ivkeys rev", "ivkeys list --env "], fromFpath: true, in: s)
    #expect(autoloaded == [["revoke"], ["live", "test"]])
  }

  /// Help text with every character a shell treats specially, in a table of our own: each
  /// script still parses, completes the new command and option, and runs nothing.
  @Test(.timeLimit(.minutes(2)))
  func scriptsFollowTheTableAndQuoteAnyHelpText() throws {
    let s = try Self.sandbox()
    let nasty =
      #"it's "quoted" $(touch PWNED) `touch PWNED` ${HOME} [x] \ back \\ two \' q; (paren) %s ] {a,b} * ~ # end"#
    let table =
      commandTable + [
        CommandSpec(
          "frobnicate", nasty,
          arguments: [ArgumentSpec("low|high", nasty, completion: .words(["low", "high"]), presence: .optional)],
          options: [
            OptionSpec(OptionName("level"), "low|high", nasty + "\n\tsecond line"),
            OptionSpec(OptionName("loud"), short: "L", nasty),
          ],
          run: nil)
      ]
    let globals = globalOptions + [OptionSpec(OptionName("trace"), nasty)]
    var paths = [String: String]()
    for shell in Completion.Shell.allCases {
      let path = s.dir.path + "/nasty.\(shell.rawValue)"
      let script = Completion.script(for: shell, commands: table, globals: globals)
      try script.write(toFile: path, atomically: true, encoding: .utf8)
      try Self.syntaxCheck(shell.rawValue, path, in: s)
      paths[shell.rawValue] = path
    }
    let bash = try Self.bashCompletions(
      try #require(paths["bash"]),
      [
        ["ivkeys", "frob"], ["ivkeys", "frobnicate", "--level", ""], ["ivkeys", "frobnicate", "--l"],
        ["ivkeys", "frobnicate", ""], ["ivkeys", "list", "--tr"],
      ], in: s)
    #expect(bash == [["frobnicate"], ["high", "low"], ["--level", "--loud"], ["high", "low"], ["--trace"]])
    let fish = try Self.fishCompletions(
      try #require(paths["fish"]),
      [
        "ivkeys frob", "ivkeys frobnicate --level ", "ivkeys frobnicate -", "ivkeys frobnicate ",
      ], in: s)
    let options = (["--level", "--loud", "-L"] + globals.flatMap(Completion.spellings)).sorted()
    #expect(fish == [["frobnicate"], ["high", "low"], options, ["high", "low"]])
    let described = s.exec(
      try Self.shell("fish"),
      [
        "--no-config", "-c", "source $argv[1]; complete -C 'ivkeys frob'",
        try #require(paths["fish"]),
      ])
    #expect(described.stdout == "frobnicate\t\(nasty)\n", "fish shows the abstract as written: \(described.stdout)")
    let zsh = try Self.zshCompletions(
      try #require(paths["zsh"]),
      ["ivkeys frob", "ivkeys frobnicate --level ", "ivkeys frobnicate --l"], in: s)
    #expect(zsh == [["frobnicate"], ["high", "low"], ["--level", "--loud"]])
    for dir in ["", "/work", "/home"] {
      #expect(!FileManager.default.fileExists(atPath: s.dir.path + dir + "/PWNED"), "a script ran text from the table")
    }
  }

  /// A key `ID` completes to the ids in the vault ($IVKEYS_VAULT), from `ivkeys list -q`; never
  /// to keys, and a subcommand still completes beside them (`usage import`).
  @Test(.timeLimit(.minutes(2)))
  func keyIDsCompleteFromTheVault() throws {
    let s = try Sandbox()
    try FileManager.default.createDirectory(at: s.dir.appendingPathComponent("work"), withIntermediateDirectories: true)
    let k = try s.createKey()
    let binDir = URL(fileURLWithPath: Sandbox.binary).deletingLastPathComponent().path
    s.environment["PATH"] = binDir + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
    let bash = try Self.bashCompletions(
      try Self.script("bash", in: s),
      [
        ["ivkeys", "show", ""], ["ivkeys", "revoke", k.id.prefix(3).description], ["ivkeys", "usage", ""],
        ["ivkeys", "list", ""],
      ], in: s)
    #expect(bash == [[k.id], [k.id], ([k.id, "import"]).sorted(), []], "\(bash)")
    let fish = try Self.fishCompletions(try Self.script("fish", in: s), ["ivkeys show ", "ivkeys suspend "], in: s)
    #expect(fish == [[k.id], [k.id]], "\(fish)")
    let zsh = try Self.zshCompletions(
      try Self.script("zsh", in: s), ["ivkeys show ", "ivkeys rotate ", "ivkeys usage "], in: s)
    #expect(zsh == [[k.id], [k.id], [k.id, "import"].sorted()], "\(zsh)")
    let fishUsage = try Self.fishCompletions(try Self.script("fish", in: s), ["ivkeys usage "], in: s)
    #expect(fishUsage == [[k.id, "import"].sorted()], "\(fishUsage)")
    for script in ["bash", "zsh", "fish"].map({ s.run("completion", $0).stdout }) {
      #expect(script.contains("ivkeys list -q 2>/dev/null"))
    }
    // Without a vault there is nothing to offer, and no error shows.
    s.environment["IVKEYS_VAULT"] = s.dir.path + "/nowhere/vault.db"
    #expect(try Self.bashCompletions(try Self.script("bash", in: s), [["ivkeys", "show", ""]], in: s) == [[]])
  }

  /// The table is read, not copied: placeholders decide what a value completes to.
  @Test func valuesFollowThePlaceholders() throws {
    #expect(Completion.values(forPlaceholder: "live|test") == .words(["live", "test"]))
    #expect(Completion.values(forPlaceholder: "ADDR|CIDR") == .nothing)
    #expect(Completion.values(forPlaceholder: "PATH") == .files)
    #expect(Completion.values(forPlaceholder: "FILE|-") == .files)
    #expect(Completion.values(forPlaceholder: "ID") == .nothing)
    #expect(Completion.values(forPlaceholder: "STATUS") == .words(KeyStatus.allCases.map(\.rawValue)))
    let help = Completion.positionals(of: try #require(command(named: "help")))
    #expect(help.arguments == [.commands, .subcommandsOfFirstArgument] && !help.variadic)
    let scan = Completion.positionals(of: try #require(command(named: "scan")))
    #expect(scan.arguments == [.files] && scan.variadic)
  }
}
