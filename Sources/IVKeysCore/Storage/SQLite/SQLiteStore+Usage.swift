/// Usage counts, imported gateway requests and rate-limit windows.
extension SQLiteStore {
  /// Each statement is prepared only when it has rows to write: a single verify without an
  /// endpoint would otherwise compile an upsert it never runs.
  func addUsage(_ usage: UsageCounts) throws(IVKeysError) {
    if !usage.totals.isEmpty { try addTotals(usage) }
    if !usage.endpoints.isEmpty { try addEndpoints(usage) }
    if !usage.buckets.isEmpty { try addBuckets(usage) }
  }

  private func addTotals(_ usage: UsageCounts) throws(IVKeysError) {
    let updateTotals = try db.statement(
      """
      UPDATE keys SET request_count = request_count + ?, error_count = error_count + ?,
        last_ip = CASE WHEN ?3 IS NOT NULL AND (last_used_at IS NULL OR last_used_at <= ?3) THEN coalesce(?5, last_ip)
          ELSE last_ip END,
        last_used_at = CASE WHEN ?3 IS NOT NULL AND (last_used_at IS NULL OR last_used_at < ?3) THEN ?3 ELSE last_used_at END
      WHERE id = ?4
      """)
    for (id, t) in usage.totals {
      try updateTotals.run([.int(t.requests), .int(t.errors), .optional(t.lastUsed), .text(id), .optional(t.lastIP)])
    }
  }

  private func addEndpoints(_ usage: UsageCounts) throws(IVKeysError) {
    let addEndpoint = try db.statement(
      """
      INSERT INTO usage_endpoints (key_id, endpoint, count, errors) VALUES (?, ?, ?, ?)
      ON CONFLICT (key_id, endpoint) DO UPDATE SET count = count + excluded.count, errors = errors + excluded.errors
      """)
    for b in usage.endpoints {
      try addEndpoint.run([.text(b.keyID), .text(b.name), .int(b.count), .int(b.errors)])
    }
  }

  /// A few buckets (a single `verify`) are updated first and inserted only when new: the row of
  /// the key's hour and address is usually there already, and an UPDATE compiles to far less than
  /// an upsert. Many (a stream's group, an import) go through one upsert.
  private func addBuckets(_ usage: UsageCounts) throws(IVKeysError) {
    if usage.buckets.count <= 2 {
      let update = try db.statement(
        """
        UPDATE usage_hourly SET requests = requests + ?4, errors = errors + ?5, denied = denied + ?6,
          refused = refused + ?7, first_seen = min(first_seen, ?8), last_seen = max(last_seen, ?9)
        WHERE key_id = ?1 AND hour = ?2 AND ip = ?3
        """)
      for b in usage.buckets {
        let values = Self.bucketValues(b)
        try update.run(values)
        if db.changes == 0 {
          try db.statement(
            """
            INSERT INTO usage_hourly (key_id, hour, ip, requests, errors, denied, refused, first_seen, last_seen)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
          ).run(values)
        }
      }
      return
    }
    let add = try db.statement(
      """
      INSERT INTO usage_hourly (key_id, hour, ip, requests, errors, denied, refused, first_seen, last_seen)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (key_id, hour, ip) DO UPDATE SET requests = requests + excluded.requests,
        errors = errors + excluded.errors, denied = denied + excluded.denied, refused = refused + excluded.refused,
        first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
      """)
    for b in usage.buckets { try add.run(Self.bucketValues(b)) }
  }

  private static func bucketValues(_ b: UsageCounts.Address) -> [SQLValue] {
    [
      .text(b.keyID), .int(b.hour), .text(b.ip), .int(b.requests), .int(b.errors), .int(b.denied), .int(b.refused),
      .int(b.firstSeen), .int(b.lastSeen),
    ]
  }

  func usageTotals(keyID: String) throws(IVKeysError) -> (requests: Int64, errors: Int64, lastUsed: Timestamp?)? {
    try db.statement("SELECT request_count, error_count, last_used_at FROM keys WHERE id = ?").first([.text(keyID)]) {
      row in (row.int(0), row.int(1), row.optionalInt(2))
    }
  }

  func topEndpoints(keyID: String, limit: Int) throws(IVKeysError) -> [UsageReport.Bucket] {
    var out = [UsageReport.Bucket]()
    try db.statement(
      "SELECT endpoint, count, errors FROM usage_endpoints WHERE key_id = ? ORDER BY count DESC, endpoint LIMIT ?"
    ).forEachRow([.text(keyID), .int(Int64(limit))]) { row in
      out.append(.init(name: row.text(0), count: row.int(1), errors: row.int(2)))
    }
    return out
  }

  /// Days before monitoring's hourly rows (schema 6) are in `usage_daily`; later ones are the
  /// sum of their hours. A request is in one or the other, never both.
  func dailyUsage(keyID: String, since firstDay: String) throws(IVKeysError) -> [UsageReport.Bucket] {
    var out = [UsageReport.Bucket]()
    let firstHour = (try? Time.parseDate(firstDay)).map { $0 / 3600 } ?? 0
    try db.statement(
      """
      SELECT day, sum(count), sum(errors) FROM (
        SELECT day, count, errors FROM usage_daily WHERE key_id = ?1 AND day >= ?2
        UNION ALL
        SELECT strftime('%Y-%m-%d', hour * 3600, 'unixepoch'), requests, errors FROM usage_hourly
        WHERE key_id = ?1 AND hour >= ?3)
      GROUP BY day ORDER BY day
      """
    ).forEachRow([.text(keyID), .text(firstDay), .int(firstHour)]) { row in
      out.append(.init(name: row.text(0), count: row.int(1), errors: row.int(2)))
    }
    return out
  }

  func recordImportedRequest(keyID: String, requestID: String, at: Timestamp) throws(IVKeysError) -> Bool {
    try db.run(
      "INSERT OR IGNORE INTO imported_requests (key_id, request_id, at) VALUES (?, ?, ?)",
      [.text(keyID), .text(requestID), .int(at)])
    return db.changes == 1
  }

  func rateLog(keyID: String) throws(IVKeysError) -> [UInt8]? {
    try db.statement("SELECT log FROM rate_windows WHERE key_id = ?").first([.text(keyID)]) { $0.blob(0) }
  }

  func saveRateLog(keyID: String, _ log: [UInt8]) throws(IVKeysError) {
    try db.run(
      "INSERT INTO rate_windows (key_id, log) VALUES (?, ?) ON CONFLICT (key_id) DO UPDATE SET log = excluded.log",
      [.text(keyID), .blob(log)])
  }

  func requestBudget(keyID: String) throws(IVKeysError) -> BudgetState? {
    try db.statement("SELECT remaining, refilled_at FROM request_budgets WHERE key_id = ?").first([.text(keyID)]) {
      BudgetState(remaining: $0.int(0), refilledAt: $0.int(1))
    }
  }

  func saveRequestBudget(keyID: String, _ s: BudgetState) throws(IVKeysError) {
    try db.run(
      """
      INSERT INTO request_budgets (key_id, remaining, refilled_at) VALUES (?, ?, ?)
      ON CONFLICT (key_id) DO UPDATE SET remaining = excluded.remaining, refilled_at = excluded.refilled_at
      """, [.text(keyID), .int(s.remaining), .int(s.refilledAt)])
  }

  func clearRequestBudget(keyID: String) throws(IVKeysError) {
    try db.run("DELETE FROM request_budgets WHERE key_id = ?", [.text(keyID)])
  }
}
