/// Usage counts, imported gateway requests and rate-limit windows.
extension SQLiteStore {
  /// Each statement is prepared only when it has rows to write: a single verify without an
  /// endpoint would otherwise compile an upsert it never runs.
  func addUsage(_ usage: UsageCounts) throws(IVKeysError) {
    if !usage.totals.isEmpty { try addTotals(usage) }
    if !usage.endpoints.isEmpty { try addEndpoints(usage) }
    if !usage.days.isEmpty { try addDays(usage) }
  }

  private func addTotals(_ usage: UsageCounts) throws(IVKeysError) {
    let updateTotals = try db.statement(
      """
      UPDATE keys SET request_count = request_count + ?, error_count = error_count + ?,
        last_used_at = CASE WHEN ?3 IS NOT NULL AND (last_used_at IS NULL OR last_used_at < ?3) THEN ?3 ELSE last_used_at END
      WHERE id = ?4
      """)
    for (id, t) in usage.totals {
      try updateTotals.run([.int(t.requests), .int(t.errors), .optional(t.lastUsed), .text(id)])
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

  private func addDays(_ usage: UsageCounts) throws(IVKeysError) {
    let addDay = try db.statement(
      """
      INSERT INTO usage_daily (key_id, day, count, errors) VALUES (?, ?, ?, ?)
      ON CONFLICT (key_id, day) DO UPDATE SET count = count + excluded.count, errors = errors + excluded.errors
      """)
    for b in usage.days {
      try addDay.run([.text(b.keyID), .text(b.name), .int(b.count), .int(b.errors)])
    }
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

  func dailyUsage(keyID: String, since firstDay: String) throws(IVKeysError) -> [UsageReport.Bucket] {
    var out = [UsageReport.Bucket]()
    try db.statement("SELECT day, count, errors FROM usage_daily WHERE key_id = ? AND day >= ? ORDER BY day")
      .forEachRow([.text(keyID), .text(firstDay)]) { row in
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

  func rateWindow(keyID: String) throws(IVKeysError) -> RateWindow? {
    try db.statement("SELECT window_start, count FROM rate_windows WHERE key_id = ?").first([.text(keyID)]) { row in
      RateWindow(start: row.int(0), count: row.int(1))
    }
  }

  func saveRateWindow(keyID: String, _ w: RateWindow) throws(IVKeysError) {
    try db.run(
      """
      INSERT INTO rate_windows (key_id, window_start, count) VALUES (?, ?, ?)
      ON CONFLICT (key_id) DO UPDATE SET window_start = excluded.window_start, count = excluded.count
      """, [.text(keyID), .int(w.start), .int(w.count)])
  }
}
