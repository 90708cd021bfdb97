/// Monitoring: the hourly and per-address buckets the alert rules read, working hours and the
/// states of alerts.
extension SQLiteStore {
  // MARK: - Buckets

  /// Keys are read in id order and each key's buckets by its primary key, so a window costs a
  /// seek per key rather than a pass over every bucket kept; a key's hour is the sum of its
  /// addresses' rows, which are adjacent in the primary key. They are summed here as they come:
  /// SQLite's GROUP BY over the same order took 1.6 s for 1.9 million rows (10,000 keys x 8
  /// days), the plain scan 0.3 s.
  func forEachHourlyBucket(
    fromHour: Int64, keyID: String?, _ body: (UsageCounts.Hour) throws(IVKeysError) -> Void
  ) throws(IVKeysError) {
    let sql =
      keyID == nil
      ? """
      SELECT h.key_id, h.hour, h.requests, h.errors FROM keys k CROSS JOIN usage_hourly h
      ON h.key_id = k.id AND h.hour >= ?1 ORDER BY k.id, h.hour
      """
      : "SELECT key_id, hour, requests, errors FROM usage_hourly WHERE key_id = ?2 AND hour >= ?1 ORDER BY hour"
    // A key's id is read once for its run of rows, not once a row.
    var key = ""
    var pending: UsageCounts.Hour?
    try db.statement(sql).forEachRow(Self.bucketValues(fromHour, keyID)) { row throws(IVKeysError) in
      let hour = row.int(1)
      let sameKey = Self.reuse(&key, row, 0)
      if sameKey, var p = pending, p.hour == hour {
        // Saturating: a row changed by hand may hold anything.
        p.requests = Self.saturatingSum(p.requests, row.int(2))
        p.errors = Self.saturatingSum(p.errors, row.int(3))
        pending = p
        return
      }
      if let done = pending { try body(done) }
      pending = UsageCounts.Hour(keyID: key, hour: hour, requests: row.int(2), errors: row.int(3))
    }
    if let done = pending { try body(done) }
  }

  static func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 {
    let (s, o) = a.addingReportingOverflow(b)
    return o ? (b < 0 ? .min : .max) : s
  }

  func forEachAddressBucket(
    fromHour: Int64, keyID: String?, _ body: (UsageCounts.Address) throws(IVKeysError) -> Void
  ) throws(IVKeysError) {
    let columns = "a.key_id, a.hour, a.ip, a.first_seen, a.last_seen, a.requests, a.errors, a.denied, a.refused"
    let sql =
      keyID == nil
      ? """
      SELECT \(columns) FROM keys k CROSS JOIN usage_hourly a
      ON a.key_id = k.id AND a.hour >= ?1 AND a.ip <> '' ORDER BY k.id, a.hour, a.ip
      """
      : "SELECT \(columns) FROM usage_hourly a WHERE a.key_id = ?2 AND a.hour >= ?1 AND a.ip <> '' ORDER BY a.hour, a.ip"
    var key = ""
    try db.statement(sql).forEachRow(Self.bucketValues(fromHour, keyID)) { row throws(IVKeysError) in
      Self.reuse(&key, row, 0)
      try body(
        UsageCounts.Address(
          keyID: key, hour: row.int(1), ip: row.text(2), firstSeen: row.int(3), lastSeen: row.int(4),
          requests: row.int(5), errors: row.int(6), denied: row.int(7), refused: row.int(8)))
    }
  }

  /// The parameters of a bucket stream: `?1` the first hour, `?2` the key when there is one.
  private static func bucketValues(_ fromHour: Int64, _ keyID: String?) -> [SQLValue] {
    keyID.map { [.int(fromHour), .text($0)] } ?? [.int(fromHour)]
  }

  /// Sets `text` to the row's column unless it already holds it, so a run of rows of one key
  /// shares one string; true when it did.
  @discardableResult
  private static func reuse(_ text: inout String, _ row: Row, _ column: Int32) -> Bool {
    let same = row.withText(column) { bytes in
      text.utf8.withContiguousStorageIfAvailable { own in
        guard own.count == bytes.count else { return false }
        for i in 0..<own.count where own[i] != bytes[i] { return false }
        return true
      } ?? false
    }
    if !same { text = row.text(column) }
    return same
  }

  func lastAddressHour(keyID: String, ip: String, before hour: Int64, notBefore: Int64) throws(IVKeysError)
    -> Int64?
  {
    // The key's hours backwards from `hour`, no further than `notBefore`: a familiar address is
    // found in the first rows, a new one costs a pass over the key's lookback days.
    try db.statement(
      "SELECT hour FROM usage_hourly WHERE key_id = ? AND hour < ? AND hour >= ? AND ip = ? ORDER BY hour DESC LIMIT 1"
    )
    .first([.text(keyID), .int(hour), .int(notBefore), .text(ip)]) { $0.int(0) }
  }

  func firstTrafficHour(keyID: String) throws(IVKeysError) -> Int64? {
    try db.statement("SELECT min(hour) FROM usage_hourly WHERE key_id = ?").first([.text(keyID)]) {
      $0.optionalInt(0)
    } ?? nil
  }

  func keyCompanies() throws(IVKeysError) -> [String: String] {
    var out = [String: String]()
    try db.statement("SELECT id, company FROM keys").forEachRow { row in out[row.text(0)] = row.text(1) }
    return out
  }

  func addressSummary(keyID: String, limit: Int) throws(IVKeysError) -> [AddressSummary] {
    var out = [AddressSummary]()
    try db.statement(
      """
      SELECT ip, min(first_seen), max(last_seen), sum(requests), sum(denied) FROM usage_hourly
      WHERE key_id = ? AND ip <> '' GROUP BY ip ORDER BY max(last_seen) DESC, ip LIMIT ?
      """
    ).forEachRow([.text(keyID), .int(Int64(limit))]) { row in
      out.append(
        AddressSummary(
          ip: row.text(0), firstSeen: row.int(1), lastSeen: row.int(2), requests: row.int(3), denied: row.int(4)))
    }
    return out
  }

  func pruneUsage(beforeHour hour: Int64) throws(IVKeysError) -> PrunedUsage {
    var pruned = PrunedUsage()
    try db.run("DELETE FROM usage_hourly WHERE hour < ?", [.int(hour)])
    pruned.hours = db.changes
    try db.run(
      "DELETE FROM usage_daily WHERE day < strftime('%Y-%m-%d', ? * 3600, 'unixepoch')", [.int(hour)])
    pruned.days = db.changes
    try db.run("DELETE FROM alert_states WHERE window_start < ?", [.int(hour * 3600)])
    pruned.alerts = db.changes
    return pruned
  }

  // MARK: - Working hours

  func workingHours(subject: String) throws(IVKeysError) -> WorkingHoursRow? {
    let sealer = sealer
    return try db.statement(Self.workingHoursSQL + " WHERE subject = ?")
      .first([.text(subject)]) { row in Self.workingHoursRow(row, sealer) }
  }

  func allWorkingHours() throws(IVKeysError) -> [WorkingHoursRow] {
    let sealer = sealer
    var out = [WorkingHoursRow]()
    try db.statement(Self.workingHoursSQL + " ORDER BY subject").forEachRow { row in
      out.append(Self.workingHoursRow(row, sealer))
    }
    return out
  }

  /// The sealed columns, then when and by whom they were set.
  private static let workingHoursSQL =
    "SELECT \(sealedColumns(.workingHours)), set_at, set_by FROM \(SealedTable.workingHours.rawValue)"

  private static func workingHoursRow(_ row: Row, _ sealer: RowSealer?) -> WorkingHoursRow {
    WorkingHoursRow(
      subject: row.text(0), hours: row.text(1), zone: row.text(2), setAt: row.int(4), setBy: row.text(5),
      intact: sealer.map { rowIntact(.workingHours, row, $0) } ?? false)
  }

  func setWorkingHours(subject: String, hours: String, zone: String, at: Timestamp, by: String) throws(IVKeysError) {
    guard try rowSealIntact(.workingHours, subject) != false else {
      throw .tampered("the working hours of \(subject) do not match their seal")
    }
    try db.run(
      """
      INSERT INTO working_hours (subject, hours, tz, set_at, set_by) VALUES (?1, ?2, ?3, ?4, ?5)
      ON CONFLICT (subject) DO UPDATE SET hours = ?2, tz = ?3, set_at = ?4, set_by = ?5
      """, [.text(subject), .text(hours), .text(zone), .int(at), .text(by)])
    try resealRow(.workingHours, subject)
  }

  func deleteWorkingHours(subject: String) throws(IVKeysError) {
    try db.run("DELETE FROM working_hours WHERE subject = ?", [.text(subject)])
  }

  // MARK: - Alert states

  static let alertStateColumns =
    "id, rule, key_id, window_start, acknowledged_at, acknowledged_by, recipient, message_id, claimed_at, notified_at"

  private static func alertState(_ row: Row) -> AlertStateRow {
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
    var out = [String: AlertStateRow]()
    try db.statement("SELECT \(Self.alertStateColumns) FROM alert_states WHERE window_start >= ?")
      .forEachRow([.int(windowFrom)]) { row in
        let s = Self.alertState(row)
        out[s.id] = s
      }
    return out
  }

  func alertState(id: String) throws(IVKeysError) -> AlertStateRow? {
    try db.statement("SELECT \(Self.alertStateColumns) FROM alert_states WHERE id = ?").first([.text(id)]) {
      Self.alertState($0)
    }
  }

  func acknowledgeAlert(_ s: AlertStateRow, at: Timestamp, by: String) throws(IVKeysError) -> Bool {
    try db.run(
      """
      INSERT INTO alert_states (id, rule, key_id, window_start, acknowledged_at, acknowledged_by)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6)
      ON CONFLICT (id) DO UPDATE SET acknowledged_at = ?5, acknowledged_by = ?6
        WHERE alert_states.acknowledged_at IS NULL
      """, [.text(s.id), .text(s.rule), .text(s.keyID), .int(s.windowStart), .int(at), .text(by)])
    return db.changes == 1
  }

  func claimAlertNotice(
    _ s: AlertStateRow, recipient: String, messageID: String, at: Timestamp, staleBefore: Timestamp
  ) throws(IVKeysError) -> Bool {
    try db.run(
      """
      INSERT INTO alert_states (id, rule, key_id, window_start, recipient, message_id, claimed_at)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
      ON CONFLICT (id) DO UPDATE SET recipient = ?5, message_id = ?6, claimed_at = ?7
        WHERE alert_states.notified_at IS NULL
          AND (alert_states.claimed_at IS NULL OR alert_states.claimed_at <= ?8)
      """,
      [
        .text(s.id), .text(s.rule), .text(s.keyID), .int(s.windowStart), .text(recipient), .text(messageID),
        .int(at), .int(staleBefore),
      ])
    return db.changes == 1
  }

  func releaseAlertNotice(id: String, messageID: String) throws(IVKeysError) {
    try db.run(
      "UPDATE alert_states SET claimed_at = NULL WHERE id = ? AND message_id = ? AND notified_at IS NULL",
      [.text(id), .text(messageID)])
  }

  func markAlertNoticeSent(id: String, messageID: String, at: Timestamp) throws(IVKeysError) {
    try db.run(
      "UPDATE alert_states SET notified_at = ? WHERE id = ? AND message_id = ?",
      [.int(at), .text(id), .text(messageID)])
  }
}
