import Glibc
import IVKeysCore

/// What a command runs with: the environment, the outputs, the chosen format and the vault.
final class Context {
  let environment: [String: String]
  let stdout: Output
  let stderr: Output
  let invocation: Invocation

  init(environment: [String: String], invocation: Invocation, stdout: Output, stderr: Output) {
    self.environment = environment
    self.invocation = invocation
    self.stdout = stdout
    self.stderr = stderr
  }

  /// The process environment, without Foundation.
  static func processEnvironment() -> [String: String] {
    var env = [String: String]()
    var p = environ
    while let entry = p.pointee {
      // Split at the first '=' in the C string's bytes: String.firstIndex(of: Character) walks
      // grapheme clusters, thousands of instructions for each variable of a long PATH.
      let start = UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self)
      let bytes = UnsafeBufferPointer(start: start, count: strlen(entry))
      if let eq = bytes.firstIndex(of: UInt8(ascii: "=")) {
        env[String(decoding: bytes[..<eq], as: UTF8.self)] = String(decoding: bytes[(eq + 1)...], as: UTF8.self)
      }
      p += 1
    }
    return env
  }

  /// An environment variable, treating empty as unset.
  func env(_ name: String) -> String? {
    guard let v = environment[name], !v.isEmpty else { return nil }
    return v
  }

  // MARK: - Output format

  enum Format { case table, json, quiet }

  /// Whether `--format` is the command's own option (`audit export`) rather than the global one.
  var formatIsCommandOption: Bool { invocation.spec?.option(named: .format) != nil }

  var format: Format {
    if invocation.flag(.quiet) { return .quiet }
    if invocation.flag(.json) || (!formatIsCommandOption && invocation.value(.format) == "json") { return .json }
    return .table
  }

  /// Checks `--format`; called once before a command runs.
  func checkFormat() throws(IVKeysError) {
    if !formatIsCommandOption, let f = invocation.value(.format), f != "json" && f != "table" {
      throw .invalidValue(option: "--format", value: f, reason: "expected table or json")
    }
  }

  /// Color only on a terminal, and never with `--no-color` or `NO_COLOR` set (no-color.org).
  var useColor: Bool {
    stdout.isTerminal && !invocation.flag(.noColor) && environment["NO_COLOR"].map(\.isEmpty) ?? true
      && env("TERM") != "dumb"
  }

  /// The width a table fits on a terminal: the window's columns, else `$COLUMNS`, else 80.
  /// Nil when stdout is not a terminal: piped output is full width.
  var tableWidth: Int? {
    guard stdout.isTerminal else { return nil }
    var size = winsize()
    if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    if let c = env("COLUMNS").flatMap({ Int($0) }), c > 0 { return c }
    return 80
  }

  // MARK: - Messages

  func warning(_ message: String) { stderr.line("ivkeys: warning: " + Text.redactKeys(message)) }
  func hint(_ message: String) { stderr.line("ivkeys: hint: " + Text.redactKeys(message)) }
  func note(_ message: String) { stderr.line("ivkeys: " + Text.redactKeys(message)) }

  // MARK: - Paths and the vault

  private func home() throws(IVKeysError) -> String {
    if let h = env("HOME") { return h }
    if let pw = getpwuid(geteuid()), let d = pw.pointee.pw_dir { return String(cString: d) }
    throw .usage("cannot find a home directory", hint: "set HOME, or pass --vault and --secret-file")
  }

  /// `--vault`, else `$IVKEYS_VAULT`, else `$XDG_DATA_HOME/ivkeys/vault.db`: a SQLite file, or a
  /// PostgreSQL URL (a password in it refused when it is on the command line).
  func vaultPath() throws(IVKeysError) -> String {
    if let v = invocation.value(.vault) {
      guard !v.isEmpty else { throw .invalidValue(option: "--vault", value: v, reason: "empty path") }
      return Self.text(try VaultLocation.parse(v, onArgv: true))
    }
    if let v = env("IVKEYS_VAULT") { return Self.text(try VaultLocation.parse(v, onArgv: false)) }
    if let x = env("XDG_DATA_HOME"), x.hasPrefix("/") { return x + "/ivkeys/vault.db" }
    return try home() + "/.local/share/ivkeys/vault.db"
  }

  static func text(_ location: VaultLocation) -> String {
    switch location {
    case .sqlite(let path): return path
    case .postgres(let url): return url
    }
  }

  /// `--secret-file`, else `$IVKEYS_SECRET_FILE`, else `$XDG_CONFIG_HOME/ivkeys/secret`.
  func secretPath() throws(IVKeysError) -> String {
    if let v = invocation.value(.secretFile) {
      guard !v.isEmpty else { throw .invalidValue(option: "--secret-file", value: v, reason: "empty path") }
      return v
    }
    if let v = env("IVKEYS_SECRET_FILE") { return v }
    if let x = env("XDG_CONFIG_HOME"), x.hasPrefix("/") { return x + "/ivkeys/secret" }
    return try home() + "/.config/ivkeys/secret"
  }

  /// Who runs this command; a key in `$IVKEYS_ACTOR` or `$SUDO_USER` is refused (exit 2).
  var actor: Actor {
    get throws(IVKeysError) { try Actor.current(environment: environment) }
  }

  /// What a command means to do with the vault.
  enum Intent {
    /// Change it: the secret file is required.
    case write
    /// Decide requests and record them (`verify`): as `write`, with the cheap schema check.
    case decide
    /// Only read it (`list`, `show`, `audit`, `audit head`, `usage ID`, `scopes list`, `admin list`): an auditor holding a copy of the vault
    /// without its secret file can read it, told what cannot be checked without the secret.
    case read
  }

  /// Opens the vault for this command; every command opens it here.
  func openVault(_ intent: Intent = .write) throws(IVKeysError) -> Vault {
    let access: VaultAccess
    switch intent {
    case .read: access = .read
    case .write: access = .write
    case .decide: access = .decide
    }
    let vault = try Vault.open(path: try vaultPath(), secretPath: try secretPath(), actor: try actor, access: access)
    for notice in vault.notices { warning(notice) }
    opened = vault
    return vault
  }

  /// The vault this command opened, for the checkpoint after its output.
  private(set) var opened: Vault?
}
