import Glibc

extension LeakScanner {
  // MARK: - Unified diffs

  /// Whether text starts like a unified diff: `diff --git`, `diff --cc`, `diff --combined` or
  /// `diff -…` (GNU `diff -ru`), or a `--- ` line followed by a `+++ ` line.
  static func looksLikeDiff(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    func starts(_ at: Int, _ prefix: StaticString) -> Bool {
      let n = prefix.utf8CodeUnitCount
      guard at + n <= b.count else { return false }
      let p = prefix.utf8Start
      for i in 0..<n where b[at + i] != p[i] { return false }
      return true
    }
    if starts(0, "diff --git ") || starts(0, "diff --cc ") || starts(0, "diff --combined ") || starts(0, "diff -") {
      return true
    }
    guard starts(0, "--- "), let nl = b.firstIndex(of: 0x0a) else { return false }
    return starts(nl + 1, "+++ ")
  }

  /// Where a diff is: the file its hunks change and the hunk being read.
  struct DiffState {
    /// The new path, from the last `+++ ` line.
    var path: String?
    /// Whether a `diff --git` header was seen (paths then carry `a/` and `b/`).
    var git = false
    var inHunk = false
    /// 1 for a plain diff; 2 or more for a combined diff (`@@@`), one column of `+`/`-` each.
    var parents = 1
    /// The line number in the new file of the next line that is in it.
    var newLine = 0
    /// Lines of the hunk not yet read, in the new file and in each parent.
    var newLeft = 0
    var oldLeft: [Int] = []
    /// In a scan of history: the commit being read, from its `commit ` line.
    var commit: String?
  }

  /// Reads a diff line by line: hunk lengths from each `@@` header tell which lines belong to
  /// the hunk, so a removed line that starts `-- ` is never mistaken for a `--- ` header.
  /// A line longer than the buffer grows it (memory is bounded by the longest line).
  func scanDiff(_ input: inout Input, _ source: Source) {
    var state = DiffState()
    var pos = 0
    while true {
      while pos < input.end, let nl = memchr(buffer + pos, 0x0a, input.end - pos) {
        let lineEnd = UnsafeMutableRawPointer(nl) - UnsafeMutableRawPointer(buffer)
        diffLine(pos, lineEnd, &state)
        pos = lineEnd + 1
      }
      if input.eof {
        if pos < input.end { diffLine(pos, input.end, &state) }
        return
      }
      if pos == 0 {
        grow(keeping: input.end)
      } else {
        buffer.update(from: buffer + pos, count: input.end - pos)
        input.end -= pos
        pos = 0
      }
      fill(&input, source)
    }
  }

  /// One diff line, `buffer[s..<e]` without its newline.
  func diffLine(_ s: Int, _ e: Int, _ d: inout DiffState) {
    if d.inHunk {
      // "\ No newline at end of file" belongs to neither side.
      if e > s && buffer[s] == UInt8(ascii: "\\") { return }
      var inNew = true
      var plus = 0
      var valid = true
      for i in 0..<d.parents {
        // Some tools strip the trailing space of an empty context line: missing columns are spaces.
        switch s + i < e ? buffer[s + i] : UInt8(ascii: " ") {
        case UInt8(ascii: " "): break
        case UInt8(ascii: "+"): plus += 1
        case UInt8(ascii: "-"): inNew = false
        default: valid = false
        }
      }
      // In history, a merge's line is new only when it is new to every parent.
      let added = history ? plus == d.parents : plus > 0
      if valid {
        if inNew && added {
          let content = min(s + d.parents, e)
          let file = d.path ?? "-"
          let line = d.newLine
          for hit in findAllKeys(from: content, from64: content, to: e, final: true).hits {
            findings.append(
              Finding(
                file: file, line: line, column: hit.at - content + 1, keyID: hit.id, env: hit.env, form: hit.form,
                commit: d.commit))
          }
        }
        if inNew {
          d.newLine += 1
          d.newLeft -= 1
        }
        // A line in the result is in each parent whose column is a space; a removed line is in
        // each parent whose column is a `-`.
        let inParent = inNew ? UInt8(ascii: " ") : UInt8(ascii: "-")
        for i in 0..<d.parents where (s + i < e ? buffer[s + i] : UInt8(ascii: " ")) == inParent {
          d.oldLeft[i] -= 1
        }
        if d.newLeft <= 0 && d.oldLeft.allSatisfy({ $0 <= 0 }) { d.inHunk = false }
        return
      }
      // A hunk shorter than its header said: read the line as a header.
      d.inHunk = false
    }
    var e = e
    if e > s && buffer[e - 1] == 0x0d { e -= 1 }
    let line = UnsafeBufferPointer(start: buffer + s, count: e - s)
    func starts(_ prefix: StaticString) -> Bool {
      let n = prefix.utf8CodeUnitCount
      guard n <= line.count else { return false }
      for i in 0..<n where line[i] != prefix.utf8Start[i] { return false }
      return true
    }
    if history && starts("commit ") {
      d.commit = String(decoding: line[7...].prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self)
      d.path = nil
      d.git = false
      statistics.commits += 1
    } else if starts("diff --git ") || starts("diff --cc ") || starts("diff --combined ") {
      d.git = true
      d.path = nil
    } else if starts("diff ") {
      d.path = nil
    } else if starts("+++ ") {
      d.path = Self.diffPath(UnsafeBufferPointer(rebasing: line[4...]), git: d.git)
    } else if starts("@@"), let hunk = Self.hunkHeader(line) {
      d.parents = hunk.old.count
      d.oldLeft = hunk.old
      d.newLine = hunk.newStart
      d.newLeft = hunk.newCount
      d.inHunk = hunk.newCount > 0 || hunk.old.contains { $0 > 0 }
    }
  }

  /// The path on a `+++ ` line: git's C-style quoting undone, a `diff -u` timestamp (after a
  /// tab) cut off, and git's `b/` prefix dropped.
  static func diffPath(_ b: UnsafeBufferPointer<UInt8>, git: Bool) -> String {
    var out = [UInt8]()
    if b.first == UInt8(ascii: "\"") {
      var i = 1
      while i < b.count && b[i] != UInt8(ascii: "\"") {
        guard b[i] == UInt8(ascii: "\\"), i + 1 < b.count else {
          out.append(b[i])
          i += 1
          continue
        }
        let c = b[i + 1]
        i += 2
        switch c {
        case UInt8(ascii: "n"): out.append(0x0a)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "r"): out.append(0x0d)
        case UInt8(ascii: "a"): out.append(0x07)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0c)
        case UInt8(ascii: "v"): out.append(0x0b)
        case UInt8(ascii: "0")...UInt8(ascii: "3"):
          // Three octal digits: a byte of a name that is not printable ASCII.
          var v = Int(c - UInt8(ascii: "0"))
          for _ in 0..<2 where i < b.count && (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(b[i]) {
            v = v * 8 + Int(b[i] - UInt8(ascii: "0"))
            i += 1
          }
          out.append(UInt8(truncatingIfNeeded: v))
        default: out.append(c)
        }
      }
    } else {
      out = Array(b.prefix { $0 != 0x09 })
    }
    if git && out.starts(with: [UInt8(ascii: "b"), UInt8(ascii: "/")]) { out.removeFirst(2) }
    return String(decoding: out, as: UTF8.self)
  }

  /// `@@ -a,b +c,d @@` (or `@@@ -a,b -c,d +e,f @@@` for a combined diff): each parent's line
  /// count and the new file's start and count. A count left out is 1.
  static func hunkHeader(_ b: UnsafeBufferPointer<UInt8>) -> (old: [Int], newStart: Int, newCount: Int)? {
    var i = 0
    while i < b.count && b[i] == UInt8(ascii: "@") { i += 1 }
    let parents = i - 1
    guard parents >= 1 else { return nil }
    func number() -> Int? {
      var v = 0
      var digits = 0
      while i < b.count, let d = Optional(b[i]), d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") {
        guard v < Int.max / 10 - 10 else { return nil }
        v = v * 10 + Int(d - UInt8(ascii: "0"))
        digits += 1
        i += 1
      }
      return digits > 0 ? v : nil
    }
    func range(_ sign: UInt8) -> (start: Int, count: Int)? {
      guard i + 1 < b.count, b[i] == UInt8(ascii: " "), b[i + 1] == sign else { return nil }
      i += 2
      guard let start = number() else { return nil }
      var count = 1
      if i < b.count && b[i] == UInt8(ascii: ",") {
        i += 1
        guard let c = number() else { return nil }
        count = c
      }
      return (start, count)
    }
    var old = [Int]()
    for _ in 0..<parents {
      guard let r = range(UInt8(ascii: "-")) else { return nil }
      old.append(r.count)
    }
    guard let new = range(UInt8(ascii: "+")) else { return nil }
    return (old, new.start, new.count)
  }
}
