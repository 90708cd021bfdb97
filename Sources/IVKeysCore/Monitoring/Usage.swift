/// A key's usage, as `ivkeys usage` shows it.
public struct UsageReport: Sendable {
  public struct Bucket: Sendable {
    /// An endpoint (`GET /v1/jobs`) or a day (`2026-11-29`).
    public let name: String
    public let count: Int64
    public let errors: Int64
  }

  public let keyID: String
  public let name: String
  public let requestCount: Int64
  public let errorCount: Int64
  public let lastUsedAt: Timestamp?
  /// The busiest endpoints, busiest first.
  public let topEndpoints: [Bucket]
  /// The last 30 days, oldest first, days without requests included.
  public let daily: [Bucket]
  /// The last 24 clock hours (UTC), the current one last, hours without requests included.
  public var hourly: [UsageCounts.Hour] = []
  /// The source addresses seen over the days kept, most recently seen first.
  public var addresses: [AddressSummary] = []
  /// A usage-limited key's budget and what is left of it.
  public var budget: RequestBudget?
  public var remaining: Int64?

  /// Errors over requests, 0 when there were none.
  public var errorRate: Double { requestCount == 0 ? 0 : Double(errorCount) / Double(requestCount) }
}

/// What `usage import` did.
public struct ImportResult: Sendable {
  /// Lines counted for the first time.
  public var imported = 0
  /// Lines whose request_id was imported before.
  public var duplicates = 0
  /// Lines naming a key id the vault does not have.
  public var unknownKeys = 0
  /// Lines that are not valid log records, with the first few line numbers and reasons.
  public var bad = 0
  public var badExamples: [(line: Int, reason: String)] = []
  public init() {}
}

extension Vault {
  /// The usage of one key: totals, the top `top` endpoints, the last 30 days, the last 24 hours
  /// and the `top` most recently seen source addresses.
  public func usage(_ reference: String, top: Int) throws(IVKeysError) -> UsageReport {
    let k = try resolve(reference)
    let totals = try store.usageTotals(keyID: k.id)
    let endpoints = try store.topEndpoints(keyID: k.id, limit: top)
    let today = now()
    var counts = [String: (Int64, Int64)]()
    for b in try store.dailyUsage(keyID: k.id, since: Time.day(today - 29 * 86400)) {
      counts[b.name] = (b.count, b.errors)
    }
    let daily = (0..<30).map { i -> UsageReport.Bucket in
      let day = Time.day(today - Int64(29 - i) * 86400)
      let c = counts[day] ?? (0, 0)
      return .init(name: day, count: c.0, errors: c.1)
    }
    var report = UsageReport(
      keyID: k.id, name: k.name, requestCount: totals?.requests ?? 0, errorCount: totals?.errors ?? 0,
      lastUsedAt: totals?.lastUsed ?? nil,
      topEndpoints: endpoints, daily: daily)
    report.hourly = try hourlyUsage(k.id, hours: 24)
    report.addresses = try store.addressSummary(keyID: k.id, limit: top)
    report.budget = k.limits?.budget
    report.remaining = try requestsRemaining(k)
    return report
  }

  /// A key's last `hours` clock hours, the current one last, hours without requests included.
  func hourlyUsage(_ id: String, hours: Int64) throws(IVKeysError) -> [UsageCounts.Hour] {
    let last = now() / 3600
    let first = last - hours + 1
    var out = (first...last).map { UsageCounts.Hour(keyID: id, hour: $0, requests: 0, errors: 0) }
    try store.forEachHourlyBucket(fromHour: first, keyID: id) { b in
      guard b.hour <= last else { return }
      out[Int(b.hour - first)] = b
    }
    return out
  }

  /// Imports gateway log lines: JSON objects with `request_id`, `key_id`, `endpoint`, `status`,
  /// `at` and, optionally, `ip` (the client's address). A status of 400 or more counts as an error. Each request_id counts once, however
  /// often it is imported; lines are committed in chunks of `chunk`, so an interrupted import
  /// can simply be run again.
  public func importUsage(
    lines: some Sequence<String?>, chunk: Int = 10_000, progress: ((Int) -> Void)? = nil
  ) throws(IVKeysError) -> ImportResult {
    var result = ImportResult()
    var pending = [ImportedRequest]()
    var lineNumber = 0
    for entry in lines {
      lineNumber += 1
      switch parseImportLine(entry, now: now()) {
      case .blank: continue
      case .bad(let reason):
        result.bad += 1
        if result.badExamples.count < 5 { result.badExamples.append((lineNumber, reason)) }
      case .request(let r):
        pending.append(r)
        if pending.count >= chunk {
          try commitImported(pending, into: &result)
          pending.removeAll(keepingCapacity: true)
          progress?(lineNumber)
        }
      }
    }
    try commitImported(pending, into: &result)
    return result
  }

  /// One gateway request read from a log line.
  struct ImportedRequest {
    let request: String
    let key: String
    let endpoint: String
    let status: Int64
    let at: Timestamp
    /// The client's address, when the line gives one (`IPAddress.monitoringText`).
    let ip: String?
  }

  /// What one log line is.
  enum ImportLine {
    case blank
    case bad(String)
    case request(ImportedRequest)
  }

  /// Reads one log line (nil: a line too long to read).
  func parseImportLine(_ entry: String?, now: Timestamp) -> ImportLine {
    guard let line = entry else { return .bad("the line is too long") }
    if line.allSatisfy(\.isWhitespace) { return .blank }
    let json: JSON
    do { json = try JSON.parse(line) } catch { return .bad("not JSON: \(error)") }
    guard let request = json["request_id"]?.stringValue, !request.isEmpty, request.utf8.count <= 200,
      !Text.holdsKey(request)
    else { return .bad("request_id is missing, not a string, or holds a key") }
    // A control character (NUL among them, which PostgreSQL cannot store) is no request id.
    guard !request.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
      return .bad("request_id holds a control character")
    }
    guard let key = json["key_id"]?.stringValue, key.utf8.count == APIKey.idLength, Base62.isBase62(key.utf8) else {
      return .bad("key_id is missing or not a key id")
    }
    guard let text = json["endpoint"]?.stringValue, let endpoint = try? Fields.endpoint(text) else {
      return .bad("endpoint is missing, not printable text, or holds a key")
    }
    guard let status = json["status"]?.int64Value, (100...599).contains(status) else {
      return .bad("status is missing or not an HTTP status")
    }
    guard let atText = json["at"]?.stringValue, let at = try? Time.parseDate(atText) else {
      return .bad("at is missing or not an RFC 3339 time")
    }
    // A time in the future would pin the key's last use there for good.
    guard at <= now + 86400 else { return .bad("at is in the future") }
    var ip: String?
    if let value = json["ip"], value != .null {
      guard let text = value.stringValue, let address = try? IPAddress.parse(text) else {
        return .bad("ip is not an IPv4 or IPv6 address")
      }
      ip = address.monitoringText
    }
    return .request(ImportedRequest(request: request, key: key, endpoint: endpoint, status: status, at: at, ip: ip))
  }

  /// Counts the requests not imported before, in one transaction.
  private func commitImported(_ pending: [ImportedRequest], into result: inout ImportResult) throws(IVKeysError) {
    guard !pending.isEmpty else { return }
    try write { () throws(IVKeysError) in
      var counter = UsageCounter()
      var known = [String: Bool]()
      for p in pending {
        let exists: Bool
        if let k = known[p.key] {
          exists = k
        } else {
          exists = try store.keyExists(id: p.key)
          known[p.key] = exists
        }
        guard exists else {
          result.unknownKeys += 1
          continue
        }
        guard try store.recordImportedRequest(keyID: p.key, requestID: p.request, at: p.at) else {
          result.duplicates += 1
          continue
        }
        result.imported += 1
        // An error is any status from 400; a denial, the gateway refusing the request itself.
        counter.count(
          p.key, error: p.status >= 400, endpoint: p.endpoint, at: p.at, ip: p.ip,
          denied: p.status == 401 || p.status == 403 || p.status == 429)
      }
      try store.addUsage(counter.counts)
    }
  }
}
