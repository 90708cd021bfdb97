import Foundation
import IVKeysCore
import Testing

// The command table and the parser live in the `ivkeys` executable target today. When the command
// layer becomes its own library target (`IVKeysCLI`), this import becomes
// `@testable import IVKeysCLI`; the names used here (`commandTable`, `globalOptions`, `CommandSpec`,
// `Parser.parse`) are the ones that move with it.
@testable import ivkeys

/// The man page, the README and the guides in docs/ stay true to the command table, the parser
/// and the repository.
@Suite("documentation")
struct DocsTests {
  static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static func read(_ path: String) throws -> String {
    try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
  }

  /// README.md and every guide under docs/, by path relative to the repository.
  static func markdownFiles() throws -> [String] {
    let docs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
      .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    return ["README.md"] + docs
  }

  // MARK: - The man page is the complete reference

  @Test func theManPageCoversEveryCommandAndOption() throws {
    let page = try Self.read("man/ivkeys.1")
    let entries = ManPage.commandEntries(page)
    func check(_ c: CommandSpec, _ path: [String]) {
      let name = path.joined(separator: " ")
      let matching = entries.filter { $0.paths.contains(path) }
      #expect(!matching.isEmpty, "man page COMMANDS has no entry for 'ivkeys \(name)'")
      // Described in the entry's body (an .It item or its prose), not only named in its header.
      let body = matching.map(\.body).joined(separator: "\n")
      for o in c.options {
        #expect(ManPage.mentions(body, option: o.long), "man page entry for 'ivkeys \(name)' does not describe --\(o.long)")
      }
      for s in c.subcommands { check(s, path + [s.name]) }
    }
    for c in commandTable { check(c, [c.name]) }
    let options = ManPage.section("OPTIONS", of: page)
    for o in globalOptions {
      #expect(options.contains(".It Fl -\(o.long)") || options.contains("Fl -\(o.long)\n"), "man page OPTIONS lacks --\(o.long)")
      if let short = o.short { #expect(options.contains("Fl \(short)"), "man page OPTIONS lacks -\(short)") }
    }
    let exit = ManPage.section("EXIT STATUS", of: page)
    for status in ["0", "1", "2", "3", "10", "11", "12"] {
      #expect(exit.contains(".It \(status)") || exit.contains(".It Li \(status)"), "man page EXIT STATUS lacks \(status)")
    }
  }

  /// The entry finder itself: a command the page does not describe is not found.
  @Test func theManPageEntryFinderFindsWhatIsThereOnly() {
    let page = """
      .Sh COMMANDS
      .Bl -tag -width Ds
      .It Nm ivkeys Cm suspend | Cm resume Ar selector
      .Bl -tag -width Ds
      .It Fl -tag Ar tag
      .El
      .It Nm ivkeys Cm scopes Op Cm list
      .It Nm ivkeys Cm audit Cm verify Op Fl -expect-head Ar head
      .El
      .Sh OPTIONS
      """
    let entries = ManPage.commandEntries(page)
    #expect(entries.map(\.paths) == [[["suspend"], ["resume"]], [["scopes"], ["scopes", "list"]], [["audit", "verify"]]])
    #expect(ManPage.mentions(entries[0].body, option: "tag"))
    #expect(!ManPage.mentions(entries[0].body, option: "ta"))
    #expect(!ManPage.mentions(entries[2].body, option: "expect-head"), "a header alone does not describe an option")
    #expect(!entries.contains { $0.paths.contains(["revoke"]) })
  }

  // MARK: - The README is a front page

  @Test func theReadmeOpensWithDemoAndTestAndStaysShort() throws {
    let readme = try Self.read("README.md")
    let head = String(readme.prefix(1200))
    #expect(head.contains("make demo"))
    #expect(head.contains("make test"))
    let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).count
    #expect(lines <= 300, "README.md has \(lines) lines; the long guides belong in docs/")
    for c in commandTable where c.name != "help" { #expect(readme.contains("ivkeys \(c.name)"), "README lacks \(c.name)") }
  }

  /// What `make test` installs is what the Makefile's TEST_DEPS says, every package named.
  @Test func theReadmeNamesEveryPackageMakeTestInstalls() throws {
    let readme = try Self.read("README.md")
    let makefile = try Self.read("Makefile")
    var vars = [String: [String]]()
    for line in makefile.split(separator: "\n") {
      let parts = line.split(separator: "=", maxSplits: 1)
      guard parts.count == 2 else { continue }
      let name = parts[0].trimmingCharacters(in: .whitespaces)
      guard name == "BUILD_DEPS" || name == "TEST_DEPS" else { continue }
      vars[name] = parts[1].split(separator: " ").flatMap { word -> [String] in
        word.hasPrefix("$(") ? vars[String(word.dropFirst(2).dropLast())] ?? [] : [String(word)]
      }
    }
    let deps = try #require(vars["TEST_DEPS"])
    #expect(deps.contains("mandoc") && deps.contains("libsqlite3-dev"), "TEST_DEPS not read from the Makefile: \(deps)")
    for p in deps { #expect(readme.contains(p), "README does not say that make test installs \(p)") }
    #expect(readme.contains("apt-get") && readme.contains("sudo"))
  }

  // MARK: - Examples

  /// Every `ivkeys …` command line in the code blocks of README.md, docs/*.md and the man page's
  /// literal blocks parses with the real parser: a misspelled command or option, a missing value,
  /// or options that cannot be combined fail here.
  @Test func everyExampleCommandLineParses() throws {
    var checked = 0
    var sources = try Self.markdownFiles().map { ($0, Examples.commandLines(markdown: try Self.read($0))) }
    sources.append(("man/ivkeys.1", Examples.commandLines(manPage: try Self.read("man/ivkeys.1"))))
    for (file, lines) in sources {
      for args in lines {
        checked += 1
        do {
          _ = try Parser.parse(args)
        } catch {
          Issue.record("\(file): 'ivkeys \(args.joined(separator: " "))' does not parse: \(error)")
        }
      }
    }
    // The extractor must find the examples, or this test checks nothing.
    #expect(checked >= 100, "only \(checked) example command lines found")
  }

  /// The extractor and the parser catch a misspelled option in each kind of block, and find the
  /// command inside pipes, `$(…)`, crontab lines and continued lines.
  @Test func aMisspelledOptionInAnExampleIsCaught() {
    let markdown = """
      ```sh
      KEY=$(ivkeys create --company acme --name "CI" --scope jobs:read -q)   # a comment: ivkeys nosuch
      printf '%s\\n' "$KEY" | ivkeys verify --company acme \\
        --scope jobs:read --ip 203.0.113.7
      ivkeys list --stauts active
      ```

      ```console
      $ ivkeys audit --limt 3
      ivkeys: hint: this output line is not a command
      ```

      ```crontab
      SHELL=/bin/bash
      0 * * * *  set -o pipefail; ivkeys sweep 2>&1 | logger -t ivkeys-sweep || echo "failed: $?"
      ```
      """
    let lines = Examples.commandLines(markdown: markdown)
    #expect(lines == [
      ["create", "--company", "acme", "--name", "CI", "--scope", "jobs:read", "-q"],
      ["verify", "--company", "acme", "--scope", "jobs:read", "--ip", "203.0.113.7"],
      ["list", "--stauts", "active"],
      ["audit", "--limt", "3"],
      ["sweep"],
    ])
    let failing = lines.filter { (try? Parser.parse($0)) == nil }
    #expect(failing == [["list", "--stauts", "active"], ["audit", "--limt", "3"]])
  }

  /// A doctor example shows the schema version this binary writes.
  @Test func schemaVersionsInExamplesAreCurrent() throws {
    var found = 0
    for file in try Self.markdownFiles() + ["man/ivkeys.1"] {
      let text = try Self.read(file)
      for pattern in [#"schema version (\d+)"#, #""schema_version":(\d+)"#] {
        let regex = try NSRegularExpression(pattern: pattern)
        for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
          let digits = (text as NSString).substring(with: m.range(at: 1))
          found += 1
          #expect(Int(digits) == Schema.currentVersion, "\(file) shows schema version \(digits); this binary writes \(Schema.currentVersion)")
        }
      }
    }
    #expect(found >= 1, "no doctor example shows a schema version")
  }

  // MARK: - Links and files

  /// Every relative link in README.md, docs/*.md and ARCHITECTURE.md points at a file in the
  /// repository, and every #anchor at a heading of that file.
  @Test func linksResolve() throws {
    for file in try Self.markdownFiles() + ["ARCHITECTURE.md"] {
      let text = try Self.read(file)
      let dir = (file as NSString).deletingLastPathComponent
      for link in try Markdown.links(text) where !link.contains("://") && !link.hasPrefix("mailto:") {
        let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let target = parts[0].isEmpty ? file : ((dir as NSString).appendingPathComponent(parts[0]) as NSString).standardizingPath
        let url = Self.root.appendingPathComponent(target)
        guard FileManager.default.fileExists(atPath: url.path) else {
          Issue.record("\(file): link '\(link)' points at \(target), which is not in the repository")
          continue
        }
        if parts.count == 2 {
          let anchors = Markdown.headingAnchors(try String(contentsOf: url, encoding: .utf8))
          #expect(anchors.contains(parts[1]), "\(file): link '\(link)': \(target) has no heading '#\(parts[1])'")
        }
      }
    }
  }

  /// The README and the guides mention no file that is not in the repository: no SPEC.md from
  /// outside it, no script or doc that was renamed.
  @Test func mentionedFilesExist() throws {
    let regex = try NSRegularExpression(pattern: #"(?<![\w/.$~-])((?:docs|man|scripts|Sources|Tests|Fuzz)/[\w./-]*\w|[\w-]+\.md)\b"#)
    var checked = 0
    for file in try Self.markdownFiles() {
      let text = try Self.read(file)
      let dir = (file as NSString).deletingLastPathComponent
      for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
        let path = (text as NSString).substring(with: m.range(at: 1))
        checked += 1
        let candidates = [path, (dir as NSString).appendingPathComponent(path)]
        #expect(candidates.contains { FileManager.default.fileExists(atPath: Self.root.appendingPathComponent($0).path) },
                "\(file) mentions \(path), which is not in the repository")
      }
    }
    #expect(checked >= 10)
  }
}

// MARK: - Reading the documents

/// The COMMANDS section of the man page, entry by entry.
enum ManPage {
  struct Entry {
    /// The command paths the entry describes: `[["suspend"], ["resume"]]`, `[["audit", "verify"]]`.
    var paths: [[String]]
    /// The entry's text after its header line.
    var body: String
  }

  /// Whether the text names `--option` as a whole name (`Fl -key` is not `Fl -key-file`).
  static func mentions(_ text: String, option long: String) -> Bool {
    var rest = Substring(text)
    while let r = rest.range(of: "Fl -\(long)") {
      let next = rest[r.upperBound...].first
      if next == nil || !(next!.isLetter || next!.isNumber || next! == "-") { return true }
      rest = rest[r.upperBound...]
    }
    return false
  }

  /// The text of a `.Sh` section, up to the next one.
  static func section(_ name: String, of page: String) -> String {
    guard let start = page.range(of: "\n.Sh \(name)\n") ?? (page.hasPrefix(".Sh \(name)\n") ? page.range(of: ".Sh \(name)\n") : nil)
    else { return "" }
    let rest = page[start.upperBound...]
    return String(rest[..<(rest.range(of: "\n.Sh ")?.lowerBound ?? rest.endIndex)])
  }

  /// Each `.It Nm ivkeys Cm …` entry of COMMANDS, with the command paths its header names.
  static func commandEntries(_ page: String) -> [Entry] {
    var entries = [Entry]()
    for line in section("COMMANDS", of: "\n" + page).split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix(".It Nm ivkeys ") {
        entries.append(Entry(paths: paths(header: String(line.dropFirst(".It Nm ivkeys ".count))), body: ""))
      } else if !entries.isEmpty {
        entries[entries.count - 1].body += line + "\n"
      }
    }
    return entries
  }

  /// `Cm suspend | Cm resume Ar selector` → suspend, resume; `Cm audit Cm verify Op …` → audit verify;
  /// `Cm scopes Op Cm list` → scopes and scopes list (the subcommand is optional).
  static func paths(header: String) -> [[String]] {
    let raw = header.split(separator: " ").map(String.init).filter { $0 != "Cm" }
    let words = raw.filter { !["Op", "Oo", "Oc"].contains($0) }
    guard let first = words.first else { return [] }
    var names = [first]
    var i = 1
    while i + 1 < words.count, words[i] == "|", command(named: words[i + 1]) != nil {
      names.append(words[i + 1])
      i += 2
    }
    if names.count == 1, i < words.count, let c = command(named: first), c.subcommands.contains(where: { $0.name == words[i] }) {
      return raw.count > 2 && raw[1] == "Op" ? [[first], [first, words[i]]] : [[first, words[i]]]
    }
    return names.map { [$0] }
  }
}

/// `ivkeys` command lines in documentation code blocks, as argument lists.
enum Examples {
  /// Fenced blocks marked sh, bash, shell, console, crontab or unmarked; in console blocks only
  /// `$ ` lines are commands.
  static func commandLines(markdown: String) -> [[String]] {
    var out = [[String]]()
    var block: (lang: String, lines: [String])?
    for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.hasPrefix("```") {
        if let b = block {
          if ["sh", "bash", "shell", "console", "crontab", ""].contains(b.lang) {
            out += commands(in: b.lines, console: b.lang == "console")
          }
          block = nil
        } else {
          block = (String(trimmed.dropFirst(3)).trimmingCharacters(in: .whitespaces), [])
        }
      } else if block != nil {
        block!.lines.append(line)
      }
    }
    return out
  }

  /// Lines of the man page's `.Bd -literal` blocks, roff escapes undone.
  static func commandLines(manPage: String) -> [[String]] {
    var out = [[String]]()
    var lines: [String]?
    for line in manPage.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      if line.hasPrefix(".Bd -literal") {
        lines = []
      } else if line.hasPrefix(".Ed"), let l = lines {
        out += commands(in: l, console: l.contains { $0.hasPrefix("$ ") })
        lines = nil
      } else if lines != nil {
        let text = line.replacingOccurrences(of: "\\e", with: "\\").replacingOccurrences(of: "\\(aq", with: "'")
          .replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\&", with: "")
        lines!.append(text)
      }
    }
    return out
  }

  /// Joins continued lines, then finds each simple command that runs `ivkeys`. A crontab entry
  /// split to fit (its schedule on the first line, the rest indented) is joined too.
  static func commands(in lines: [String], console: Bool) -> [[String]] {
    var logical = [String]()
    var pending: String?
    var inCommand = !console
    let schedule = #"^(@[a-z]+|([0-9*/,-]+\s+){5})"#
    for line in lines {
      var text = line
      if !console, pending == nil, text.first == " ", let last = logical.last,
        last.range(of: schedule, options: .regularExpression) != nil
      {
        logical[logical.count - 1] += " " + text
        continue
      }
      if pending == nil {
        if console {
          text = String(text.drop { $0 == " " })
          inCommand = text.hasPrefix("$ ")
          if inCommand { text.removeFirst(2) }
        }
        guard inCommand else { continue }
      }
      if text.hasSuffix("\\") {
        pending = (pending ?? "") + text.dropLast() + " "
      } else {
        logical.append((pending ?? "") + text)
        pending = nil
      }
    }
    if let pending { logical.append(pending) }
    return logical.flatMap { Shell.ivkeysCommands(in: $0) }
  }
}

/// Just enough of the shell to find `ivkeys` and its arguments in a documentation example.
enum Shell {
  enum Token: Equatable {
    case word(String)
    case op(String)
  }

  static func tokens(_ line: String) -> [Token] {
    var out = [Token]()
    var word = ""
    var inWord = false
    let chars = Array(line)
    var i = 0
    func flush() {
      if inWord { out.append(word == "{" || word == "}" || word == "!" ? .op(word) : .word(word)) }
      word = ""
      inWord = false
    }
    while i < chars.count {
      let c = chars[i]
      let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
      switch c {
      case " ", "\t":
        flush()
        i += 1
      case "#" where !inWord:
        return out
      case "'":
        inWord = true
        i += 1
        while i < chars.count, chars[i] != "'" {
          word.append(chars[i])
          i += 1
        }
        i += 1
      case "\"":
        inWord = true
        i += 1
        while i < chars.count, chars[i] != "\"" {
          if chars[i] == "\\", i + 1 < chars.count { i += 1 }
          word.append(chars[i])
          i += 1
        }
        i += 1
      case "\\":
        inWord = true
        if let next { word.append(next) }
        i += 2
      case "$" where next == "(", "<" where next == "(":
        flush()
        out.append(.op(String([c, "("])))
        i += 2
      case ">", "<":
        // 2>&1: the fd belongs to the redirection, not to the command's arguments.
        if inWord, word.allSatisfy(\.isNumber) {
          word = ""
          inWord = false
        }
        flush()
        var op = ""
        while i < chars.count, "<>&".contains(chars[i]) {
          op.append(chars[i])
          i += 1
        }
        out.append(.op(op))
      case "|", "&", ";", "(", ")":
        flush()
        var op = String(c)
        if let next, (c == "|" || c == "&"), next == c { op.append(next) }
        out.append(.op(op))
        i += op.count
      default:
        inWord = true
        word.append(c)
        i += 1
      }
    }
    flush()
    return out
  }

  /// Words that may come before `ivkeys` in a simple command.
  static func isPrefixWord(_ w: String) -> Bool {
    if ["coproc", "exec", "sudo", "then", "do", "else", "time", "IVKEYS"].contains(w) { return true }
    if w.range(of: #"^[A-Za-z_][A-Za-z0-9_]*="#, options: .regularExpression) != nil { return true }
    // A crontab line's schedule: 0 3 * * *, */5, 1-5, @daily.
    return w.range(of: #"^([0-9*/,-]+|@[a-z]+)$"#, options: .regularExpression) != nil
  }

  /// The arguments of each simple command in the line whose program is `ivkeys`.
  static func ivkeysCommands(in line: String) -> [[String]] {
    var commands = [[String]]()
    var current = [String]()
    var skipNext = false
    func end() {
      if let at = current.firstIndex(where: { $0 == "ivkeys" || $0.hasSuffix("/ivkeys") }),
        current[..<at].allSatisfy(isPrefixWord)
      {
        commands.append(Array(current[(at + 1)...]))
      }
      current = []
    }
    for t in tokens(line) {
      switch t {
      case let .word(w):
        if skipNext { skipNext = false } else { current.append(w) }
      case let .op(o) where o.contains(">") || (o.contains("<") && o != "<("):
        skipNext = true
      case .op:
        end()
      }
    }
    end()
    return commands
  }
}

/// Links and headings of a Markdown document.
enum Markdown {
  /// The targets of `[text](target)` links outside code blocks and code spans.
  static func links(_ text: String) throws -> [String] {
    var out = [String]()
    let regex = try NSRegularExpression(pattern: #"\]\(([^)\s]+)\)"#)
    for line in prose(text) {
      let stripped = line.replacingOccurrences(of: #"`[^`]*`"#, with: "", options: .regularExpression)
      for m in regex.matches(in: stripped, range: NSRange(stripped.startIndex..., in: stripped)) {
        out.append((stripped as NSString).substring(with: m.range(at: 1)))
      }
    }
    return out
  }

  /// GitHub's anchors for the headings: lowercase, punctuation dropped, spaces to hyphens.
  static func headingAnchors(_ text: String) -> Set<String> {
    Set(prose(text).filter { $0.hasPrefix("#") }.map { line in
      let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
      return String(title.filter { $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" || $0 == "_" }
        .map { $0 == " " ? "-" : $0 })
    })
  }

  /// The lines outside fenced code blocks.
  static func prose(_ text: String) -> [String] {
    var inCode = false
    return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { line in
      if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
        inCode.toggle()
        return false
      }
      return !inCode
    }
  }
}
