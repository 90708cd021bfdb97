import IVKeysCore

/// Parsing of the option values `create` and `update` share, each error naming its option.
enum KeyOptions {
  static func env(_ inv: Invocation, _ name: OptionName = .env) throws(IVKeysError) -> KeyEnvironment? {
    try inv.parse(name) { (s) throws(ValueError) -> KeyEnvironment in
      guard let e = KeyEnvironment(rawValue: s) else { throw ValueError("expected live or test") }
      return e
    }
  }

  static func type(_ inv: Invocation) throws(IVKeysError) -> KeyType? {
    try inv.parse(.type) { (s) throws(ValueError) -> KeyType in
      guard let t = KeyType(rawValue: s) else { throw ValueError("expected regular or ats") }
      return t
    }
  }

  /// `--expires DATE` or `--expires-in DUR` as a time; nil when neither is given.
  static func expiry(_ inv: Invocation, now: Timestamp) throws(IVKeysError) -> Timestamp? {
    if let t = try inv.parse(.expires, Time.parseDate) {
      try KeyPolicy.checkExpiryInFuture(t, now: now)
      return t
    }
    if let d = try inv.parse(.expiresIn, Time.parseDuration) {
      guard d > 0 else {
        throw .invalidValue(option: "--expires-in", value: inv.value(.expiresIn) ?? "", reason: "must be longer than 0")
      }
      return now + d
    }
    return nil
  }

  static func scopes(_ inv: Invocation, _ name: OptionName) throws(IVKeysError) -> [String] {
    try inv.parseList(name) { (s) throws(ValueError) -> String in
      guard s == "*" || Scopes.isWellFormed(s) || (s.hasSuffix(":*") && Scopes.isWellFormed(s.dropLast() + "x")) else {
        throw ValueError("a scope is resource:action, resource:* or *")
      }
      return s
    }
  }

  static func ips(_ inv: Invocation, _ name: OptionName) throws(IVKeysError) -> [IPRange] {
    try inv.parseList(name, IPRange.parse)
  }

  /// Warns of each `--allow-ip` entry that admits every address of its family (`0.0.0.0/0`,
  /// `::/0`): accepted, but an allowlist that restricts nothing is more likely a slip.
  static func warnOfOpenRanges(_ ranges: [IPRange], _ ctx: Context) {
    let open = ranges.filter { $0.admitsEveryAddressOf != nil }
    for r in open { ctx.warning("--allow-ip \(r) admits every \(r.admitsEveryAddressOf ?? "") address") }
    if !open.isEmpty { ctx.hint("name the networks the key's clients use, like --allow-ip 203.0.113.0/24") }
  }

  static func metadata(_ inv: Invocation) throws(IVKeysError) -> [(String, String)] {
    // Metadata values may hold commas: one pair per --meta.
    var out = [(String, String)]()
    for v in inv.values[.meta] ?? [] {
      do { out.append(try Fields.metadata(v)) } catch { throw error.for("--meta", v) }
    }
    return out
  }

  static func rateLimit(_ inv: Invocation) throws(IVKeysError) -> RateLimit? {
    try inv.parse(.rateLimit, RateLimit.parse)
  }

  /// `--max-requests` and `--refill`: nil when neither is given. A refill needs a budget to fill.
  static func budget(_ inv: Invocation) throws(IVKeysError) -> RequestBudget? {
    let refill = try inv.parse(.refill, RequestBudget.parseRefill)
    guard let max = try inv.parse(.maxRequests, RequestBudget.parseMax) else {
      guard refill == nil else {
        throw .usage(
          "--refill needs --max-requests, the budget it refills", hint: "give both: --max-requests N --refill N/d")
      }
      return nil
    }
    return RequestBudget(max: max, refillPerDay: refill)
  }

  static func companies(_ inv: Invocation, _ name: OptionName) throws(IVKeysError) -> [String] {
    try inv.parseList(name, Fields.company)
  }

  /// `--working-hours` and `--tz` of `create`: nil when neither is given; the zone is UTC unless
  /// named. A zone alone is a usage error: it has no hours to apply to.
  static func workSchedule(_ inv: Invocation) throws(IVKeysError) -> WorkSchedule? {
    let zone = try inv.parse(.tz, ZoneClock.validate)
    guard let hours = try inv.parse(.workingHours, WorkingHours.parse) else {
      guard zone == nil else {
        throw .usage(
          "--tz is the time zone of --working-hours, which is missing",
          hint: "give both: --working-hours \"Mon-Fri 08:00-18:00\" --tz \(zone ?? "UTC")")
      }
      return nil
    }
    return WorkSchedule(hours: hours, zone: zone ?? defaultWorkingHoursZone)
  }

  /// `--working-hours`, `--tz` and `--no-working-hours` of `update`.
  static func workingHoursChange(_ inv: Invocation) throws(IVKeysError) -> WorkingHoursChange {
    let zone = try inv.parse(.tz, ZoneClock.validate)
    if inv.flag(.noWorkingHours) { return .clear }
    if let hours = try inv.parse(.workingHours, WorkingHours.parse) { return .set(hours, zone: zone) }
    if let zone { return .rezone(zone) }
    return .unchanged
  }
}
