/// Usage counts, imported gateway requests and rate-limit windows. Counts are queued and sent
/// with the transaction's COMMIT (`PGConnection.flush`): a stream's second of usage is one round
/// trip.
extension PGStore {
  static let totalsUpsert = PGConnection.Insert(
    table: "key_usage AS u",
    columns: [
      ("key_id", "text"), ("request_count", "bigint"), ("error_count", "bigint"), ("last_used_at", "bigint"),
      ("last_ip", "text"),
    ],
    suffix: """
      ON CONFLICT (key_id) DO UPDATE SET request_count = u.request_count + excluded.request_count,
        error_count = u.error_count + excluded.error_count,
        last_ip = CASE WHEN excluded.last_used_at IS NOT NULL
          AND (u.last_used_at IS NULL OR u.last_used_at <= excluded.last_used_at)
          THEN coalesce(excluded.last_ip, u.last_ip) ELSE u.last_ip END,
        last_used_at = CASE WHEN excluded.last_used_at IS NOT NULL
          AND (u.last_used_at IS NULL OR u.last_used_at < excluded.last_used_at)
          THEN excluded.last_used_at ELSE u.last_used_at END
      """)

  static let endpointsUpsert = PGConnection.Insert(
    table: "usage_endpoints AS e",
    columns: [("key_id", "text"), ("endpoint", "text"), ("count", "bigint"), ("errors", "bigint")],
    suffix:
      "ON CONFLICT (key_id, endpoint) DO UPDATE SET count = e.count + excluded.count, errors = e.errors + excluded.errors"
  )

  static let bucketsUpsert = PGConnection.Insert(
    table: "usage_hourly AS h",
    columns: [
      ("key_id", "text"), ("hour", "bigint"), ("ip", "text"), ("requests", "bigint"), ("errors", "bigint"),
      ("denied", "bigint"), ("refused", "bigint"), ("first_seen", "bigint"), ("last_seen", "bigint"),
    ],
    suffix: """
      ON CONFLICT (key_id, hour, ip) DO UPDATE SET requests = h.requests + excluded.requests,
        errors = h.errors + excluded.errors, denied = h.denied + excluded.denied, refused = h.refused + excluded.refused,
        first_seen = least(h.first_seen, excluded.first_seen), last_seen = greatest(h.last_seen, excluded.last_seen)
      """)

  /// Queued as three multi-row upserts. One statement may not change a row twice, so rows for
  /// the same key and endpoint (or key, hour and address) are summed first.
  func addUsage(_ usage: UsageCounts) throws(IVKeysError) {
    db.closeInserts()
    for (id, t) in usage.totals.sorted(by: { $0.key < $1.key }) {
      try queue(
        Self.totalsUpsert,
        [id, PG.int(t.requests), PG.int(t.errors), PG.int(t.lastUsed), t.lastUsed == nil ? nil : t.lastIP],
        what: "usage counts were not written")
    }
    var endpoints = [String: UsageCounts.Bucket]()
    for b in usage.endpoints {
      let key = b.keyID + "\u{0}" + b.name
      if var e = endpoints[key] {
        e.count = SQLiteStore.saturatingSum(e.count, b.count)
        e.errors = SQLiteStore.saturatingSum(e.errors, b.errors)
        endpoints[key] = e
      } else {
        endpoints[key] = b
      }
    }
    for (_, b) in endpoints.sorted(by: { $0.key < $1.key }) {
      try queue(
        Self.endpointsUpsert, [b.keyID, b.name, PG.int(b.count), PG.int(b.errors)],
        what: "usage counts were not written")
    }
    var buckets = [String: UsageCounts.Address]()
    for b in usage.buckets {
      let key = b.keyID + "\u{0}" + String(b.hour) + "\u{0}" + b.ip
      if var e = buckets[key] {
        e.requests = SQLiteStore.saturatingSum(e.requests, b.requests)
        e.errors = SQLiteStore.saturatingSum(e.errors, b.errors)
        e.denied = SQLiteStore.saturatingSum(e.denied, b.denied)
        e.refused = SQLiteStore.saturatingSum(e.refused, b.refused)
        e.firstSeen = min(e.firstSeen, b.firstSeen)
        e.lastSeen = max(e.lastSeen, b.lastSeen)
        buckets[key] = e
      } else {
        buckets[key] = b
      }
    }
    for (_, b) in buckets.sorted(by: { $0.key < $1.key }) {
      try queue(
        Self.bucketsUpsert,
        [
          b.keyID, PG.int(b.hour), b.ip, PG.int(b.requests), PG.int(b.errors), PG.int(b.denied), PG.int(b.refused),
          PG.int(b.firstSeen), PG.int(b.lastSeen),
        ], what: "usage counts were not written")
    }
  }

  func usageTotals(keyID: String) throws(IVKeysError) -> (requests: Int64, errors: Int64, lastUsed: Timestamp?)? {
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        """
        SELECT coalesce(u.request_count, 0), coalesce(u.error_count, 0), u.last_used_at
        FROM keys k LEFT JOIN key_usage u ON u.key_id = k.id WHERE k.id = $1
        """, [keyID]
      ).first.map { ($0.int(0), $0.int(1), $0.optionalInt(2)) }
    }
  }

  func topEndpoints(keyID: String, limit: Int) throws(IVKeysError) -> [UsageReport.Bucket] {
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        "SELECT endpoint, count, errors FROM usage_endpoints WHERE key_id = $1 ORDER BY count DESC, endpoint LIMIT $2::bigint",
        [keyID, PG.int(limit)]
      ).rows.map { .init(name: $0.text(0), count: $0.int(1), errors: $0.int(2)) }
    }
  }

  /// As `SQLiteStore.dailyUsage`: days before the hourly rows from `usage_daily`, later ones the
  /// sum of their hours.
  func dailyUsage(keyID: String, since firstDay: String) throws(IVKeysError) -> [UsageReport.Bucket] {
    let firstHour = (try? Time.parseDate(firstDay)).map { $0 / 3600 } ?? 0
    return try pg { () throws(PGConnection.Failure) in
      try db.query(
        """
        SELECT day, sum(count)::bigint, sum(errors)::bigint FROM (
          SELECT day, count, errors FROM usage_daily WHERE key_id = $1 AND day >= $2
          UNION ALL
          SELECT \(Self.daySQL("hour")), requests, errors FROM usage_hourly WHERE key_id = $1 AND hour >= $3::bigint
        ) d GROUP BY day ORDER BY day
        """, [keyID, firstDay, PG.int(firstHour)]
      ).rows.map { .init(name: $0.text(0), count: $0.int(1), errors: $0.int(2)) }
    }
  }

  /// The UTC day (`YYYY-MM-DD`) of an hour number, in SQL.
  static func daySQL(_ hour: String) -> String {
    "to_char(to_timestamp(\(hour) * 3600) AT TIME ZONE 'UTC', 'YYYY-MM-DD') COLLATE \"C\""
  }

  func recordImportedRequest(keyID: String, requestID: String, at: Timestamp) throws(IVKeysError) -> Bool {
    try pg { () throws(PGConnection.Failure) in
      try db.change(
        "INSERT INTO imported_requests (key_id, request_id, at) VALUES ($1, $2, $3::bigint) ON CONFLICT DO NOTHING",
        [keyID, requestID, PG.int(at)]) == 1
    }
  }

  func rateLog(keyID: String) throws(IVKeysError) -> [UInt8]? {
    try pg { () throws(PGConnection.Failure) in
      try db.query("SELECT log FROM rate_windows WHERE key_id = $1", [keyID]).first.map { $0.blob(0) }
    }
  }

  func saveRateLog(keyID: String, _ log: [UInt8]) throws(IVKeysError) {
    // One statement each: a log is saved once a transaction, but rarely for many keys.
    db.enqueue(
      """
      INSERT INTO rate_windows (key_id, log) VALUES ($1, $2::bytea)
      ON CONFLICT (key_id) DO UPDATE SET log = excluded.log
      """, [keyID, PG.bytea(log)])
  }

  func requestBudget(keyID: String) throws(IVKeysError) -> BudgetState? {
    try pg { () throws(PGConnection.Failure) in
      try db.query("SELECT remaining, refilled_at FROM request_budgets WHERE key_id = $1", [keyID]).first.map {
        BudgetState(remaining: $0.int(0), refilledAt: $0.int(1))
      }
    }
  }

  func saveRequestBudget(keyID: String, _ s: BudgetState) throws(IVKeysError) {
    db.enqueue(
      """
      INSERT INTO request_budgets (key_id, remaining, refilled_at) VALUES ($1, $2::bigint, $3::bigint)
      ON CONFLICT (key_id) DO UPDATE SET remaining = excluded.remaining, refilled_at = excluded.refilled_at
      """, [keyID, PG.int(s.remaining), PG.int(s.refilledAt)])
  }

  func clearRequestBudget(keyID: String) throws(IVKeysError) {
    db.enqueue("DELETE FROM request_budgets WHERE key_id = $1", [keyID])
  }
}
