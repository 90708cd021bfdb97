import Glibc
import IVKeysCore

/// A buffered writer to a file descriptor: results go to stdout in large writes.
///
/// A write that fails (a full disk, `/dev/full`, a reader that went away: the CLI ignores
/// SIGPIPE, so a closed pipe is the error EPIPE rather than death) is kept as `failure`, and
/// everything written after it is dropped: a command streaming into a dead pipe stops paying
/// for output nobody can read. `CLI.main` turns a failure into exit status 1 once the command is
/// done (`flushChecked` does so earlier, for output that must arrive, like new keys).
final class Output {
  private let fd: Int32
  private var buffer: [UInt8] = []
  /// Whether the descriptor is a terminal.
  let isTerminal: Bool

  init(fd: Int32) {
    self.fd = fd
    self.isTerminal = isatty(fd) == 1
    buffer.reserveCapacity(1 << 16)
  }

  func write(_ s: String) {
    guard failure == nil else { return }
    buffer.append(contentsOf: s.utf8)
    if buffer.count >= 1 << 16 { flush() }
  }

  func write(bytes: [UInt8]) {
    guard failure == nil else { return }
    buffer.append(contentsOf: bytes)
    if buffer.count >= 1 << 16 { flush() }
  }

  func line(_ s: String = "") {
    write(s)
    write("\n")
  }

  /// The first write error, as an errno value.
  private(set) var failure: Int32?

  /// Writes the buffer out. An error is kept in `failure` and ends all further writing.
  func flush() {
    var offset = 0
    while offset < buffer.count, failure == nil {
      let n = buffer[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        let e = errno
        if e == EINTR { continue }
        failure = e
        break
      }
      offset += n
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// The error for a write failure: `cannot write to standard output: No space left on device`,
  /// or with `what` named (`cannot write the audit log to standard output: …`).
  static func writeError(_ failure: Int32, what: String? = nil, hint: String? = nil) -> IVKeysError {
    .io("cannot write \(what.map { $0 + " " } ?? "")to standard output: \(Errno.describe(failure))", hint: hint)
  }

  /// Flushes and reports any write error so far: for output that must arrive, like new keys.
  func flushChecked(_ what: String? = nil, hint: String? = nil) throws(IVKeysError) {
    flush()
    if let failure { throw Output.writeError(failure, what: what, hint: hint) }
  }
}

/// ANSI colors, used only when stdout is a terminal and color is not turned off.
enum Color: String {
  case green = "32"
  case yellow = "33"
  case red = "31"
  case cyan = "36"
  case magenta = "35"
  case dim = "2"
  case bold = "1"

  func wrap(_ s: String) -> String { "\u{1b}[\(rawValue)m\(s)\u{1b}[0m" }

  /// The color for a key status.
  static func of(_ status: KeyStatus) -> Color {
    switch status {
    case .active: return .green
    case .suspended: return .yellow
    case .rotating: return .cyan
    case .revoked: return .red
    case .expired: return .magenta
    }
  }
}

/// One table cell: text, already free of control characters, and an optional color.
struct Cell {
  let text: String
  let color: Color?

  init(_ text: String, _ color: Color? = nil) {
    self.text = Text.escapeControl(text)
    self.color = color
  }

  var width: Int { text.unicodeScalars.count }
}

/// An aligned text table. Widths come from a first pass over the rows (`measure`), so a long
/// listing can be streamed twice from the vault instead of held in memory. Given a width (a
/// terminal's), the widest text columns are cut to fit, each cut cell ending in `…`; ids, keys,
/// times and counts are never cut.
struct Table {
  let headers: [String]
  var widths: [Int]
  let useColor: Bool
  /// The width to fit, or nil for full width (output that is not a terminal).
  let limit: Int?

  /// The columns whose text may be cut to fit a terminal.
  static let textColumns: Set<String> = [
    "NAME", "COMPANY", "SCOPES", "CONTACT", "EVENT", "ACTOR", "DETAIL", "WHY", "ENDPOINT",
  ]

  init(headers: [String], useColor: Bool, width: Int? = nil) {
    self.headers = headers
    self.widths = headers.map(\.count)
    self.useColor = useColor
    self.limit = width
  }

  mutating func measure(_ row: [Cell]) {
    for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.width) }
  }

  /// The widths once the table fits its limit (the measured widths when it has none).
  var fittedWidths: [Int] {
    guard let limit else { return widths }
    return Table.fit(
      widths, cuttable: headers.map { Table.textColumns.contains($0) }, minimums: headers.map(\.count),
      to: limit)
  }

  /// Narrows the widest cuttable column, one character at a time, until the row (columns two
  /// spaces apart) fits `limit` or no cuttable column is wider than its minimum.
  static func fit(_ widths: [Int], cuttable: [Bool], minimums: [Int], to limit: Int) -> [Int] {
    var w = widths
    var excess = w.reduce(0, +) + 2 * max(0, w.count - 1) - limit
    while excess > 0 {
      let candidates = w.indices.filter { cuttable[$0] && w[$0] > max(minimums[$0], 4) }
      guard let widest = candidates.max(by: { w[$0] < w[$1] }) else { break }
      w[widest] -= 1
      excess -= 1
    }
    return w
  }

  /// The header row, once every row is measured: from here on the widths fit the limit.
  mutating func header() -> String {
    widths = fittedWidths
    return render(headers.map { Cell($0, useColor ? .bold : nil) })
  }

  func render(_ row: [Cell]) -> String {
    var out = ""
    for (i, c) in row.enumerated() {
      let last = i == row.count - 1
      var text = c.text
      var width = c.width
      if i < widths.count, width > widths[i] {
        text = String(String.UnicodeScalarView(text.unicodeScalars.prefix(widths[i] - 1))) + "…"
        width = widths[i]
      }
      out += useColor && c.color != nil ? c.color!.wrap(text) : text
      if !last { out += String(repeating: " ", count: max(0, widths[i] - width) + 2) }
    }
    return out
  }

  /// Prints rows that are all in memory.
  static func print(_ headers: [String], _ rows: [[Cell]], to out: Output, color: Bool, width: Int? = nil) {
    var t = Table(headers: headers, useColor: color, width: width)
    for r in rows { t.measure(r) }
    out.line(t.header())
    for r in rows { out.line(t.render(r)) }
  }
}
