/// Monitoring: hourly and per-address buckets, working hours and alert states.
extension PGStore {
  // MARK: - Buckets

  /// Rows of one query read through a cursor, 2,000 at a time, on one snapshot.
  func forEachRow(_ sql: String, _ values: [String?], _ body: (PGRow) throws(IVKeysError) -> Void) throws(IVKeysError) {
    try forEachBatch(sql, values) { batch throws(IVKeysError) in for row in batch.rows { try body(row) } }
  }

  /// The same, a batch of rows at a time. Each cursor has a name of its own: a body may read
  /// through another.
  func forEachBatch(_ sql: String, _ values: [String?], _ body: (PGResult) throws(IVKeysError) -> Void)
    throws(IVKeysError)
  {
    cursors += 1
    let name = "ivkeys_cursor_\(cursors)"
    try read { () throws(IVKeysError) in
      try pg { () throws(PGConnection.Failure) in try db.query("DECLARE \(name) NO SCROLL CURSOR FOR " + sql, values) }
      while true {
        let batch = try pg { () throws(PGConnection.Failure) in try db.query("FETCH 2000 FROM \(name)") }
        try body(batch)
        if batch.count < 2000 { break }
      }
      try pg { () throws(PGConnection.Failure) in try db.query("CLOSE \(name)") }
    }
  }

  /// A key's hours, summed over its addresses by the server, key by key in id order.
  func forEachHourlyBucket(
    fromHour: Int64, keyID: String?, _ body: (UsageCounts.Hour) throws(IVKeysError) -> Void
  ) throws(IVKeysError) {
    let sql = """
      SELECT h.key_id, h.hour, sum(h.requests)::bigint, sum(h.errors)::bigint FROM usage_hourly h
      JOIN keys k ON k.id = h.key_id WHERE h.hour >= $1::bigint\(keyID == nil ? "" : " AND h.key_id = $2")
      GROUP BY h.key_id, h.hour ORDER BY h.key_id, h.hour
      """
    try forEachRow(sql, Self.bucketValues(fromHour, keyID)) { row throws(IVKeysError) in
      try body(UsageCounts.Hour(keyID: row.text(0), hour: row.int(1), requests: row.int(2), errors: row.int(3)))
    }
  }

  func forEachAddressBucket(
    fromHour: Int64, keyID: String?, _ body: (UsageCounts.Address) throws(IVKeysError) -> Void
  ) throws(IVKeysError) {
    let sql = """
      SELECT a.key_id, a.hour, a.ip, a.first_seen, a.last_seen, a.requests, a.errors, a.denied, a.refused
      FROM usage_hourly a JOIN keys k ON k.id = a.key_id
      WHERE a.hour >= $1::bigint AND a.ip <> ''\(keyID == nil ? "" : " AND a.key_id = $2")
      ORDER BY a.key_id, a.hour, a.ip
      """
    try forEachRow(sql, Self.bucketValues(fromHour, keyID)) { row throws(IVKeysError) in
      try body(
        UsageCounts.Address(
          keyID: row.text(0), hour: row.int(1), ip: row.text(2), firstSeen: row.int(3), lastSeen: row.int(4),
          requests: row.int(5), errors: row.int(6), denied: row.int(7), refused: row.int(8)))
    }
  }

  private static func bucketValues(_ fromHour: Int64, _ keyID: String?) -> [String?] {
    keyID.map { [PG.int(fromHour), $0] } ?? [PG.int(fromHour)]
  }

  func lastAddressHour(keyID: String, ip: String, before hour: Int64, notBefore: Int64) throws(IVKeysError)
    -> Int64?
  {
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        """
        SELECT hour FROM usage_hourly WHERE key_id = $1 AND hour < $2::bigint AND hour >= $3::bigint AND ip = $4
        ORDER BY hour DESC LIMIT 1
        """, [keyID, PG.int(hour), PG.int(notBefore), ip]
      ).first?.int(0)
    }
  }

  func firstTrafficHour(keyID: String) throws(IVKeysError) -> Int64? {
    try pg { () throws(PGConnection.Failure) in
      try db.query("SELECT min(hour) FROM usage_hourly WHERE key_id = $1", [keyID]).first?.optionalInt(0)
    }
  }

  func keyCompanies() throws(IVKeysError) -> [String: String] {
    var out = [String: String]()
    try forEachRow("SELECT id, company FROM keys", []) { row in out[row.text(0)] = row.text(1) }
    return out
  }

  func addressSummary(keyID: String, limit: Int) throws(IVKeysError) -> [AddressSummary] {
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        """
        SELECT ip, min(first_seen), max(last_seen), sum(requests)::bigint, sum(denied)::bigint FROM usage_hourly
        WHERE key_id = $1 AND ip <> '' GROUP BY ip ORDER BY max(last_seen) DESC, ip LIMIT $2::bigint
        """, [keyID, PG.int(limit)]
      ).rows.map {
        AddressSummary(
          ip: $0.text(0), firstSeen: $0.int(1), lastSeen: $0.int(2), requests: $0.int(3), denied: $0.int(4))
      }
    }
  }

  func pruneUsage(beforeHour hour: Int64) throws(IVKeysError) -> PrunedUsage {
    var pruned = PrunedUsage()
    try pg { () throws(PGConnection.Failure) in
      pruned.hours = try db.change("DELETE FROM usage_hourly WHERE hour < $1::bigint", [PG.int(hour)])
      pruned.days = try db.change("DELETE FROM usage_daily WHERE day < \(Self.daySQL("$1::bigint"))", [PG.int(hour)])
      pruned.alerts = try db.change("DELETE FROM alert_states WHERE window_start < $1::bigint", [PG.int(hour * 3600)])
    }
    return pruned
  }

  // MARK: - Working hours

  private static let workingHoursSQL =
    "SELECT \(sealed(.workingHours).columns), set_at, set_by FROM \(SealedTable.workingHours.rawValue)"

  private static func workingHoursRow(_ row: PGRow, _ sealer: RowSealer?) -> WorkingHoursRow {
    WorkingHoursRow(
      subject: row.text(0), hours: row.text(1), zone: row.text(2), setAt: row.int(4), setBy: row.text(5),
      intact: sealer.map { rowIntact(.workingHours, row, $0) } ?? false)
  }

  func workingHours(subject: String) throws(IVKeysError) -> WorkingHoursRow? {
    let sealer = sealer
    return try pg { () throws(PGConnection.Failure) in
      try db.query(Self.workingHoursSQL + " WHERE subject = $1", [subject]).first.map {
        Self.workingHoursRow($0, sealer)
      }
    }
  }

  func allWorkingHours() throws(IVKeysError) -> [WorkingHoursRow] {
    let sealer = sealer
    return try pg { () throws(PGConnection.Failure) in
      try db.query(Self.workingHoursSQL + " ORDER BY subject").rows.map { Self.workingHoursRow($0, sealer) }
    }
  }

  func setWorkingHours(subject: String, hours: String, zone: String, at: Timestamp, by: String) throws(IVKeysError) {
    guard try rowSealIntact(.workingHours, subject) != false else {
      throw .tampered("the working hours of \(subject) do not match their seal")
    }
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        """
        INSERT INTO working_hours (subject, hours, tz, set_at, set_by) VALUES ($1, $2, $3, $4::bigint, $5)
        ON CONFLICT (subject) DO UPDATE SET hours = $2, tz = $3, set_at = $4::bigint, set_by = $5
        """, [subject, hours, zone, PG.int(at), by])
    }
    try resealRow(.workingHours, subject)
  }

  func deleteWorkingHours(subject: String) throws(IVKeysError) {
    try pg { () throws(PGConnection.Failure) in
      try db.query("DELETE FROM working_hours WHERE subject = $1", [subject])
    }
  }

  // MARK: - Alert states

  private static func alertState(_ row: PGRow) -> AlertStateRow {
    var s = AlertStateRow(id: row.text(0), rule: row.text(1), keyID: row.text(2), windowStart: row.int(3))
    s.acknowledgedAt = row.optionalInt(4)
    s.acknowledgedBy = row.optionalText(5)
    s.recipient = row.optionalText(6)
    s.messageID = row.optionalText(7)
    s.claimedAt = row.optionalInt(8)
    s.notifiedAt = row.optionalInt(9)
    return s
  }

  func alertStates(windowFrom: Timestamp) throws(IVKeysError) -> [String: AlertStateRow] {
    let rows = try pg { () throws(PGConnection.Failure) in
      try db.query(
        "SELECT \(SQLiteStore.alertStateColumns) FROM alert_states WHERE window_start >= $1::bigint",
        [PG.int(windowFrom)]
      ).rows.map(Self.alertState)
    }
    return Dictionary(rows.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
  }

  func alertState(id: String) throws(IVKeysError) -> AlertStateRow? {
    try pg { () throws(PGConnection.Failure) in
      try db.query("SELECT \(SQLiteStore.alertStateColumns) FROM alert_states WHERE id = $1", [id]).first.map(
        Self.alertState)
    }
  }

  func acknowledgeAlert(_ s: AlertStateRow, at: Timestamp, by: String) throws(IVKeysError) -> Bool {
    try pg { () throws(PGConnection.Failure) in
      try db.change(
        """
        INSERT INTO alert_states AS a (id, rule, key_id, window_start, acknowledged_at, acknowledged_by)
        VALUES ($1, $2, $3, $4::bigint, $5::bigint, $6)
        ON CONFLICT (id) DO UPDATE SET acknowledged_at = $5::bigint, acknowledged_by = $6
          WHERE a.acknowledged_at IS NULL
        """, [s.id, s.rule, s.keyID, PG.int(s.windowStart), PG.int(at), by]) == 1
    }
  }

  func claimAlertNotice(
    _ s: AlertStateRow, recipient: String, messageID: String, at: Timestamp, staleBefore: Timestamp
  ) throws(IVKeysError) -> Bool {
    try pg { () throws(PGConnection.Failure) in
      try db.change(
        """
        INSERT INTO alert_states AS a (id, rule, key_id, window_start, recipient, message_id, claimed_at)
        VALUES ($1, $2, $3, $4::bigint, $5, $6, $7::bigint)
        ON CONFLICT (id) DO UPDATE SET recipient = $5, message_id = $6, claimed_at = $7::bigint
          WHERE a.notified_at IS NULL AND (a.claimed_at IS NULL OR a.claimed_at <= $8::bigint)
        """,
        [s.id, s.rule, s.keyID, PG.int(s.windowStart), recipient, messageID, PG.int(at), PG.int(staleBefore)]) == 1
    }
  }

  func releaseAlertNotice(id: String, messageID: String) throws(IVKeysError) {
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        "UPDATE alert_states SET claimed_at = NULL WHERE id = $1 AND message_id = $2 AND notified_at IS NULL",
        [id, messageID])
    }
  }

  func markAlertNoticeSent(id: String, messageID: String, at: Timestamp) throws(IVKeysError) {
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        "UPDATE alert_states SET notified_at = $1::bigint WHERE id = $2 AND message_id = $3",
        [PG.int(at), id, messageID])
    }
  }
}
