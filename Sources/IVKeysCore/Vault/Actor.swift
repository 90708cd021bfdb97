import Glibc

/// Who is running ivkeys, as the audit log records it.
///
/// `osUser` is the effective user from the password database: it decides administrator rights,
/// since environment variables are anyone's to set. `actor` names the person: the OS user, or
/// under sudo `root (sudo alice)`, with a name claimed through `$IVKEYS_ACTOR` beside it
/// (`alice (claims deploy-bot)`), never in place of it.
public struct Actor: Sendable, Equatable {
  public let osUser: String
  public let actor: String

  public init(osUser: String, sudoUser: String? = nil, claimed: String? = nil) {
    self.osUser = osUser
    var a = osUser
    if let sudoUser, !sudoUser.isEmpty, sudoUser != osUser { a += " (sudo \(sudoUser))" }
    if let claimed, !claimed.isEmpty { a += " (claims \(claimed))" }
    self.actor = a
  }

  /// The user running this process, from `geteuid()`, `$SUDO_USER` and `$IVKEYS_ACTOR`.
  ///
  /// The actor goes into every audit entry, which can never be edited: a variable holding a key
  /// in any form (`Text.holdsKey`) is refused, never recorded, masked or cut.
  public static func current(environment: [String: String]) throws(IVKeysError) -> Actor {
    for name in ["IVKEYS_ACTOR", "SUDO_USER"] where environment[name].map(Text.holdsKey) ?? false {
      throw .usage(
        "$\(name) contains an API key; the actor is recorded in the audit log, which can never be edited",
        hint: "set \(name) to a name (or unset it), and rotate the key it held")
    }
    let uid = geteuid()
    var name = "uid \(uid)"
    if let n = passwdFileName(uid) {
      name = n
    } else if let pw = getpwuid(uid), let n = pw.pointee.pw_name {
      name = String(cString: n)
    }
    let sudo = uid == 0 ? environment["SUDO_USER"] : nil
    // A claimed name is free text from the environment: control characters dropped, a key masked.
    let claimed = environment["IVKEYS_ACTOR"].map {
      Text.redactKeys(
        String(String.UnicodeScalarView($0.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.prefix(64))))
    }
    return Actor(osUser: name, sudoUser: sudo, claimed: claimed)
  }

  /// The user's name from /etc/passwd, read directly: `getpwuid` goes through NSS, which loads
  /// shared libraries and costs a per-request `verify` about a millisecond. Users that only a
  /// directory service knows fall back to `getpwuid`.
  static func passwdFileName(_ uid: uid_t) -> String? {
    guard let f = fopen("/etc/passwd", "re") else { return nil }
    defer { fclose(f) }
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    defer { free(line) }
    let wanted = String(uid)
    while getline(&line, &capacity, f) > 0, let line {
      let fields = String(cString: line).split(separator: ":", omittingEmptySubsequences: false)
      if fields.count > 2, fields[2] == wanted, !fields[0].isEmpty { return String(fields[0]) }
    }
    return nil
  }
}
