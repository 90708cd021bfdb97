import Testing

@testable import IVKeysCLI
@testable import IVKeysCore

@Suite("the command-line parser")
struct ParserTests {
  @Test func bothValueSpellingsWork() throws {
    let a = try Parser.parse(["create", "--company=acme", "--name", "n", "--scope", "a:b"])
    #expect(a.path == ["create"])
    #expect(a.value(.company) == "acme")
    #expect(a.value(.name) == "n")
    let b = try Parser.parse(["--vault", "/v", "list", "--status=active"])
    #expect(b.value(.vault) == "/v")
    #expect(b.value(.status) == "active")
  }

  @Test func anEqualsValueMayStartWithDashes() throws {
    let a = try Parser.parse(["create", "--name=--odd", "--company", "c"])
    #expect(a.value(.name) == "--odd")
    #expect(throws: ParseError.missingValue("--name")) { try Parser.parse(["create", "--name", "--company", "c"]) }
  }

  @Test func doubleDashEndsOptions() throws {
    let a = try Parser.parse(["show", "--", "--json"])
    #expect(a.arguments == ["--json"])
    #expect(!a.flag(.json))
  }

  @Test func repeatableOptionsCollectAndSplitCommas() throws {
    let a = try Parser.parse(["create", "--scope", "a:b,c:d", "--scope", "e:f", "--tag", "x"])
    #expect(a.list(.scope) == ["a:b", "c:d", "e:f"])
    #expect(throws: ParseError.repeated("--name")) { try Parser.parse(["create", "--name", "a", "--name", "b"]) }
  }

  @Test func shortFlagsAndGroups() throws {
    #expect(try Parser.parse(["list", "-q"]).flag(.quiet))
    let g = try Parser.parse(["list", "-qh"])
    #expect(g.flag(.quiet) && g.wantsHelp)
    #expect(throws: ParseError.unknownOption("-x", command: "list", suggestion: nil)) {
      try Parser.parse(["list", "-x"])
    }
  }

  @Test func unknownThingsGetSuggestions() {
    #expect(throws: ParseError.unknownCommand("lsit", suggestion: "list")) { try Parser.parse(["lsit"]) }
    #expect(throws: ParseError.unknownCommand("rovoke", suggestion: "revoke")) { try Parser.parse(["rovoke"]) }
    #expect(throws: ParseError.unknownCommand("frobnicate", suggestion: nil)) { try Parser.parse(["frobnicate"]) }
    #expect(throws: ParseError.unknownOption("--stauts", command: "list", suggestion: "--status")) {
      try Parser.parse(["list", "--stauts", "x"])
    }
    #expect(throws: ParseError.unknownOption("--exp", command: "create", suggestion: "--expires")) {
      try Parser.parse(["create", "--exp", "x"])
    }
    #expect(throws: ParseError.unknownCommand("scopes ad", suggestion: "scopes add")) {
      try Parser.parse(["scopes", "ad"])
    }
  }

  @Test func conflictsAreNamed() {
    #expect(throws: ParseError.conflicting("--scope", "--preset")) {
      try Parser.parse(["create", "--scope", "a:b", "--preset", "p"])
    }
    #expect(throws: ParseError.conflicting("--expires", "--no-expiry")) {
      try Parser.parse(["update", "id", "--expires", "2030-01-01", "--no-expiry"])
    }
    #expect(throws: ParseError.conflicting("--json", "--quiet")) { try Parser.parse(["list", "--json", "-q"]) }
    #expect(throws: ParseError.conflicting("--json", "--format")) {
      try Parser.parse(["list", "--json", "--format", "json"])
    }
    #expect(throws: ParseError.conflicting("--format", "--quiet")) {
      try Parser.parse(["list", "--format", "json", "-q"])
    }
  }

  @Test func flagsTakeNoValueAndValuesAreRequired() {
    #expect(throws: ParseError.unexpectedValue("--json")) { try Parser.parse(["list", "--json=yes"]) }
    #expect(throws: ParseError.missingValue("--status")) { try Parser.parse(["list", "--status"]) }
  }

  @Test func argumentCountsAreChecked() {
    #expect(throws: ParseError.missingArgument("ID", command: "show")) { try Parser.parse(["show"]) }
    #expect(throws: ParseError.unexpectedArgument("b", command: "show")) { try Parser.parse(["show", "a", "b"]) }
    #expect(throws: ParseError.unexpectedArgument("x", command: "list")) { try Parser.parse(["list", "x"]) }
    #expect(throws: ParseError.missingCommand) { try Parser.parse([]) }
  }

  @Test func subcommandsResolve() throws {
    let a = try Parser.parse(["scopes", "add", "x:y", "--description", "d"])
    #expect(a.path == ["scopes", "add"])
    #expect(a.arguments == ["x:y"])
    let b = try Parser.parse(["admin"])
    #expect(b.path == ["admin"])
    #expect(throws: ParseError.unknownOption("--description", command: "scopes", suggestion: nil)) {
      try Parser.parse(["scopes", "--description", "d"])
    }
  }

  @Test func helpAndVersionNeedNothingElse() throws {
    #expect(try Parser.parse(["--help"]).wantsHelp)
    #expect(try Parser.parse(["create", "--help"]).wantsHelp)
    #expect(try Parser.parse(["--version"]).flag(.version))
  }
}

@Suite("the command table")
struct CommandTableTests {
  @Test func everyCommandHasHelpDerivedFromTheTable() {
    for c in commandTable {
      let help = Help.command([c.name])
      #expect(help.contains("usage: ivkeys \(c.name)"))
      for o in c.options { #expect(help.contains("--\(o.long)"), "\(c.name) --help lacks --\(o.long)") }
      for s in c.subcommands { #expect(help.contains(s.name)) }
      #expect(Help.overview().contains(c.name))
    }
  }

  @Test func optionNamesAreUniquePerCommand() {
    func check(_ c: CommandSpec) {
      let own = c.options.map(\.long)
      #expect(Set(own).count == own.count, "\(c.name) repeats an option")
      // A command's own option may shadow a global one only where that is the point:
      // `audit export --format jsonl|csv`.
      let shadowed = Set(own).intersection(globalOptions.map(\.long))
      #expect(shadowed.isSubset(of: ["format"]), "\(c.name) shadows \(shadowed)")
      c.subcommands.forEach(check)
    }
    commandTable.forEach(check)
  }

  /// Every command that can exit 3 is named where the overview explains exit status 3.
  @Test func theExitStatusLineNamesEveryCommandThatExits3() {
    // The two lines from "exit status:" on: status 3 and the commands that exit with it.
    let text = Help.overview().split(separator: "\n").drop { !$0.hasPrefix("exit status:") }.prefix(2)
      .joined(separator: " ")
    #expect(text.contains("3 a check found a problem ("), "\(text)")
    for command in ["expiring --check", "rotation-due --check", "audit verify", "scan", "doctor"] {
      #expect(text.contains(command), "the exit status line lacks \(command): \(text)")
    }
  }

  /// Positional arguments are data in the table: the usage line, "needs ID" and completion
  /// read them from there.
  @Test func argumentsAreDeclaredInTheTable() throws {
    #expect(Help.usageLine(path: "show") == "ivkeys show ID")
    #expect(Help.usageLine(path: "help") == "ivkeys help [COMMAND [SUBCOMMAND]]")
    #expect(Help.usageLine(path: "scan") == "ivkeys scan PATH... | - | --git [RANGE]")
    #expect(Help.usageLine(path: "suspend").hasPrefix("ivkeys suspend ID --reason TEXT | [--company ID]"))
    #expect(throws: ParseError.missingArgument("FILE|-", command: "usage import")) {
      try Parser.parse(["usage", "import"])
    }
    let scan = try #require(command(named: "scan"))
    // PATH or --git: the command checks that one is there.
    #expect(scan.minimumArguments == 0 && scan.maximumArguments > 1000)
    for name in ["show", "update", "rotate", "suspend", "resume", "revoke", "usage"] {
      let spec = try #require(command(named: name))
      #expect(spec.arguments.map(\.completion) == [.keyIDs], "\(name) ID completes to key ids")
    }
  }

  /// The global conflicts are data too, checked after a command's own.
  @Test func globalConflictsAreInTheTable() {
    #expect(
      globalConflicts.map { [$0.0.rawValue, $0.1.rawValue] } == [
        ["json", "quiet"], ["json", "format"], ["format", "quiet"],
      ])
    for (a, b) in globalConflicts {
      #expect(globalOptions.contains { $0.name == a } && globalOptions.contains { $0.name == b })
    }
  }

  /// A key where no argument belongs is refused as `--key` is, and never echoed.
  @Test func aKeyAsAnArgumentIsRefused() {
    let key = "sk_live_" + String(repeating: "a", count: 40)
    #expect(throws: ParseError.keyOnCommandLine(command: "verify")) {
      try Parser.parse(["verify", "--company", "c", "--scope", "a:b", key])
    }
    #expect(!ParseError.keyOnCommandLine(command: "verify").description.contains("sk_live"))
    #expect(throws: ParseError.unexpectedArgument("x", command: "verify")) { try Parser.parse(["verify", "x"]) }
  }

  @Test func conflictsNameRealOptions() {
    for c in commandTable {
      for (a, b) in c.conflicts {
        #expect(c.option(named: a) != nil && c.option(named: b) != nil, "\(c.name): \(a)/\(b)")
      }
    }
  }
}
