import Foundation
import Testing

// The command table and the parser live in the command layer's library target.
@testable import IVKeysCLI
@testable import IVKeysCore

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
        #expect(
          ManPage.mentions(body, option: o.long), "man page entry for 'ivkeys \(name)' does not describe --\(o.long)")
      }
      for s in c.subcommands { check(s, path + [s.name]) }
    }
    for c in commandTable { check(c, [c.name]) }
    let options = ManPage.section("OPTIONS", of: page)
    for o in globalOptions {
      #expect(
        options.contains(".It Fl -\(o.long)") || options.contains("Fl -\(o.long)\n"),
        "man page OPTIONS lacks --\(o.long)")
      if let short = o.short { #expect(options.contains("Fl \(short)"), "man page OPTIONS lacks -\(short)") }
    }
    let exit = ManPage.section("EXIT STATUS", of: page)
    for status in ["0", "1", "2", "3", "10", "11", "12"] {
      #expect(
        exit.contains(".It \(status)") || exit.contains(".It Li \(status)"), "man page EXIT STATUS lacks \(status)")
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
    #expect(
      entries.map(\.paths) == [[["suspend"], ["resume"]], [["scopes"], ["scopes", "list"]], [["audit", "verify"]]])
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
    for c in commandTable where c.name != "help" {
      #expect(readme.contains("ivkeys \(c.name)"), "README lacks \(c.name)")
    }
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

  /// `verify` needs the environment the caller serves; an example that leaves it out would fail
  /// with exit 2 when pasted, so every one says `--env`.
  @Test func everyVerifyExampleSaysWhichEnvironmentItServes() throws {
    var sources = try Self.markdownFiles().map { ($0, Examples.commandLines(markdown: try Self.read($0))) }
    sources.append(("man/ivkeys.1", Examples.commandLines(manPage: try Self.read("man/ivkeys.1"))))
    var verifies = 0
    for (file, lines) in sources {
      for args in lines {
        guard let inv = try? Parser.parse(args), inv.path == ["verify"], !inv.flag(.help) else { continue }
        verifies += 1
        let saysEnv = inv.flag(.env)
        #expect(saysEnv, "\(file): 'ivkeys \(args.joined(separator: " "))' does not say --env")
      }
    }
    #expect(verifies >= 8, "only \(verifies) verify examples found")
  }

  /// The extractor and the parser catch a misspelled option in each kind of block, and find the
  /// command inside pipes, `$(…)`, crontab lines and continued lines.
  @Test func aMisspelledOptionInAnExampleIsCaught() {
    let markdown = """
      ```sh
      KEY=$(ivkeys create --company acme --name "CI" --scope jobs:read -q)   # a comment: ivkeys nosuch
      printf '%s\\n' "$KEY" | ivkeys verify --env live --company acme \\
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
    #expect(
      lines == [
        ["create", "--company", "acme", "--name", "CI", "--scope", "jobs:read", "-q"],
        ["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read", "--ip", "203.0.113.7"],
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
          #expect(
            Int(digits) == SQLiteSchema.currentVersion,
            "\(file) shows schema version \(digits); this binary writes \(SQLiteSchema.currentVersion)")
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
        let target =
          parts[0].isEmpty ? file : ((dir as NSString).appendingPathComponent(parts[0]) as NSString).standardizingPath
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
    var checked = 0
    for file in try Self.markdownFiles() {
      let dir = (file as NSString).deletingLastPathComponent
      for path in Markdown.mentionedPaths(try Self.read(file)) {
        checked += 1
        let candidates = [path, (dir as NSString).appendingPathComponent(path)].map {
          Self.root.appendingPathComponent($0).standardizedFileURL.path
        }
        #expect(
          candidates.contains { FileManager.default.fileExists(atPath: $0) },
          "\(file) mentions \(path), which is not in the repository")
      }
    }
    #expect(checked >= 10)
  }

  /// What counts as a mention of a file: a Markdown file, a path into the repository's folders,
  /// or anything reached through `../`.
  @Test func mentionedPathsAreFound() {
    let text = "See ../shared/SPEC.md, docs/cron.md#sweep and `scripts/demo.sh`; not example.com or docs/."
    #expect(Markdown.mentionedPaths(text) == ["../shared/SPEC.md", "docs/cron.md", "scripts/demo.sh"])
  }
}
