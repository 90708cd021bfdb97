/// One alert: one rule that fired for one key in one clock hour (UTC).
public struct Alert: Sendable {
  /// Stable: `rule:key:YYYY-MM-DDTHH` (the hour's start, UTC), as `alerts ack` takes it. Made
  /// when asked for: most alerts are only sorted and printed once.
  public var id: String { AlertID(rule: rule, keyID: keyID, hour: hour).description }
  public let rule: AlertRule
  public let keyID: String
  /// The key's owning company (empty until the key's record is read).
  public internal(set) var company = ""
  /// The clock hour: seconds since the epoch / 3600.
  public let hour: Int64
  /// What the rule measured: requests (volume, after_hours), the share that failed (error_rate)
  /// or the number of addresses (new_ip).
  public let observed: Double
  /// What `observed` is compared with.
  public let threshold: Double
  /// One line saying why it fired.
  public var message: String {
    guard countsRequests else { return text }
    let n = Int64(observed)
    return "\(n) request\(n == 1 ? "" : "s") " + text
  }
  /// The message, or with `countsRequests` what follows the number of requests in it: one
  /// text shared by every after_hours alert of a schedule.
  private let text: String
  private let countsRequests: Bool
  /// new_ip: the addresses, in the order they were seen.
  public let ips: [String]
  public internal(set) var acknowledgedAt: Timestamp?
  public internal(set) var acknowledgedBy: String?
  public internal(set) var notifiedAt: Timestamp?
  /// When an `alerts notify` claimed its notice (it may be sending it now).
  var claimedAt: Timestamp?

  public var windowStart: Timestamp { hour * 3600 }
  public var windowEnd: Timestamp { hour * 3600 + 3600 }
  /// Not acknowledged.
  public var isOpen: Bool { acknowledgedAt == nil }
  /// `open` or `acknowledged`.
  public var status: String { isOpen ? "open" : "acknowledged" }

  init(
    rule: AlertRule, keyID: String, hour: Int64, observed: Double, threshold: Double, message: String,
    ips: [String] = [], countsRequests: Bool = false
  ) {
    self.rule = rule
    self.keyID = keyID
    self.hour = hour
    self.observed = observed
    self.threshold = threshold
    text = message
    self.ips = ips
    self.countsRequests = countsRequests
  }

  /// An alert known only from its recorded state: it was e-mailed, and its hour's figures have
  /// moved below the rule since (the hour was still in progress).
  init(recorded s: AlertStateRow, id: AlertID) {
    self.init(
      rule: id.rule, keyID: id.keyID, hour: id.hour, observed: 0, threshold: 0,
      message: "no longer above the rule's threshold; it was e-mailed at \(Time.rfc3339(s.notifiedAt ?? 0))")
    acknowledgedAt = s.acknowledgedAt
    acknowledgedBy = s.acknowledgedBy
    notifiedAt = s.notifiedAt
  }

  /// The state row that records this alert's acknowledgement or notice.
  var stateRow: AlertStateRow { AlertStateRow(id: id, rule: rule.rawValue, keyID: keyID, windowStart: windowStart) }
}

extension AlertRule {
  /// Its place in `allCases`.
  var order: Int {
    switch self {
    case .volume: return 0
    case .newIP: return 1
    case .errorRate: return 2
    case .afterHours: return 3
    }
  }

  /// What the rule means, for `alerts rules` and notices.
  public var meaning: String {
    switch self {
    case .volume: return "an hour's requests far above the key's median hourly requests"
    case .newIP: return "requests from an address not seen for the key lately, or refused by its allowlist"
    case .errorRate: return "a large share of an hour's requests refused or failed"
    case .afterHours: return "requests outside the working hours set for the key or its company"
    }
  }
}

/// An alert's id, `rule:key:YYYY-MM-DDTHH`: what it is made of, and its text.
public struct AlertID: Sendable, Equatable, CustomStringConvertible {
  public let rule: AlertRule
  public let keyID: String
  public let hour: Int64

  public init(rule: AlertRule, keyID: String, hour: Int64) {
    self.rule = rule
    self.keyID = keyID
    self.hour = hour
  }

  /// Written byte by byte: `alerts` may print 100,000 of them.
  public var description: String {
    var bytes = [UInt8]()
    bytes.reserveCapacity(64)
    bytes.append(contentsOf: rule.rawValue.utf8)
    bytes.append(UInt8(ascii: ":"))
    bytes.append(contentsOf: keyID.utf8)
    bytes.append(UInt8(ascii: ":"))
    Self.appendHour(hour, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
  }

  /// `YYYY-MM-DDTHH` of the hour's start, UTC.
  static func hourText(_ hour: Int64) -> String {
    var bytes = [UInt8]()
    appendHour(hour, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Appends `YYYY-MM-DDTHH`: the RFC 3339 time of the hour's start, less `:MM:SSZ`.
  static func appendHour(_ hour: Int64, to bytes: inout [UInt8]) {
    Time.appendRFC3339(hour * 3600, to: &bytes)
    bytes.removeLast(7)
  }

  /// Parses an id as `alerts` prints it.
  public static func parse(_ text: String) throws(ValueError) -> AlertID {
    let shape = "an alert id is RULE:KEY_ID:YYYY-MM-DDTHH, as 'ivkeys alerts' lists it"
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 3 else { throw ValueError(shape) }
    guard let rule = AlertRule(rawValue: String(parts[0])) else {
      throw ValueError(
        "unknown rule; \(shape), RULE one of \(AlertRule.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    let key = String(parts[1])
    guard key.utf8.count == APIKey.idLength, Base62.isBase62(key.utf8) else {
      throw ValueError("KEY_ID is not a key id; \(shape)")
    }
    let hourText = parts[2]
    let u = Array(hourText.utf8)
    guard u.count == 13, u[10] == UInt8(ascii: "T"), u[11] >= 48, u[11] <= 57, u[12] >= 48, u[12] <= 57,
      let t = try? Time.parseDate(hourText + ":00:00Z"), t % 3600 == 0
    else { throw ValueError("the hour is not YYYY-MM-DDTHH; \(shape)") }
    return AlertID(rule: rule, keyID: key, hour: t / 3600)
  }
}

/// Which alerts `Vault.alerts` evaluates.
public struct AlertQuery: Sendable {
  /// How far back, in seconds: hours from the one `since` seconds ago on, the current one included.
  public var since: Int64 = 86400
  /// Only this hour (`alerts ack` checks one alert), instead of `since`.
  public var hour: Int64?
  /// Only this key (an id).
  public var keyID: String?
  /// Only keys serving this company: owned or linked.
  public var company: String?
  /// Only these rules.
  public var rules: Set<AlertRule> = Set(AlertRule.allCases)

  public init(since: Int64 = 86400, keyID: String? = nil, company: String? = nil, rules: Set<AlertRule>? = nil) {
    self.since = since
    self.keyID = keyID
    self.company = company
    self.rules = rules ?? Set(AlertRule.allCases)
  }
}
