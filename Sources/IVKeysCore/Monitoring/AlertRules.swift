/// The four alert rules SPEC's "Monitoring" names, and the parameters each can be tuned by.
public enum AlertRule: String, CaseIterable, Sendable {
  /// An hour's requests far above the key's usual hourly requests.
  case volume
  /// Requests from an address not seen for the key lately, and every `ip_not_allowed` refusal.
  case newIP = "new_ip"
  /// A large share of an hour's requests refused or failed.
  case errorRate = "error_rate"
  /// Requests outside the working hours set for the key or its company.
  case afterHours = "after_hours"
}

/// One tunable parameter: its name, default and the values it may take.
public struct AlertParameter: Sendable {
  public let rule: AlertRule
  public let name: String
  public let defaultValue: Double
  /// Whether the value is a whole number.
  public let integer: Bool
  public let minimum: Double
  public let maximum: Double
  /// Whether `minimum` itself is allowed.
  public let minimumIncluded: Bool
  public let help: String

  /// `rule.name`, as `alerts set` takes it and the vault stores it (`alerts.rule.name`).
  public var qualifiedName: String { "\(rule.rawValue).\(name)" }
  var settingName: String { "alerts.\(qualifiedName)" }

  /// Parses a value for this parameter.
  public func parse(_ text: String) throws(ValueError) -> Double {
    let range =
      integer
      ? "a whole number from \(Int(minimum) + (minimumIncluded ? 0 : 1)) to \(Int(maximum))"
      : "a number \(minimumIncluded ? "from" : "above") \(AlertParameter.format(minimum)) \(minimumIncluded ? "to" : "up to") \(AlertParameter.format(maximum))"
    // Digits and a point, or the exponent form `format` writes for small values (`1e-05`).
    let trimmed = text.utf8.allSatisfy {
      ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "-")
    }
    guard trimmed, !text.isEmpty, let v = Double(text), v.isFinite else { throw ValueError("expected \(range)") }
    guard !integer || v == v.rounded(.towardZero) else { throw ValueError("expected \(range)") }
    guard minimumIncluded ? v >= minimum : v > minimum, v <= maximum else { throw ValueError("expected \(range)") }
    return v
  }

  /// A value as printed and stored: whole numbers without a point.
  public static func format(_ v: Double) -> String {
    v == v.rounded(.towardZero) && abs(v) < 1e15 ? String(Int64(v)) : String(v)
  }
}

/// The parameters of every rule, with their values.
public struct AlertRules: Sendable {
  /// Every parameter, in the order `alerts rules` prints them.
  public static let parameters: [AlertParameter] = [
    AlertParameter(
      rule: .volume, name: "factor", defaultValue: 5, integer: false, minimum: 1, maximum: 1000,
      minimumIncluded: true, help: "an hour above FACTOR x the key's median hourly requests fires"),
    AlertParameter(
      rule: .volume, name: "min_requests", defaultValue: 100, integer: true, minimum: 1, maximum: 1e9,
      minimumIncluded: true, help: "and only with at least this many requests in the hour"),
    AlertParameter(
      rule: .volume, name: "baseline_days", defaultValue: 7, integer: true, minimum: 1, maximum: 89,
      minimumIncluded: true, help: "the median is over the hours with traffic in this many days before"),
    AlertParameter(
      rule: .newIP, name: "lookback_days", defaultValue: 30, integer: true, minimum: 1, maximum: 89,
      minimumIncluded: true, help: "an address not seen for the key in this many days is new"),
    AlertParameter(
      rule: .newIP, name: "min_history_days", defaultValue: 7, integer: true, minimum: 0, maximum: 89,
      minimumIncluded: true, help: "only for keys whose first recorded request is this many days old"),
    AlertParameter(
      rule: .errorRate, name: "rate", defaultValue: 0.2, integer: false, minimum: 0, maximum: 1,
      minimumIncluded: false, help: "an hour with at least this share of requests refused or failed fires"),
    AlertParameter(
      rule: .errorRate, name: "min_requests", defaultValue: 50, integer: true, minimum: 1, maximum: 1e9,
      minimumIncluded: true, help: "and only with at least this many requests in the hour"),
  ]

  /// The parameter named `rule.name`, or a usage error naming the known ones.
  public static func parameter(_ qualified: String) throws(IVKeysError) -> AlertParameter {
    if let p = parameters.first(where: { $0.qualifiedName == qualified }) { return p }
    let rule = qualified.split(separator: ".", maxSplits: 1).first.map(String.init) ?? qualified
    guard let r = AlertRule(rawValue: rule) else {
      throw .usage(
        "unknown alert rule '\(Text.escapeControl(rule))'",
        hint: "rules: \(AlertRule.allCases.map(\.rawValue).joined(separator: ", ")); parameters are RULE.NAME, "
          + "as 'ivkeys alerts rules' lists them")
    }
    let own = parameters.filter { $0.rule == r }.map(\.qualifiedName)
    throw .usage(
      "unknown parameter '\(Text.escapeControl(qualified))'",
      hint: own.isEmpty
        ? "\(r.rawValue) has no parameters" : "\(r.rawValue)'s parameters: \(own.joined(separator: ", "))")
  }

  private var values: [String: Double]

  /// The defaults.
  public init() {
    values = Dictionary(uniqueKeysWithValues: Self.parameters.map { ($0.qualifiedName, $0.defaultValue) })
  }

  public subscript(_ qualified: String) -> Double { values[qualified] ?? 0 }

  mutating func set(_ qualified: String, _ v: Double) { values[qualified] = v }

  public var volumeFactor: Double { self["volume.factor"] }
  public var volumeMinRequests: Int64 { Int64(self["volume.min_requests"]) }
  public var volumeBaselineDays: Int64 { Int64(self["volume.baseline_days"]) }
  public var newIPLookbackDays: Int64 { Int64(self["new_ip.lookback_days"]) }
  public var newIPMinHistoryDays: Int64 { Int64(self["new_ip.min_history_days"]) }
  public var errorRate: Double { self["error_rate.rate"] }
  public var errorRateMinRequests: Int64 { Int64(self["error_rate.min_requests"]) }
}

extension Vault {
  // MARK: - Alert rule parameters

  /// The rules' parameters: each stored value (sealed; a changed one is `tampered`), else its default.
  public func alertRules() throws(IVKeysError) -> AlertRules {
    var rules = AlertRules()
    for p in AlertRules.parameters {
      guard let text = try store.sealedMeta(p.settingName) else { continue }
      guard let v = try? p.parse(text) else {
        throw .vault("the stored value of \(p.qualifiedName) cannot be read: \(Text.escapeControl(text))")
      }
      rules.set(p.qualifiedName, v)
    }
    return rules
  }

  /// Changes one parameter (`error_rate.min_requests`, `30`): administrators only, sealed, audited
  /// as `settings.changed`. Returns the value before.
  @discardableResult
  public func setAlertParameter(_ qualified: String, _ text: String) throws(IVKeysError) -> Double {
    let p = try AlertRules.parameter(qualified)
    let value: Double
    do { value = try p.parse(text) } catch {
      throw .invalidValue(option: p.qualifiedName, value: text, reason: error.reason)
    }
    return try write { () throws(IVKeysError) -> Double in
      try requireAdmin("change alert rules")
      // Only this parameter is read: one stored value that cannot be read must not stop its repair.
      let stored = try store.sealedMeta(p.settingName)
      let before = stored.flatMap { try? p.parse($0) } ?? p.defaultValue
      guard before != value else { return before }
      try store.setMeta(p.settingName, AlertParameter.format(value))
      try record(
        AuditEntry(
          event: .settingsChanged,
          detail: .object([
            ("setting", .string("alerts.\(p.qualifiedName)")), ("before", .number(before)), ("after", .number(value)),
          ])))
      return before
    }
  }
}
