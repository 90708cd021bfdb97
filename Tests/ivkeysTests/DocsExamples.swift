import Foundation

// How the documentation tests find `ivkeys` command lines in code blocks: just enough of the shell.

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
        if let next, c == "|" || c == "&", next == c { op.append(next) }
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
      case .word(let w):
        if skipNext { skipNext = false } else { current.append(w) }
      case .op(let o) where o.contains(">") || (o.contains("<") && o != "<("):
        skipNext = true
      case .op:
        end()
      }
    }
    end()
    return commands
  }
}
