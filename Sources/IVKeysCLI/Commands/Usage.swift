import Glibc
import IVKeysCore

/// `ivkeys usage ID` and `ivkeys usage import FILE|-`.
enum UsageCommand {
  static let show: RunFunction = { inv, ctx throws(IVKeysError) in
    guard let reference = inv.arguments.first else {
      throw .usage("'ivkeys usage' needs ID", hint: "usage: \(Help.usageLine(path: "usage"))")
    }
    let top =
      try inv.parse(.top) { (s) throws(ValueError) -> Int in
        guard let n = Int(s), n >= 1, n <= 1000, s.first != "+" else {
          throw ValueError("expected a whole number from 1 to 1000")
        }
        return n
      } ?? 5
    ShowCommand.warnIfWholeKey(reference, ctx)
    let r = try ctx.openVault(.read).usage(reference, top: top)
    switch ctx.format {
    case .quiet:
      ctx.stdout.line(String(r.requestCount))
    case .json:
      ctx.stdout.line(r.json)
    case .table:
      let rate = r.requestCount == 0 ? "-" : percent(r.errorRate)
      ctx.stdout.line("key:        \(r.keyID)  \(Text.escapeControl(r.name))")
      ctx.stdout.line("last used:  \(r.lastUsedAt.map(Time.rfc3339) ?? "never")")
      ctx.stdout.line("requests:   \(r.requestCount)")
      ctx.stdout.line("errors:     \(r.errorCount) (error rate \(rate))")
      if let budget = r.budget, let left = r.remaining { ctx.stdout.line("remaining:  \(left) of \(budget.summary)") }
      let peak = r.daily.map(\.count).max() ?? 0
      ctx.stdout.line(
        "last 30 d:  \(sparkline(r.daily.map(\.count)))  (\(r.daily.first?.name ?? "") to \(r.daily.last?.name ?? ""), peak \(peak)/day)"
      )
      printHours(r, ctx)
      if r.topEndpoints.isEmpty {
        ctx.stdout.line("endpoints:  none recorded")
      } else {
        ctx.stdout.line("")
        Table.print(
          ["ENDPOINT", "REQUESTS", "ERRORS", "ERROR RATE"],
          r.topEndpoints.map {
            [
              Cell($0.name), Cell(String($0.count)), Cell(String($0.errors)),
              Cell(percent($0.count == 0 ? 0 : Double($0.errors) / Double($0.count))),
            ]
          }, to: ctx.stdout, color: ctx.useColor, width: ctx.tableWidth)
      }
      printAddresses(r, ctx)
    }
    return 0
  }

  /// The last 24 hours as a sparkline, oldest first.
  static func printHours(_ r: UsageReport, _ ctx: Context) {
    let counts = r.hourly.map(\.requests)
    let first = r.hourly.first.map { Time.rfc3339($0.hour * 3600) } ?? ""
    let last = r.hourly.last.map { Time.rfc3339($0.hour * 3600) } ?? ""
    ctx.stdout.line(
      "last 24 h:  \(sparkline(counts))  (\(first) to \(last), peak \(counts.max() ?? 0)/hour)")
  }

  /// The source addresses, most recently seen first.
  static func printAddresses(_ r: UsageReport, _ ctx: Context) {
    guard !r.addresses.isEmpty else {
      ctx.stdout.line("addresses:  none recorded")
      return
    }
    ctx.stdout.line("")
    Table.print(
      ["ADDRESS", "FIRST SEEN", "LAST SEEN", "REQUESTS", "DENIED"],
      r.addresses.map {
        [
          Cell($0.ip), Cell(Time.rfc3339($0.firstSeen)), Cell(Time.rfc3339($0.lastSeen)), Cell(String($0.requests)),
          Cell(String($0.denied)),
        ]
      }, to: ctx.stdout, color: ctx.useColor, width: ctx.tableWidth)
  }

  static func percent(_ f: Double) -> String {
    // Counters changed by hand can make any ratio: clamped, never a trap.
    let tenths = Int((f.isFinite ? min(max(f, -1e12), 1e12) * 1000 : 0).rounded())
    return "\(tenths / 10).\(tenths % 10)%"
  }

  /// `▁▂▃▄▅▆▇█` scaled to the largest value; a day (or hour) without requests is the lowest bar.
  static func sparkline(_ values: [Int64]) -> String {
    let bars = Array("▁▂▃▄▅▆▇█")
    let peak = values.max() ?? 0
    return String(
      values.map { v in
        // A day with any request is at least the second bar, so it never looks like a day without.
        peak == 0 || v == 0 ? bars[0] : bars[max(1, min(7, Int((Double(v) / Double(peak) * 7).rounded())))]
      })
  }

  static let importLogs: RunFunction = { inv, ctx throws(IVKeysError) in
    let source = inv.arguments[0]
    let fd: Int32
    if source == "-" {
      fd = 0
    } else {
      fd = open(source, O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else { throw .io("cannot read \(source): \(Errno.current)") }
    }
    defer { if fd != 0 { close(fd) } }
    let vault = try ctx.openVault()
    var reader = LineReader(fd: fd)
    var readError: Int32?
    // nil stands for a line too long to keep; the sequence ends at end of input or on an error.
    let lines = AnySequence { () -> AnyIterator<String?> in
      AnyIterator { () -> String?? in
        while true {
          switch reader.next(timeoutMilliseconds: -1) {
          case .line(let bytes): return .some(String(decoding: bytes, as: UTF8.self))
          case .tooLong: return .some(nil)
          case .timeout: continue  // a signal interrupted the read
          case .end: return nil
          case .failed(let e):
            readError = e
            return nil
          }
        }
      }
    }
    let showProgress = ctx.stderr.isTerminal
    let result = try vault.importUsage(
      lines: lines,
      progress: showProgress
        ? { n in
          ctx.stderr.write("\rivkeys: importing: \(plural(n, "line"))")
          ctx.stderr.flush()
        } : nil)
    if showProgress { ctx.stderr.line() }
    if let e = readError {
      throw .io(
        "cannot read \(source): \(Errno.describe(e))",
        hint: "what was read is imported; importing the file again counts nothing twice")
    }
    switch ctx.format {
    case .json:
      ctx.stdout.line(result.json)
    case .quiet:
      ctx.stdout.line(String(result.imported))
    case .table:
      ctx.stdout.line(
        "imported \(plural(result.imported, "request")); \(result.duplicates) already imported, "
          + "\(result.unknownKeys) for unknown key ids, \(plural(result.bad, "bad line"))")
    }
    if result.unknownKeys > 0 {
      ctx.warning(
        "\(result.unknownKeys) \(result.unknownKeys == 1 ? "line names a key id" : "lines name key ids") this vault does not have; not counted"
      )
    }
    for (line, reason) in result.badExamples { ctx.warning("line \(line): \(reason)") }
    if result.bad > result.badExamples.count {
      ctx.warning("… and \(plural(result.bad - result.badExamples.count, "more bad line"))")
    }
    return 0
  }
}
