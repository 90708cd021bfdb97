/// Usage counts, imported gateway requests and rate-limit windows. Counts are queued and sent
/// with the transaction's COMMIT (`PGConnection.flush`): a stream's second of usage is one round
/// trip.
extension PGStore {
  func addUsage(_ usage: UsageCounts) throws(IVKeysError) {
    for (id, t) in usage.totals {
      db.enqueue(
        """
        INSERT INTO key_usage AS u (key_id, request_count, error_count, last_used_at, last_ip)
        VALUES ($1, $2::bigint, $3::bigint, $4::bigint, CASE WHEN $4::bigint IS NULL THEN NULL ELSE $5 END)
        ON CONFLICT (key_id) DO UPDATE SET request_count = u.request_count + excluded.request_count,
          error_count = u.error_count + excluded.error_count,
          last_ip = CASE WHEN $4::bigint IS NOT NULL AND (u.last_used_at IS NULL OR u.last_used_at <= $4::bigint)
            THEN coalesce($5, u.last_ip) ELSE u.last_ip END,
          last_used_at = CASE WHEN $4::bigint IS NOT NULL AND (u.last_used_at IS NULL OR u.last_used_at < $4::bigint)
            THEN $4::bigint ELSE u.last_used_at END
        """, [id, PG.int(t.requests), PG.int(t.errors), PG.int(t.lastUsed), t.lastIP])
    }
    for b in usage.endpoints {
      db.enqueue(
        """
        INSERT INTO usage_endpoints AS e (key_id, endpoint, count, errors) VALUES ($1, $2, $3::bigint, $4::bigint)
        ON CONFLICT (key_id, endpoint) DO UPDATE SET count = e.count + excluded.count, errors = e.errors + excluded.errors
        """, [b.keyID, b.name, PG.int(b.count), PG.int(b.errors)])
    }
    for b in usage.buckets {
      db.enqueue(
        """
        INSERT INTO usage_hourly AS h (key_id, hour, ip, requests, errors, denied, refused, first_seen, last_seen)
        VALUES ($1, $2::bigint, $3, $4::bigint, $5::bigint, $6::bigint, $7::bigint, $8::bigint, $9::bigint)
        ON CONFLICT (key_id, hour, ip) DO UPDATE SET requests = h.requests + excluded.requests,
          errors = h.errors + excluded.errors, denied = h.denied + excluded.denied, refused = h.refused + excluded.refused,
          first_seen = least(h.first_seen, excluded.first_seen), last_seen = greatest(h.last_seen, excluded.last_seen)
        """,
        [
          b.keyID, PG.int(b.hour), b.ip, PG.int(b.requests), PG.int(b.errors), PG.int(b.denied), PG.int(b.refused),
          PG.int(b.firstSeen), PG.int(b.lastSeen),
        ])
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

  func rateWindow(keyID: String) throws(IVKeysError) -> RateWindow? {
    try pg { () throws(PGConnection.Failure) in
      try db.query("SELECT window_start, count FROM rate_windows WHERE key_id = $1", [keyID]).first.map {
        RateWindow(start: $0.int(0), count: $0.int(1))
      }
    }
  }

  func saveRateWindow(keyID: String, _ w: RateWindow) throws(IVKeysError) {
    db.enqueue(
      """
      INSERT INTO rate_windows (key_id, window_start, count) VALUES ($1, $2::bigint, $3::bigint)
      ON CONFLICT (key_id) DO UPDATE SET window_start = excluded.window_start, count = excluded.count
      """, [keyID, PG.int(w.start), PG.int(w.count)])
  }
}
