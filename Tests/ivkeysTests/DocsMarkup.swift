import Foundation

@testable import IVKeysCLI

// How the documentation tests read the man page and Markdown: entries of COMMANDS, links, headings.

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
    guard
      let start = page.range(of: "\n.Sh \(name)\n")
        ?? (page.hasPrefix(".Sh \(name)\n") ? page.range(of: ".Sh \(name)\n") : nil)
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
    if names.count == 1, i < words.count, let c = command(named: first),
      c.subcommands.contains(where: { $0.name == words[i] })
    {
      return raw.count > 2 && raw[1] == "Op" ? [[first], [first, words[i]]] : [[first, words[i]]]
    }
    return names.map { [$0] }
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
    Set(
      prose(text).filter { $0.hasPrefix("#") }.map { line in
        let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
        return String(
          title.filter { $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" || $0 == "_" }
            .map { $0 == " " ? "-" : $0 })
      })
  }

  /// Paths the text mentions: runs of path characters that end in `.md`, start with one of the
  /// repository's folders, or start with `../`.
  static func mentionedPaths(_ text: String) -> [String] {
    let folders = ["docs/", "man/", "scripts/", "Sources/", "Tests/", "Fuzz/", "../"]
    var out = [String]()
    var token = ""
    func end() {
      while token.hasSuffix(".") || token.hasSuffix("/") { token.removeLast() }
      if token.hasSuffix(".md") || folders.contains(where: { token.hasPrefix($0) && token.count > $0.count }) {
        out.append(token)
      }
      token = ""
    }
    for c in text {
      if c.isLetter || c.isNumber || "_./-".contains(c) { token.append(c) } else { end() }
    }
    end()
    return out
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
