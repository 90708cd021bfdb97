import Glibc
import IVKeysCore

/// `ivkeys scan PATH…|-`: finds keys with a valid checksum in files, directory trees or standard
/// input (a unified diff counts only its added lines) and prints where each is, its id, env and
/// status in the vault, and the key masked; never the secret. Exit 3 when anything was found,
/// 0 when nothing was.
///
/// The vault is optional: CI has none. The default vault missing means no statuses (`-` in the
/// table, `null` in JSON); a vault named by `--vault` or `IVKEYS_VAULT` that is missing is an
/// error. The vault is opened read-only and needs no secret.
enum ScanCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let history = inv.flag(.git)
    let range = try history ? gitRange(inv.arguments) : nil
    let paths = history ? [] : rawPaths(inv.arguments)
    if !history {
      guard !paths.isEmpty else {
        throw .usage("'ivkeys scan' needs PATH... or --git", hint: "usage: \(Help.usageLine(path: "scan"))")
      }
      try checkPaths(paths)
    }
    let lookup = try statusLookup(inv, ctx)
    var historyFailure: IVKeysError?
    let scanner = try history ? scanHistory(range: range, ctx, failure: &historyFailure) : scan(paths, ctx)
    // A file whose name holds a key would print the secret: names are shown with keys cut
    // short, as every message is.
    let findings = scanner.findings.map { f in
      LeakScanner.Finding(
        file: Text.redactKeys(f.file), line: f.line, column: f.column, keyID: f.keyID, env: f.env,
        form: f.form, commit: f.commit)
    }
    // git failed before any key was found: its error alone, no empty report.
    if let historyFailure, findings.isEmpty { throw historyFailure }
    let statuses = try lookup?.statuses(of: findings.map(\.keyID))
    /// The status column: nil without a vault, `unknown` for an id the vault does not hold.
    let status = { (f: LeakScanner.Finding) -> String? in
      guard let statuses else { return nil }
      return statuses[f.keyID]?.rawValue ?? "unknown"
    }
    switch ctx.format {
    case .json:
      ctx.stdout.line(findings.map { ScanFinding(finding: $0, status: status($0)) }.json)
    case .quiet:
      // Each id once, in the order first found: ready for `xargs -n1 ivkeys rotate`.
      var seen = Set<String>()
      for f in findings where seen.insert(f.keyID).inserted { ctx.stdout.line(f.keyID) }
    case .table:
      let text = summary(scanner.statistics, found: findings.count, vault: lookup != nil, history: history)
      printTable(findings, status: status, summary: text, history: history, ctx)
    }
    if let historyFailure {
      // Keys found still decide the exit status; the history not read to its end is said.
      ctx.warning("the history was not read to its end: \(historyFailure.description)")
    }
    if !findings.isEmpty { return 3 }
    // A gate must not pass on what it could not read.
    let unreadable = scanner.statistics.unreadable
    if unreadable > 0 {
      CLI.report(
        "the scan is incomplete: \(plural(unreadable, "file or directory", "files or directories")) could not be read",
        hint: "the warnings above name them; fix their permissions or leave them out", to: ctx.stderr)
      return 1
    }
    return 0
  }

  /// Scans each path (`-` is stdin), with warnings, notes and progress on stderr.
  static func scan(_ paths: [[UInt8]], _ ctx: Context) throws(IVKeysError) -> LeakScanner {
    let scanner = LeakScanner()
    let progress = Progress(ctx)
    scanner.onWarning = { message in
      progress.clear()
      ctx.warning(message)
    }
    scanner.onNote = { message in
      progress.clear()
      ctx.note(message)
    }
    if ctx.stderr.isTerminal && ctx.env("TERM") != "dumb" { scanner.onProgress = { progress.update($0) } }
    for path in paths {
      if path == Array("-".utf8) {
        if case .failed(let e) = scanner.scanStream(fd: 0) {
          progress.clear()
          throw .io("cannot read standard input: \(Errno.describe(e))")
        }
      } else {
        scanner.scan(path: path)
      }
    }
    progress.clear()
    return scanner
  }

  /// `--git [RANGE]`: at most one argument, the range, which must not look like an option.
  static func gitRange(_ arguments: [String]) throws(IVKeysError) -> String? {
    guard arguments.count <= 1 else {
      throw .usage(
        "--git takes at most one RANGE, not paths",
        hint: "as in: ivkeys scan --git origin/main..HEAD (scan a checkout with 'ivkeys scan PATH')")
    }
    guard let range = arguments.first else { return nil }
    guard !range.isEmpty, !range.hasPrefix("-") else {
      throw .usage(
        "'\(Text.escapeControl(range))' is not a commit range", hint: "as in: ivkeys scan --git v1.2.0..HEAD")
    }
    return range
  }

  /// Scans the history `git log` gives for `range` (every ref without one), with progress on
  /// stderr. A git that fails is returned in `failure`, with what was found before it.
  static func scanHistory(
    range: String?, _ ctx: Context, failure: inout IVKeysError?
  ) throws(IVKeysError) -> LeakScanner {
    let scanner = LeakScanner()
    let progress = Progress(ctx)
    scanner.onNote = { message in
      progress.clear()
      ctx.note(message)
    }
    if ctx.stderr.isTerminal && ctx.env("TERM") != "dumb" { scanner.onProgress = { progress.update($0) } }
    var readError: Int32?
    let outcome = try GitHistory.run(range: range) { fd in
      if case .failed(let e) = scanner.scanHistory(fd: fd) { readError = e }
    }
    progress.clear()
    if let readError {
      failure = .io("cannot read git's output: \(Errno.describe(readError))")
    } else if outcome.status != 0 {
      failure = GitHistory.failure(outcome, range: range)
    }
    return scanner
  }

  /// The findings as a table (with a COMMIT column, abbreviated, in a scan of history), and a
  /// hint when any key still works.
  static func printTable(
    _ findings: [LeakScanner.Finding], status: (LeakScanner.Finding) -> String?, summary: String,
    history: Bool = false, _ ctx: Context
  ) {
    let rows = findings.map { f -> [Cell] in
      let s = status(f)
      let row = [
        Cell("\(f.file):\(f.line):\(f.column)"), Cell(f.keyID), Cell(f.env.rawValue),
        Cell(s ?? "-", s.flatMap(KeyStatus.init(rawValue:)).map(Color.of)), Cell(f.form.rawValue), Cell(f.masked),
      ]
      return history ? [Cell(String((f.commit ?? "-").prefix(12)))] + row : row
    }
    if !rows.isEmpty {
      Table.print(
        history ? ["COMMIT"] + headers : headers, rows, to: ctx.stdout, color: ctx.useColor, width: ctx.tableWidth)
    }
    ctx.stdout.flush()
    ctx.note(summary)
    if findings.contains(where: { status($0).map(stillValid) ?? true }) {
      ctx.hint(
        history
          ? "a key in a commit is leaked even once the file is fixed or the history rewritten: replace it at "
            + "once ('ivkeys rotate ID --grace 0', or 'ivkeys leak')"
          : "a key that reached a file or a commit is leaked: replace it at once ('ivkeys rotate ID --grace 0') "
            + "and remove it from the file")
    }
  }

  /// The table's header row.
  static let headers = ["LOCATION", "KEY ID", "ENV", "STATUS", "FORM", "KEY"]

  /// Whether a status still lets a key authenticate, now or after a `resume` (or is unknown).
  static func stillValid(_ status: String) -> Bool { !["revoked", "expired"].contains(status) }

  /// The paths as the process received them, byte for byte. Swift's `CommandLine.arguments`
  /// repairs bytes that are not UTF-8, which would name another file (or none); each argument
  /// is matched, in order, to the raw argv entry it was decoded from. One that is not found
  /// (ivkeys run in-process) is taken as written.
  static func rawPaths(_ arguments: [String]) -> [[UInt8]] {
    var raw = [[UInt8]]()
    for i in stride(from: 1, to: Int(CommandLine.argc), by: 1) {
      guard let p = CommandLine.unsafeArgv[i] else { continue }
      let bytes = UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self)
      raw.append(Array(UnsafeBufferPointer(start: bytes, count: strlen(p))))
    }
    var next = 0
    return arguments.map { argument in
      if let j = raw[min(next, raw.count)...].firstIndex(where: { String(decoding: $0, as: UTF8.self) == argument }) {
        next = j + 1
        return raw[j]
      }
      return Array(argument.utf8)
    }
  }

  /// Refuses, before anything is read, a path that does not exist (exit 2, nothing on stdout)
  /// and `-` given twice.
  static func checkPaths(_ paths: [[UInt8]]) throws(IVKeysError) {
    let stdin = Array("-".utf8)
    guard paths.filter({ $0 == stdin }).count <= 1 else {
      throw .usage("'-' (standard input) can be given once", hint: "usage: \(Help.usageLine(path: "scan"))")
    }
    for bytes in paths where bytes != stdin {
      guard !bytes.isEmpty else { throw .usage("an empty path", hint: "use '.' for the current directory") }
      var st = stat()
      let (rc, e) = DirectoryWalker.withCString(bytes) { (stat($0, &st), errno) }
      guard rc != 0 else { continue }
      let path = String(decoding: bytes, as: UTF8.self)
      let quoted = "'\(Text.escapeControl(path))'"
      if e == ENOENT || e == ENOTDIR {
        throw .usage(
          "\(quoted): no such file or directory",
          hint: "'-' reads standard input, as in: git diff --cached | ivkeys scan -")
      }
      throw .io("cannot read \(quoted): \(Errno.describe(e))")
    }
  }

  /// The vault to read statuses from, or nil when there is none at the default location.
  /// A vault named by `--vault` or `IVKEYS_VAULT` must exist.
  static func statusLookup(_ inv: Invocation, _ ctx: Context) throws(IVKeysError) -> LeakScanner.StatusLookup? {
    let explicit = inv.value(.vault) != nil || ctx.env("IVKEYS_VAULT") != nil
    // Without a home directory there is no default vault either; that is not an error here.
    guard let path = explicit ? try ctx.vaultPath() : try? ctx.vaultPath() else { return nil }
    guard VaultLocation.isPostgres(path) || FileSystem.exists(path) else {
      guard explicit else { return nil }
      throw .vault(
        "no vault at \(path)",
        hint: "scan works without a vault (no statuses): unset IVKEYS_VAULT and drop --vault, or run 'ivkeys init'")
    }
    return try LeakScanner.StatusLookup(vaultPath: path)
  }

  /// `scanned 12 files (3.4 MB), found 2 keys; 1 binary file skipped`, for stderr; in a scan of
  /// history, `scanned 152 commits (3.4 MB of diffs), …`.
  static func summary(_ s: LeakScanner.Statistics, found: Int, vault: Bool, history: Bool = false) -> String {
    var text =
      history
      ? "scanned \(plural(s.commits, "commit")) (\(size(s.bytes)) of diffs), "
      : "scanned \(plural(s.files, "file")) (\(size(s.bytes))), "
    text += found == 0 ? "found no keys" : "found \(plural(found, "key"))"
    if s.binaryFiles > 0 { text += "; \(plural(s.binaryFiles, "binary file")) skipped" }
    if s.unreadable > 0 { text += "; \(s.unreadable) could not be read" }
    if !vault && found > 0 { text += "; no vault, so no statuses" }
    return text
  }

  /// Bytes as MB (10^6) with one decimal.
  static func megabytes(_ bytes: Int64) -> String {
    let tenths = (bytes + 50_000) / 100_000
    return "\(tenths / 10).\(tenths % 10) MB"
  }

  /// Bytes in the unit that reads best: `512 bytes`, `3.4 kB`, `120.5 MB`.
  static func size(_ bytes: Int64) -> String {
    if bytes < 1000 { return bytes == 1 ? "1 byte" : "\(bytes) bytes" }
    if bytes < 999_950 {
      let tenths = (bytes + 50) / 100
      return "\(tenths / 10).\(tenths % 10) kB"
    }
    return megabytes(bytes)
  }

  /// The progress line on a terminal's stderr: shown once the scan has run half a second,
  /// redrawn at most ten times a second, erased before any other message and at the end.
  final class Progress {
    let ctx: Context
    let start = Verifier.monotonicMilliseconds()
    var last: Int64 = 0
    var shown = false

    init(_ ctx: Context) { self.ctx = ctx }

    func update(_ s: LeakScanner.Statistics) {
      let now = Verifier.monotonicMilliseconds()
      guard now - start >= 500, now - last >= 100 else { return }
      last = now
      shown = true
      ctx.stderr.write("\r\u{1b}[Kivkeys: scanning: \(plural(s.files, "file")), \(megabytes(s.bytes))")
      ctx.stderr.flush()
    }

    func clear() {
      guard shown else { return }
      shown = false
      ctx.stderr.write("\r\u{1b}[K")
      ctx.stderr.flush()
    }
  }
}
