/// The vault's tables and columns as both engines hold them, in the order `vault copy` fills
/// them, for copying whole rows between engines. Column names and kinds are SQLite's (schema
/// version 6); the PostgreSQL engine keeps a key's usage columns (`request_count`,
/// `error_count`, `last_used_at`, `last_ip`) in `key_usage`, and maps them there.
public enum VaultTables {
  /// How a column is stored: SQLite's storage class, PostgreSQL's `text`, `bigint` or `bytea`.
  public enum Kind: Sendable { case text, int, blob }

  public struct Table: Sendable {
    public let name: String
    public let columns: [(name: String, kind: Kind)]
    init(_ name: String, _ columns: [(String, Kind)]) {
      self.name = name
      self.columns = columns.map { (name: $0.0, kind: $0.1) }
    }
  }

  /// A test fails when a migration adds a table or column that is not here.
  public static let all: [Table] = [
    Table("meta", [("name", .text), ("value", .text), ("seal", .blob)]),
    Table(
      "secret_versions",
      [("version", .int), ("fingerprint", .text), ("added_at", .int), ("retired_at", .int), ("seal", .blob)]),
    Table(
      "scopes", [("name", .text), ("description", .text), ("added_at", .int), ("added_by", .text), ("seal", .blob)]),
    Table("admins", [("user", .text), ("added_at", .int), ("added_by", .text), ("seal", .blob)]),
    Table(
      "keys",
      [
        ("id", .text), ("env", .text), ("type", .text), ("company", .text), ("linked_companies", .text),
        ("name", .text), ("digest", .blob), ("scopes", .text), ("allowed_ips", .text), ("expires_at", .int),
        ("rate_limit", .text), ("metadata", .text), ("tags", .text), ("contact", .text), ("status", .text),
        ("status_reason", .text), ("created_at", .int), ("created_by", .text), ("rotated_from", .text),
        ("replaced_by", .text), ("grace_until", .int), ("last_used_at", .int), ("request_count", .int),
        ("error_count", .int), ("secret_version", .int), ("seal", .blob), ("last_ip", .text),
      ]),
    Table(
      "audit",
      [
        ("seq", .int), ("at", .text), ("event", .text), ("actor", .text), ("os_user", .text), ("key_id", .text),
        ("company", .text), ("ip", .text), ("detail", .text), ("prev_hash", .text), ("hash", .text),
      ]),
    Table("usage_endpoints", [("key_id", .text), ("endpoint", .text), ("count", .int), ("errors", .int)]),
    Table("usage_daily", [("key_id", .text), ("day", .text), ("count", .int), ("errors", .int)]),
    Table(
      "usage_hourly",
      [
        ("key_id", .text), ("hour", .int), ("ip", .text), ("requests", .int), ("errors", .int), ("denied", .int),
        ("refused", .int), ("first_seen", .int), ("last_seen", .int),
      ]),
    Table("rate_windows", [("key_id", .text), ("log", .blob)]),
    Table("request_budgets", [("key_id", .text), ("remaining", .int), ("refilled_at", .int)]),
    Table("imported_requests", [("key_id", .text), ("request_id", .text), ("at", .int)]),
    Table(
      "notifications",
      [
        ("key_id", .text), ("expires_at", .int), ("recipient", .text), ("message_id", .text), ("claimed_at", .int),
        ("sent_at", .int),
      ]),
    Table(
      "working_hours",
      [("subject", .text), ("hours", .text), ("tz", .text), ("set_at", .int), ("set_by", .text), ("seal", .blob)]),
    Table(
      "alert_states",
      [
        ("id", .text), ("rule", .text), ("key_id", .text), ("window_start", .int), ("acknowledged_at", .int),
        ("acknowledged_by", .text), ("recipient", .text), ("message_id", .text), ("claimed_at", .int),
        ("notified_at", .int),
      ]),
  ]

  /// The meta rows a copy does not take: each engine records its own schema's fingerprint.
  static let engineOwnMeta: Set<String> = ["schema_fingerprint"]
}
