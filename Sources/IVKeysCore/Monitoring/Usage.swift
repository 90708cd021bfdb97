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

  /// Errors over requests, 0 when there were none.
  public var errorRate: Double { requestCount == 0 ? 0 : Double(errorCount) / Double(requestCount) }
}

/// Reading and adding usage counts.
enum Usage {
  /// Adds counts in the open transaction.
  static func add(
    _ db: Database, totals: [String: (requests: Int64, errors: Int64, lastUsed: Timestamp?)],
    endpoints: [(String, String, Int64, Int64)], days: [(String, String, Int64, Int64)]
  ) throws(IVKeysError) {
    let updateTotals = try db.statement(
      """
      UPDATE keys SET request_count = request_count + ?, error_count = error_count + ?,
        last_used_at = CASE WHEN ?3 IS NOT NULL AND (last_used_at IS NULL OR last_used_at < ?3) THEN ?3 ELSE last_used_at END
      WHERE id = ?4
      """)
    for (id, t) in totals {
      try updateTotals.run([.int(t.requests), .int(t.errors), .optional(t.lastUsed), .text(id)])
    }
    let addEndpoint = try db.statement(
      """
      INSERT INTO usage_endpoints (key_id, endpoint, count, errors) VALUES (?, ?, ?, ?)
      ON CONFLICT (key_id, endpoint) DO UPDATE SET count = count + excluded.count, errors = errors + excluded.errors
      """)
    for (id, endpoint, count, errors) in endpoints {
      try addEndpoint.run([.text(id), .text(endpoint), .int(count), .int(errors)])
    }
    let addDay = try db.statement(
      """
      INSERT INTO usage_daily (key_id, day, count, errors) VALUES (?, ?, ?, ?)
      ON CONFLICT (key_id, day) DO UPDATE SET count = count + excluded.count, errors = errors + excluded.errors
      """)
    for (id, day, count, errors) in days {
      try addDay.run([.text(id), .text(day), .int(count), .int(errors)])
    }
  }
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
  /// The usage of one key: totals, the top `top` endpoints and the last 30 days.
  public func usage(_ reference: String, top: Int) throws(IVKeysError) -> UsageReport {
    let k = try resolve(reference)
    let totals = try db.statement("SELECT request_count, error_count, last_used_at FROM keys WHERE id = ?").first([.text(k.id)]) {
      row in (row.int(0), row.int(1), row.optionalInt(2))
    }
    var endpoints = [UsageReport.Bucket]()
    try db.statement(
      "SELECT endpoint, count, errors FROM usage_endpoints WHERE key_id = ? ORDER BY count DESC, endpoint LIMIT ?"
    ).forEach([.text(k.id), .int(Int64(top))]) { row in
      endpoints.append(.init(name: row.text(0), count: row.int(1), errors: row.int(2)))
    }
    let today = now()
    let first = Time.day(today - 29 * 86400)
    var counts = [String: (Int64, Int64)]()
    try db.statement("SELECT day, count, errors FROM usage_daily WHERE key_id = ? AND day >= ?").forEach([.text(k.id), .text(first)]) {
      row in counts[row.text(0)] = (row.int(1), row.int(2))
    }
    let daily = (0..<30).map { i -> UsageReport.Bucket in
      let day = Time.day(today - Int64(29 - i) * 86400)
      let c = counts[day] ?? (0, 0)
      return .init(name: day, count: c.0, errors: c.1)
    }
    return UsageReport(
      keyID: k.id, name: k.name, requestCount: totals?.0 ?? 0, errorCount: totals?.1 ?? 0, lastUsedAt: totals?.2 ?? nil,
      topEndpoints: endpoints, daily: daily)
  }

  /// Imports gateway log lines: JSON objects with `request_id`, `key_id`, `endpoint`, `status`
  /// and `at`. A status of 400 or more counts as an error. Each request_id counts once, however
  /// often it is imported; lines are committed in chunks of `chunk`, so an interrupted import
  /// can simply be run again.
  public func importUsage(
    lines: some Sequence<String?>, chunk: Int = 10_000, progress: ((Int) -> Void)? = nil
  ) throws(IVKeysError) -> ImportResult {
    var result = ImportResult()
    var pending = [(line: Int, request: String, key: String, endpoint: String, status: Int64, at: Timestamp)]()
    var lineNumber = 0

    func bad(_ reason: String) {
      result.bad += 1
      if result.badExamples.count < 5 { result.badExamples.append((lineNumber, reason)) }
    }

    func commit() throws(IVKeysError) {
      guard !pending.isEmpty else { return }
      try write { () throws(IVKeysError) in
        var totals = [String: (requests: Int64, errors: Int64, lastUsed: Timestamp?)]()
        var endpoints = [Verifier.EndpointKey: (Int64, Int64)]()
        var days = [Verifier.EndpointKey: (Int64, Int64)]()
        var known = [String: Bool]()
        for p in pending {
          let exists: Bool
          if let k = known[p.key] {
            exists = k
          } else {
            exists = try db.scalarInt("SELECT 1 FROM keys WHERE id = ?", [.text(p.key)]) != nil
            known[p.key] = exists
          }
          guard exists else {
            result.unknownKeys += 1
            continue
          }
          try db.run("INSERT OR IGNORE INTO imported_requests (key_id, request_id, at) VALUES (?, ?, ?)",
                     [.text(p.key), .text(p.request), .int(p.at)])
          guard db.changes == 1 else {
            result.duplicates += 1
            continue
          }
          result.imported += 1
          let error: Int64 = p.status >= 400 ? 1 : 0
          var t = totals[p.key] ?? (0, 0, nil)
          t.requests += 1
          t.errors += error
          if error == 0 { t.lastUsed = max(t.lastUsed ?? p.at, p.at) }
          totals[p.key] = t
          let e = Verifier.EndpointKey(keyID: p.key, name: p.endpoint)
          let ec = endpoints[e] ?? (0, 0)
          endpoints[e] = (ec.0 + 1, ec.1 + error)
          let d = Verifier.EndpointKey(keyID: p.key, name: Time.day(p.at))
          let dc = days[d] ?? (0, 0)
          days[d] = (dc.0 + 1, dc.1 + error)
        }
        try Usage.add(db, totals: totals, endpoints: endpoints.map { ($0.key.keyID, $0.key.name, $0.value.0, $0.value.1) },
                      days: days.map { ($0.key.keyID, $0.key.name, $0.value.0, $0.value.1) })
      }
      pending.removeAll(keepingCapacity: true)
    }

    for entry in lines {
      lineNumber += 1
      guard let line = entry else {
        bad("the line is too long")
        continue
      }
      if line.allSatisfy(\.isWhitespace) { continue }
      let json: JSON
      do { json = try JSON.parse(line) } catch {
        bad("not JSON: \(error)")
        continue
      }
      guard let request = json["request_id"]?.stringValue, !request.isEmpty, request.utf8.count <= 200,
        !Text.looksLikeKey(request)
      else {
        bad("request_id is missing, not a string, or holds a key"); continue
      }
      guard let key = json["key_id"]?.stringValue, key.utf8.count == APIKey.idLength, Base62.isBase62(key.utf8) else {
        bad("key_id is missing or not a key id"); continue
      }
      guard let endpoint = json["endpoint"]?.stringValue, !endpoint.isEmpty, endpoint.unicodeScalars.count <= 200,
        !Text.hasControl(endpoint), !Text.looksLikeKey(endpoint)
      else {
        bad("endpoint is missing, not printable text, or holds a key"); continue
      }
      guard let status = json["status"]?.int64Value, (100...599).contains(status) else {
        bad("status is missing or not an HTTP status"); continue
      }
      guard let atText = json["at"]?.stringValue, let at = try? Time.parseDate(atText) else {
        bad("at is missing or not an RFC 3339 time"); continue
      }
      // A time in the future would pin the key's last use there for good.
      guard at <= now() + 86400 else { bad("at is in the future"); continue }
      pending.append((lineNumber, request, key, endpoint, status, at))
      if pending.count >= chunk {
        try commit()
        progress?(lineNumber)
      }
    }
    try commit()
    return result
  }
}
