/// Administrators, the scope catalog and expiry notices.
extension SQLiteStore {
  // MARK: - Administrators

  func administrators() throws(IVKeysError) -> [Administrator] {
    let sealer = sealer
    var out = [Administrator]()
    let sql = "SELECT \(Self.sealedColumns(.admins)), added_at, added_by FROM admins ORDER BY user"
    try db.statement(sql).forEachRow { row in
      let intact = sealer.map { Self.rowIntact(.admins, row, $0) }
      out.append(Administrator(user: row.text(0), addedAt: row.int(2), addedBy: row.text(3), damaged: intact == false))
    }
    return out
  }

  /// Whether `user` is an administrator; a row that does not match its seal is `tampered`
  /// (it may have been inserted by someone without the secret).
  func isAdministrator(_ user: String) throws(IVKeysError) -> Bool {
    switch try rowSealIntact(.admins, user) {
    case nil: return false
    case true?: return true
    case false?: throw .tampered("the administrator row for \(user) does not match its seal")
    }
  }

  /// Administrators whose rows match their seals.
  func administratorCount() throws(IVKeysError) -> Int64 {
    Int64(try administrators().filter { !$0.damaged }.count)
  }

  func insertAdministrator(_ user: String, at: Timestamp, by: String) throws(IVKeysError) {
    try db.run("INSERT INTO admins (user, added_at, added_by) VALUES (?, ?, ?)", [.text(user), .int(at), .text(by)])
    try resealRow(.admins, user)
  }

  func deleteAdministrator(_ user: String) throws(IVKeysError) {
    try db.run("DELETE FROM admins WHERE user = ?", [.text(user)])
  }

  // MARK: - Scopes

  func scopeCatalog() throws(IVKeysError) -> [ScopeEntry] {
    let sealer = sealer
    var out = [ScopeEntry]()
    let sql = "SELECT \(Self.sealedColumns(.scopes)), description FROM scopes ORDER BY name"
    try db.statement(sql).forEachRow { row in
      let intact = sealer.map { Self.rowIntact(.scopes, row, $0) }
      var entry = ScopeEntry(name: row.text(0), description: row.text(2))
      entry.damaged = intact == false
      out.append(entry)
    }
    return out
  }

  /// Whether the catalog holds `name`; a row that does not match its seal is `tampered`.
  func scopeExists(_ name: String) throws(IVKeysError) -> Bool {
    switch try rowSealIntact(.scopes, name) {
    case nil: return false
    case true?: return true
    case false?: throw .tampered("the scope catalog's row for \(name) does not match its seal")
    }
  }

  func insertScope(_ name: String, description: String, at: Timestamp, by: String) throws(IVKeysError) {
    try db.run(
      "INSERT INTO scopes (name, description, added_at, added_by) VALUES (?, ?, ?, ?)",
      [.text(name), .text(description), .int(at), .text(by)])
    try resealRow(.scopes, name)
  }

  // MARK: - Expiry notices

  func notificationState(keyID: String, expiresAt: Timestamp, claimedAfter: Timestamp)
    throws(IVKeysError) -> NotificationState?
  {
    let sent = try db.statement(
      """
      SELECT sent_at IS NOT NULL FROM notifications
      WHERE key_id = ? AND expires_at = ? AND (sent_at IS NOT NULL OR claimed_at > ?)
      """
    ).first([.text(keyID), .int(expiresAt), .int(claimedAfter)]) { $0.int(0) == 1 }
    return sent.map { $0 ? .sent : .claimed }
  }

  func claimNotification(_ n: NotificationRow, staleBefore: Timestamp) throws(IVKeysError) -> Bool {
    try db.run(
      """
      INSERT INTO notifications (key_id, expires_at, recipient, message_id, claimed_at, sent_at)
      VALUES (?1, ?2, ?3, ?4, ?5, NULL)
      ON CONFLICT (key_id, expires_at) DO UPDATE
        SET recipient = excluded.recipient, message_id = excluded.message_id, claimed_at = excluded.claimed_at
        WHERE notifications.sent_at IS NULL AND notifications.claimed_at <= ?6
      """,
      [.text(n.keyID), .int(n.expiresAt), .text(n.recipient), .text(n.messageID), .int(n.at), .int(staleBefore)])
    return db.changes == 1
  }

  func releaseNotification(_ n: NotificationRow) throws(IVKeysError) {
    try db.run(
      "DELETE FROM notifications WHERE key_id = ? AND expires_at = ? AND message_id = ? AND sent_at IS NULL",
      [.text(n.keyID), .int(n.expiresAt), .text(n.messageID)])
  }

  func markNotificationSent(_ n: NotificationRow) throws(IVKeysError) {
    try db.run(
      """
      INSERT INTO notifications (key_id, expires_at, recipient, message_id, claimed_at, sent_at)
      VALUES (?1, ?2, ?3, ?4, ?5, ?5)
      ON CONFLICT (key_id, expires_at) DO UPDATE
        SET recipient = excluded.recipient, message_id = excluded.message_id, sent_at = excluded.sent_at
      """,
      [.text(n.keyID), .int(n.expiresAt), .text(n.recipient), .text(n.messageID), .int(n.at)])
  }
}
