/// Every error the library reports. Each case says what went wrong in words an administrator can
/// act on, and never holds a key, a secret or a bound SQL value.
public enum IVKeysError: Error, CustomStringConvertible, Equatable {
  /// A value given for an option is malformed or out of range (exit 2).
  case invalidValue(option: String, value: String, reason: String)
  /// The command line is wrong in a way that is not one option's value (exit 2).
  case usage(String, hint: String? = nil)
  /// The named key, administrator or scope does not exist (exit 1).
  case notFound(String, hint: String? = nil)
  /// The request clashes with the vault's state: a revoked key, an existing file (exit 1).
  case conflict(String, hint: String? = nil)
  /// The actor may not do this, for example create an ATS key without being an administrator (exit 1).
  case notPermitted(String, hint: String? = nil)
  /// The vault is missing, unreadable, newer than this binary or does not match the secret (exit 1).
  case vault(String, hint: String? = nil)
  /// The server secret file is missing, unsafe or too short (exit 1).
  case secret(String, hint: String? = nil)
  /// SQLite reported an error (exit 1).
  case sqlite(SQLiteError)
  /// The system random number generator failed (exit 1).
  case crypto(String)
  /// A file could not be read or written (exit 1).
  case io(String, hint: String? = nil)
  /// A sealed row or the schema no longer matches its seal: someone without the secret changed
  /// the vault (exit 1). Says what, never a key.
  case tampered(String)

  public var description: String {
    switch self {
    case .invalidValue(let option, let value, let reason):
      // A value holding a key is never echoed, in whatever form the key is.
      return "invalid value for \(option): '\(Text.holdsKey(value) ? "…" : Text.escapeControl(value))': \(reason)"
    case .usage(let m, _), .notFound(let m, _), .conflict(let m, _), .notPermitted(let m, _),
      .vault(let m, _), .secret(let m, _), .io(let m, _):
      return m
    case .sqlite(let e): return e.description
    case .crypto(let m): return m
    case .tampered(let what): return "the vault was changed outside ivkeys: \(what)"
    }
  }

  /// A second line telling the user what to do, when there is one.
  public var hint: String? {
    switch self {
    case .usage(_, let h), .notFound(_, let h), .conflict(_, let h), .notPermitted(_, let h),
      .vault(_, let h), .secret(_, let h), .io(_, let h):
      return h
    case .sqlite(let e): return e.hint
    case .tampered: return IVKeysError.tamperedHint
    case .invalidValue, .crypto: return nil
    }
  }

  /// The same error with another hint line (replacing any it had).
  public func adding(hint: String) -> IVKeysError {
    switch self {
    case .usage(let m, _): return .usage(m, hint: hint)
    case .notFound(let m, _): return .notFound(m, hint: hint)
    case .conflict(let m, _): return .conflict(m, hint: hint)
    case .notPermitted(let m, _): return .notPermitted(m, hint: hint)
    case .vault(let m, _): return .vault(m, hint: hint)
    case .secret(let m, _): return .secret(m, hint: hint)
    case .io(let m, _): return .io(m, hint: hint)
    case .sqlite, .crypto, .invalidValue, .tampered: return .io(description, hint: hint)
    }
  }

  /// What to do about a vault changed outside ivkeys.
  static let tamperedHint =
    "run 'ivkeys doctor' to see what changed; restore the vault from a backup that 'ivkeys doctor' passes"

  /// The process exit status SPEC.md assigns: 2 for usage errors, 1 for everything else.
  public var exitCode: Int32 {
    switch self {
    case .invalidValue, .usage: return 2
    default: return 1
    }
  }
}

/// The reason a value did not parse; callers attach the option it came from.
public struct ValueError: Error, Equatable, CustomStringConvertible {
  public let reason: String
  public init(_ reason: String) { self.reason = reason }
  public var description: String { reason }

  /// The same reason as an `IVKeysError` naming the option and the value.
  public func `for`(_ option: String, _ value: String) -> IVKeysError {
    .invalidValue(option: option, value: value, reason: reason)
  }
}
