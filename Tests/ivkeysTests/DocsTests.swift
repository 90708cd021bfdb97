import Foundation
import Testing
@testable import IVKeysCLI

/// The man page and README stay true to the command table.
@Suite("documentation")
struct DocsTests {
  static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  @Test func theManPageCoversEveryCommandAndOption() throws {
    let page = try String(contentsOf: Self.root.appendingPathComponent("man/ivkeys.1"), encoding: .utf8)
    func check(_ c: CommandSpec, _ path: String) {
      #expect(page.contains("Cm \(c.name)"), "man page lacks the command \(path)")
      for o in c.options { #expect(page.contains("Fl -\(o.long)"), "man page lacks \(path) --\(o.long)") }
      for s in c.subcommands { check(s, path + " " + s.name) }
    }
    for c in commandTable { check(c, c.name) }
    for o in globalOptions { #expect(page.contains("Fl -\(o.long)"), "man page lacks --\(o.long)") }
    for status in ["0", "1", "2"] { #expect(page.contains(".It \(status)") || page.contains("It Li \(status)")) }
  }

  @Test func theReadmeOpensWithDemoAndTest() throws {
    let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
    let head = String(readme.prefix(1200))
    #expect(head.contains("make demo"))
    #expect(head.contains("make test"))
    for c in commandTable where c.name != "help" { #expect(readme.contains("ivkeys \(c.name)"), "README lacks \(c.name)") }
  }
}
