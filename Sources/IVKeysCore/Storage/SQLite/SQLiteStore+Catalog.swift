/// Administrators, the scope catalog and expiry notices.
extension SQLiteStore {
  // MARK: - Administrators

  func administrators() throws(IVKeysError) -> [Administrator] {
    var out = [Administrator]()
    try db.statement("SELECT user, added_at, added_by FROM admins ORDER BY user").forEachRow { row in
      out.append(Administrator(user: row.text(0), addedAt: row.int(1), addedBy: row.text(2)))
    }
    return out
  }

  func isAdministrator(_ user: String) throws(IVKeysError) -> Bool {
    try db.scalarInt("SELECT 1 FROM admins WHERE user = ?", [.text(user)]) != nil
  }

  func administratorCount() throws(IVKeysError) -> Int64 { try db.scalarInt("SELECT count(*) FROM admins") ?? 0 }

  func insertAdministrator(_ user: String, at: Timestamp, by: String) throws(IVKeysError) {
    try db.run("INSERT INTO admins (user, added_at, added_by) VALUES (?, ?, ?)", [.text(user), .int(at), .text(by)])
  }

  func deleteAdministrator(_ user: String) throws(IVKeysError) {
    try db.run("DELETE FROM admins WHERE user = ?", [.text(user)])
  }

  // MARK: - Scopes

  func scopeCatalog() throws(IVKeysError) -> [ScopeEntry] {
    var out = [ScopeEntry]()
    try db.statement("SELECT name, description FROM scopes ORDER BY name").forEachRow { row in
      out.append(ScopeEntry(name: row.text(0), description: row.text(1)))
    }
    return out
  }

  func scopeExists(_ name: String) throws(IVKeysError) -> Bool {
    try db.scalarInt("SELECT 1 FROM scopes WHERE name = ?", [.text(name)]) != nil
  }

  func insertScope(_ name: String, description: String, at: Timestamp, by: String) throws(IVKeysError) {
    try db.run(
      "INSERT INTO scopes (name, description, added_at, added_by) VALUES (?, ?, ?, ?)",
      [.text(name), .text(description), .int(at), .text(by)])
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
