/// Where a vault is: a SQLite file, or a PostgreSQL database named by a `postgresql://` or
/// `postgres://` URL (libpq's URI form; its settings, such as `PGPASSFILE`, `PGSSLMODE` and
/// `PGSERVICE`, apply as for `psql`).
public enum VaultLocation: Equatable, Sendable {
  case sqlite(path: String)
  case postgres(url: String)

  /// Reads `--vault` or `$IVKEYS_VAULT`. A URL with a password is refused when it came from the
  /// command line (`onArgv`), which every user of the machine can read (`ps`): the password
  /// belongs in a password file.
  public static func parse(_ text: String, onArgv: Bool) throws(IVKeysError) -> VaultLocation {
    let lower = text.lowercased()
    guard lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") else { return .sqlite(path: text) }
    if onArgv && hasPassword(text) {
      throw .usage(
        "a password in the vault's URL on the command line is visible to every user of this machine",
        hint: "put it in a password file (~/.pgpass, or the file PGPASSFILE names) and leave it out of the URL")
    }
    return .postgres(url: text)
  }

  /// Whether a libpq URI carries a password: `user:password@` before the host, or a `password`
  /// parameter in its query.
  static func hasPassword(_ url: String) -> Bool {
    let chars = Array(url)
    guard let i = chars.indices.first(where: { chars[$0...].starts(with: "://") }) else { return false }
    let rest = String(chars[(i + 3)...])
    let authority = rest.prefix { $0 != "/" && $0 != "?" }
    if let at = authority.lastIndex(of: "@"), authority[..<at].contains(":") { return true }
    guard let q = rest.firstIndex(of: "?") else { return false }
    return rest[rest.index(after: q)...].split(separator: "&").contains {
      $0.split(separator: "=", maxSplits: 1).first?.lowercased() == "password"
    }
  }
}
