// The values the storage interface passes, engine-neutral: rows to insert, what a query asks
// for, and what a few narrow reads return.

/// A new key's row: every column a key starts with. List-valued settings are compact JSON.
public struct NewKeyRow: Sendable {
  public var id: String
  public var env: KeyEnvironment
  public var type: KeyType
  public var company: String
  public var linkedCompaniesJSON: String
  public var name: String
  /// HMAC-SHA256 of the whole key, keyed with the server secret.
  public var digest: [UInt8]
  public var scopesJSON: String
  public var allowedIPsJSON: String
  public var expiresAt: Timestamp?
  public var rateLimit: String?
  public var metadataJSON: String
  public var tagsJSON: String
  public var contact: String?
  public var createdAt: Timestamp
  public var createdBy: String
  public var rotatedFrom: String?
  /// The secret version whose digest key made `digest`.
  public var secretVersion: Int = 1
}

/// Which keys a listing returns: every condition must hold.
public struct KeyQuery: Sendable {
  /// One condition on a key.
  public enum Condition: Sendable {
    /// Owns the company, or is an ATS key linked to it.
    case servesCompany(String)
    /// Owns the company (an ATS key merely linked to it does not).
    case ownedBy(String)
    case env(KeyEnvironment)
    case type(KeyType)
    case tag(String)
    /// Holds the scope itself, its `resource:*`, or `*`.
    case grantsScope(String)
    /// The effective status (`KeyPolicy.effectiveStatus`) is one of these.
    case effectiveStatus(in: [KeyStatus])
    /// The effective status is not this one.
    case effectiveStatusIsNot(KeyStatus)
    /// The status the vault records is one of these.
    case storedStatus(in: [KeyStatus])
    /// Time has changed the status since the vault recorded it.
    case effectiveStatusDiffersFromStored
    /// Has an expiry, later than this time.
    case expiresAfter(Timestamp)
    /// Has an expiry, at or before this time.
    case expiresBy(Timestamp)
    /// Was created at or before this time.
    case createdBy(Timestamp)
    /// Its digest was made under a secret version below this one.
    case secretVersionBelow(Int)
    /// Its last use (its creation, when never used) was before this time.
    case lastActivityBefore(Timestamp)
  }

  /// The order keys come in.
  public enum Order: Sendable {
    /// Creation order.
    case creation
    /// Soonest expiry first, then creation order.
    case expiry
    /// By one field (`KeySort`), then creation order.
    case sorted(KeySort)
  }

  public var conditions: [Condition]
  public var order: Order

  public init(_ conditions: [Condition] = [], order: Order = .creation) {
    self.conditions = conditions
    self.order = order
  }
}

/// What `verify` reads of a key, as stored; the verifier parses it once and caches it.
public struct StoredAuthKey: Sendable {
  public var env: String
  public var type: String
  public var company: String
  public var linkedCompaniesJSON: String
  public var scopesJSON: String
  public var allowedIPsJSON: String
  public var expiresAt: Timestamp?
  public var rateLimit: String?
  public var status: String
  public var graceUntil: Timestamp?
  public var digest: [UInt8]
  /// The secret version whose digest key made `digest`.
  public var secretVersion: Int
  /// Whether the row matches its seal; a key whose row does not is never allowed.
  public var sealIntact: Bool
}

/// Usage counts to add: totals per key, per key and endpoint, and per key, clock hour and client
/// address (the buckets).
public struct UsageCounts: Sendable {
  public struct Total: Sendable {
    public var requests: Int64 = 0
    public var errors: Int64 = 0
    public var lastUsed: Timestamp?
    /// The source address of the last use (the request at `lastUsed`), when one was given.
    public var lastIP: String?
  }

  /// One key's count under a name (an endpoint).
  public struct Bucket: Sendable {
    public var keyID: String
    public var name: String
    public var count: Int64
    public var errors: Int64
  }

  /// One key's requests in one clock hour (`hour`: seconds since the epoch / 3600, UTC).
  public struct Hour: Sendable, Equatable {
    public var keyID: String
    public var hour: Int64
    public var requests: Int64
    public var errors: Int64
  }

  /// One key's requests from one client address in one clock hour; the address is "" for the
  /// requests that gave none.
  public struct Address: Sendable, Equatable {
    public var keyID: String
    public var hour: Int64
    /// Canonical text (`IPAddress.monitoringText`), or "".
    public var ip: String
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    public var requests: Int64
    /// Requests that failed: refused, or imported with a status of 400 or more.
    public var errors: Int64 = 0
    /// Requests refused for any reason (401, 403, 429).
    public var denied: Int64
    /// Requests refused because the address is not in the key's allowlist (`ip_not_allowed`).
    public var refused: Int64
  }

  public var totals: [String: Total] = [:]
  public var endpoints: [Bucket] = []
  /// Per key, hour and address ("" for none): a key's hour is the sum of its rows.
  public var buckets: [Address] = []
}

/// An expiry notice's row.
public struct NotificationRow: Sendable {
  public var keyID: String
  public var expiresAt: Timestamp
  public var recipient: String
  public var messageID: String
  /// When it was claimed, or sent.
  public var at: Timestamp
}

/// Where an expiry notice stands.
public enum NotificationState: Sendable {
  /// Handed to the mail system.
  case sent
  /// Claimed by a `notify` that is sending it.
  case claimed
}

/// A secret version as the vault records it.
public struct SecretVersionRow: Sendable {
  public var version: Int
  public var fingerprint: String
  public var addedAt: Timestamp
  public var retiredAt: Timestamp?
  /// Keys whose digest this version made: all of them, and those not revoked.
  public var keys: Int64
  public var unrevokedKeys: Int64
  /// The row does not match its seal.
  public var damaged: Bool
}

/// A named setting of the vault's metadata as stored, with its seal.
public struct SettingRow: Sendable {
  public var name: String
  public var value: String
  public var seal: [UInt8]?
  /// What the seal covers, built by the engine as it read the row (its value typed as stored).
  var message: SealMessage
}

/// The settings every opening of a sealed vault checks, read at once.
public struct OpeningSettings: Sendable {
  public var secretFingerprint: SettingRow?
  public var secretVersion: SettingRow?
  public var schemaFingerprint: SettingRow?
}

/// One key's traffic from one source address, over the days kept (`usage ID`).
public struct AddressSummary: Sendable {
  public var ip: String
  public var firstSeen: Timestamp
  public var lastSeen: Timestamp
  public var requests: Int64
  public var denied: Int64
}

/// Working hours as stored, for a key (`key:<id>`) or a company (`company:<id>`).
public struct WorkingHoursRow: Sendable {
  public var subject: String
  /// The hours as `WorkingHours` writes them (`Mon-Fri 08:00-18:00`).
  public var hours: String
  /// A zoneinfo name (`Europe/Berlin`).
  public var zone: String
  public var setAt: Timestamp
  public var setBy: String
  /// Whether the row matches its seal.
  public var intact: Bool
}

/// What the vault records of one alert: its acknowledgement and its e-mail notice.
public struct AlertStateRow: Sendable {
  public var id: String
  public var rule: String
  public var keyID: String
  public var windowStart: Timestamp
  public var acknowledgedAt: Timestamp?
  public var acknowledgedBy: String?
  public var recipient: String?
  public var messageID: String?
  public var claimedAt: Timestamp?
  public var notifiedAt: Timestamp?

  public init(id: String, rule: String, keyID: String, windowStart: Timestamp) {
    self.id = id
    self.rule = rule
    self.keyID = keyID
    self.windowStart = windowStart
  }
}

/// What `sweep` pruned: rows older than the monitoring retention.
public struct PrunedUsage: Sendable, Equatable {
  /// Hourly rows (one per key, hour and address).
  public var hours: Int = 0
  /// Daily rows from before schema 6.
  public var days: Int = 0
  /// Alert states of alerts that old.
  public var alerts: Int = 0
  public var total: Int { hours + days + alerts }
  public init() {}
}
