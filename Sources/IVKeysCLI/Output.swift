import Glibc
import IVKeysCore

/// A buffered writer to a file descriptor: results go to stdout in large writes.
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
    buffer.append(contentsOf: s.utf8)
    if buffer.count >= 1 << 16 { flush() }
  }

  func write(bytes: [UInt8]) {
    buffer.append(contentsOf: bytes)
    if buffer.count >= 1 << 16 { flush() }
  }

  func line(_ s: String = "") {
    write(s)
    write("\n")
  }

  /// The first write error, as an errno value.
  private(set) var failure: Int32?

  /// Writes the buffer out. A reader that went away (EPIPE) ends the process as SIGPIPE would
  /// (the CLI ignores the signal so that this is a choice): an open transaction then never
  /// commits. Other errors are kept for `flushChecked`.
  func flush() {
    var offset = 0
    while offset < buffer.count, failure == nil {
      let n = buffer[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        let e = errno
        if e == EINTR { continue }
        if e == EPIPE {
          signal(SIGPIPE, SIG_DFL)
          raise(SIGPIPE)
        }
        failure = e
        break
      }
      offset += n
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Flushes and reports any write error so far: for output that must arrive, like new keys.
  func flushChecked(_ what: String, hint: String? = nil) throws(IVKeysError) {
    flush()
    if let failure {
      throw .io("cannot write \(what) to standard output: \(systemError(failure))", hint: hint)
    }
  }
}

/// ANSI colors, used only when stdout is a terminal and color is not turned off.
enum Color: String {
  case green = "32", yellow = "33", red = "31", cyan = "36", magenta = "35", dim = "2", bold = "1"

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
/// listing can be streamed twice from the vault instead of held in memory.
struct Table {
  let headers: [String]
  var widths: [Int]
  let useColor: Bool

  init(headers: [String], useColor: Bool) {
    self.headers = headers
    self.widths = headers.map(\.count)
    self.useColor = useColor
  }

  mutating func measure(_ row: [Cell]) {
    for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.width) }
  }

  func header() -> String {
    render(headers.map { Cell($0, useColor ? .bold : nil) })
  }

  func render(_ row: [Cell]) -> String {
    var out = ""
    for (i, c) in row.enumerated() {
      let last = i == row.count - 1
      out += useColor && c.color != nil ? c.color!.wrap(c.text) : c.text
      if !last { out += String(repeating: " ", count: max(0, widths[i] - c.width) + 2) }
    }
    return out
  }

  /// Prints rows that are all in memory.
  static func print(_ headers: [String], _ rows: [[Cell]], to out: Output, color: Bool) {
    var t = Table(headers: headers, useColor: color)
    for r in rows { t.measure(r) }
    out.line(t.header())
    for r in rows { out.line(t.render(r)) }
  }
}
