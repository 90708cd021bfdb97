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
    guard isPostgres(text) else { return .sqlite(path: text) }
    if onArgv && hasPassword(text) {
      throw .usage(
        "a password in the vault's URL on the command line is visible to every user of this machine",
        hint: "put it in a password file (~/.pgpass, or the file PGPASSFILE names) and leave it out of the URL")
    }
    return .postgres(url: text)
  }

  /// Whether `text` names a PostgreSQL vault (libpq takes either scheme, in any case).
  public static func isPostgres(_ text: String) -> Bool {
    let lower = text.prefix(13).lowercased()
    return lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://")
  }

  /// A URL as it may be shown: a password in it (from the environment) replaced by `***`.
  public static func masked(_ url: String) -> String {
    guard let scheme = url.firstRange(of: "://") else { return url }
    let rest = url[scheme.upperBound...]
    // The authority ends at the path's `/`; without a path, at the query's `?` (a `?` before a
    // `/` may be part of a password, which is masked whole either way).
    let slash = rest.firstIndex(of: "/")
    let authorityEnd =
      slash.map { s in rest[..<s].contains("@") ? s : (rest[..<s].firstIndex(of: "?") ?? s) }
      ?? rest.firstIndex(of: "?") ?? rest.endIndex
    var out = String(url[..<scheme.upperBound])
    let authority = rest[..<authorityEnd]
    if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
      out += authority[..<colon] + ":***" + authority[at...]
    } else {
      out += authority
    }
    let tail = rest[authorityEnd...]
    guard let q = tail.firstIndex(of: "?") else { return out + tail }
    out += tail[...q]
    out += tail[tail.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false).map { pair in
      let name = pair.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
      return percentDecoded(name).lowercased() == "password" ? name + "=***" : String(pair)
    }.joined(separator: "&")
    return out
  }

  /// `%XX` sequences decoded (as libpq decodes a URI's parameter names and values).
  static func percentDecoded(_ s: String) -> String {
    var bytes = [UInt8]()
    var it = Array(s.utf8)[...]
    while let c = it.popFirst() {
      if c == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16)
      {
        bytes.append(v)
        it = it.dropFirst(2)
      } else {
        bytes.append(c)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Whether a libpq URI carries a password: `user:password@` before the host, or a `password`
  /// parameter in its query.
  static func hasPassword(_ url: String) -> Bool {
    let chars = Array(url)
    guard let i = chars.indices.first(where: { chars[$0...].starts(with: "://") }) else { return false }
    let rest = String(chars[(i + 3)...])
    // libpq ends the authority at the first `/` only: a `?` before it is part of a password.
    let authority = rest.prefix { $0 != "/" }
    if let at = authority.lastIndex(of: "@"), authority[..<at].contains(":") { return true }
    guard let q = rest.firstIndex(of: "?") else { return false }
    return rest[rest.index(after: q)...].split(separator: "&").contains {
      // libpq's names are lower case; any case is refused, to be safe.
      percentDecoded(String($0.split(separator: "=", maxSplits: 1).first ?? "")).lowercased() == "password"
    }
  }
}
