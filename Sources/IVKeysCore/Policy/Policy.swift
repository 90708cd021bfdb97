/// A per-key request budget: `N/s`, `N/m` or `N/h`.
public struct RateLimit: Equatable, Sendable, CustomStringConvertible {
  public let count: Int
  /// The window in seconds: 1, 60 or 3600.
  public let window: Int

  public init(count: Int, window: Int) {
    self.count = count
    self.window = window
  }

  /// Parses `100/m`; the count is 1 to 1,000,000,000.
  public static func parse(_ text: String) throws(ValueError) -> RateLimit {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    let expected = ValueError("expected N/s, N/m or N/h, for example 100/m")
    guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 10,
      parts[0].utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let n = Int(parts[0])
    else { throw expected }
    let window: Int
    switch parts[1] {
    case "s": window = 1
    case "m": window = 60
    case "h": window = 3600
    default: throw expected
    }
    guard n >= 1 else { throw ValueError("a rate limit allows at least 1 request") }
    guard n <= 1_000_000_000 else { throw ValueError("a rate limit is at most 1000000000 requests") }
    return RateLimit(count: n, window: window)
  }

  public var description: String { "\(count)/\(window == 1 ? "s" : window == 60 ? "m" : "h")" }
}

/// Scope names, presets and the privilege rule of SPEC.md.
public enum Scopes {
  /// The catalog a new vault is seeded with, with descriptions.
  public static let seed: [(String, String)] = [
    ("interviews:read", "read interviews"),
    ("interviews:write", "create and change interviews"),
    ("candidates:read", "read candidates"),
    ("candidates:write", "create and change candidates"),
    ("jobs:read", "read jobs"),
    ("jobs:write", "create and change jobs"),
    ("analytics:read", "read analytics"),
    ("webhooks:read", "read webhook configuration"),
    ("webhooks:write", "change webhook configuration"),
  ]

  /// Named scope sets for `--preset`.
  public static let presets: [(name: String, scopes: [String])] = [
    ("analytics-dashboard", ["analytics:read", "interviews:read", "jobs:read"]),
    ("candidate-portal", ["candidates:read", "candidates:write", "interviews:read", "interviews:write"]),
    ("full-integration", ["*"]),
    ("webhook-handler", ["webhooks:read", "webhooks:write", "interviews:read", "candidates:read"]),
  ]

  /// The scopes of a preset, or nil.
  public static func preset(_ name: String) -> [String]? { presets.first { $0.name == name }?.scopes }

  /// Whether a scope name is well formed: `resource:action`, lowercase letters, digits, `_` and `-`.
  public static func isWellFormed(_ s: String) -> Bool {
    let parts = s.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2 else { return false }
    return parts.allSatisfy { p in
      guard let first = p.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), p.count <= 64 else {
        return false
      }
      return p.utf8.allSatisfy {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
          || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
      }
    }
  }

  /// Whether a key with these scopes is high-privilege: any write or wildcard.
  public static func isHighPrivilege(_ scopes: [String]) -> Bool {
    scopes.contains { $0 == "*" || $0.hasSuffix(":*") || $0.hasSuffix(":write") }
  }

  /// Rotation policy in seconds: 90 days for high-privilege keys, 180 for read-only ones.
  public static func rotationPeriod(_ scopes: [String]) -> Int64 {
    (isHighPrivilege(scopes) ? 90 : 180) * 86400
  }

  /// Whether `granted` covers `required`: exact, `resource:*` or `*`.
  public static func grants(_ granted: [String], _ required: String) -> Bool {
    for g in granted {
      if g == "*" || g == required { return true }
      if g.hasSuffix(":*"), let colon = required.firstIndex(of: ":"), required[..<colon] == g.dropLast(2) {
        return true
      }
    }
    return false
  }
}

/// Checks for the free-form values a key carries.
public enum Fields {
  /// Refuses text holding a key in any form `Text.holdsKey` knows (whole, damaged, in another
  /// case, without its prefix, percent-encoded): names, reasons and metadata end up in the audit
  /// log, which can never be edited, and a key must never be stored.
  public static func refuseKeys(_ s: String) throws(ValueError) {
    if Text.holdsKey(s) {
      throw ValueError("it contains an API key; refer to keys by their id, never by the key itself")
    }
  }

  /// A company id: 1 to 128 printable ASCII characters, no spaces or commas (lists of companies
  /// are comma-separated).
  public static func company(_ s: String) throws(ValueError) -> String {
    guard !s.isEmpty else { throw ValueError("a company id cannot be empty") }
    guard s.utf8.count <= 128, s.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: ",") }) else {
      throw ValueError("a company id is 1 to 128 printable ASCII characters without spaces or commas")
    }
    try refuseKeys(s)
    return s
  }

  /// A tag: 1 to 64 printable ASCII characters, no spaces or commas.
  public static func tag(_ s: String) throws(ValueError) -> String {
    guard !s.isEmpty, s.utf8.count <= 64, s.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: ",") })
    else {
      throw ValueError("a tag is 1 to 64 printable ASCII characters without spaces or commas")
    }
    try refuseKeys(s)
    return s
  }

  /// A key name: not empty, at most 200 characters. Stored as given; escaped when printed.
  public static func name(_ s: String) throws(ValueError) -> String {
    guard !s.allSatisfy(\.isWhitespace) else { throw ValueError("a name cannot be empty") }
    guard s.count <= 200 else { throw ValueError("a name is at most 200 characters") }
    try refuseKeys(s)
    return s
  }

  /// A reason for suspending or revoking: not empty, at most 500 characters.
  public static func reason(_ s: String) throws(ValueError) -> String {
    guard !s.allSatisfy(\.isWhitespace) else { throw ValueError("a reason cannot be empty") }
    guard s.count <= 500 else { throw ValueError("a reason is at most 500 characters") }
    try refuseKeys(s)
    return s
  }

  /// A contact e-mail address: `local@domain`, no spaces or control characters, at most 254.
  public static func email(_ s: String) throws(ValueError) -> String {
    let parts = s.split(separator: "@", omittingEmptySubsequences: false)
    guard s.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
      !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
      s.unicodeScalars.allSatisfy({
        $0.value > 0x20 && $0.value != 0x7f && !"<>(),;:\"[]\\".unicodeScalars.contains($0)
      })
    else { throw ValueError("expected an e-mail address like ops@example.com") }
    try refuseKeys(s)
    return s
  }

  /// `K=V` metadata; the key is 1 to 64 printable ASCII characters, the value at most 1000.
  public static func metadata(_ s: String) throws(ValueError) -> (String, String) {
    guard let eq = s.firstIndex(of: "=") else { throw ValueError("expected KEY=VALUE") }
    let k = String(s[..<eq])
    let v = String(s[s.index(after: eq)...])
    try metadataKey(k)
    guard v.count <= 1000 else { throw ValueError("a metadata value is at most 1000 characters") }
    try refuseKeys(v)
    return (k, v)
  }

  /// A metadata key: 1 to 64 printable ASCII characters without `=` or `,`.
  @discardableResult
  public static func metadataKey(_ k: String) throws(ValueError) -> String {
    guard !k.isEmpty, k.utf8.count <= 64,
      k.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: ",") })
    else {
      throw ValueError("a metadata key is 1 to 64 printable ASCII characters without '=' or ','")
    }
    try refuseKeys(k)
    return k
  }

  /// An administrator's user name, as POSIX portable user names are: 1 to 64 of `A-Z a-z 0-9 . _ -`,
  /// not starting with `-`.
  public static func userName(_ s: String) throws(ValueError) -> String {
    let ok = s.utf8.allSatisfy {
      (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
        || $0 == UInt8(ascii: "-")
    }
    guard !s.isEmpty, s.utf8.count <= 64, ok, !s.hasPrefix("-") else {
      throw ValueError("a user name is 1 to 64 letters, digits, '.', '_' or '-'")
    }
    return s
  }
}
