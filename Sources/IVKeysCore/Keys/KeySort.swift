/// A field `list --sort` orders keys by.
public enum KeySortField: String, CaseIterable, Sendable {
  case id, name, company, env, type, status
  case createdAt = "created_at"
  case expiresAt = "expires_at"
  case lastUsedAt = "last_used_at"
  case requestCount = "request_count"
  case errorCount = "error_count"

  /// Shorter names a user may type for the same fields.
  public static let aliases: [String: KeySortField] = [
    "created": .createdAt, "expires": .expiresAt, "last_used": .lastUsedAt, "requests": .requestCount,
    "errors": .errorCount,
  ]
}

/// How `list --sort` orders keys: by one field, ascending unless `descending`; ties in creation
/// order. Ascending, keys never used come first by `last_used_at` and keys without an expiry
/// last by `expires_at`; descending is the exact reverse (ties still in creation order).
public struct KeySort: Sendable, Equatable {
  public var field: KeySortField
  public var descending: Bool

  public init(_ field: KeySortField, descending: Bool = false) {
    self.field = field
    self.descending = descending
  }

  /// Parses `FIELD` or `-FIELD` (descending); the field by its name or an alias.
  public static func parse(_ text: String) throws(ValueError) -> KeySort {
    let descending = text.hasPrefix("-")
    let name = descending ? String(text.dropFirst()) : text
    guard let field = KeySortField(rawValue: name) ?? KeySortField.aliases[name] else {
      let names = KeySortField.allCases.map(\.rawValue)
      let suggestion = Text.suggestion(for: name, among: names + KeySortField.aliases.keys.sorted())
      throw ValueError(
        "expected one of \(names.joined(separator: ", ")), or -FIELD for descending order"
          + (suggestion.map { "; did you mean '\(descending ? "-" : "")\($0)'?" } ?? ""))
    }
    return KeySort(field, descending: descending)
  }
}
