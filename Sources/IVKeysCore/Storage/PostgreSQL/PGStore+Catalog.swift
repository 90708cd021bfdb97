/// Administrators, the scope catalog and expiry notices.
extension PGStore {
  // MARK: - Administrators

  func administrators() throws(IVKeysError) -> [Administrator] {
    let sealer = sealer
    return try pg { () throws(PGConnection.Failure) in
      try db.query("SELECT \(Self.sealed(.admins).columns), added_at, added_by FROM admins ORDER BY \"user\"").rows.map
      {
        row in
        let intact = sealer.map { Self.rowIntact(.admins, row, $0) }
        return Administrator(user: row.text(0), addedAt: row.int(2), addedBy: row.text(3), damaged: intact == false)
      }
    }
  }

  func isAdministrator(_ user: String) throws(IVKeysError) -> Bool {
    switch try rowSealIntact(.admins, user) {
    case nil: return false
    case true?: return true
    case false?: throw .tampered("the administrator row for \(user) does not match its seal")
    }
  }

  func administratorCount() throws(IVKeysError) -> Int64 {
    Int64(try administrators().filter { !$0.damaged }.count)
  }

  func insertAdministrator(_ user: String, at: Timestamp, by: String) throws(IVKeysError) {
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        "INSERT INTO admins (\"user\", added_at, added_by) VALUES ($1, $2::bigint, $3)", [user, PG.int(at), by])
    }
    try resealRow(.admins, user)
  }

  func deleteAdministrator(_ user: String) throws(IVKeysError) {
    try pg { () throws(PGConnection.Failure) in try db.query("DELETE FROM admins WHERE \"user\" = $1", [user]) }
  }

  // MARK: - Scopes

  func scopeCatalog() throws(IVKeysError) -> [ScopeEntry] {
    let sealer = sealer
    return try pg { () throws(PGConnection.Failure) in
      try db.query("SELECT \(Self.sealed(.scopes).columns), description FROM scopes ORDER BY name").rows.map { row in
        var entry = ScopeEntry(name: row.text(0), description: row.text(2))
        entry.damaged = sealer.map { !Self.rowIntact(.scopes, row, $0) } ?? false
        return entry
      }
    }
  }

  func scopeExists(_ name: String) throws(IVKeysError) -> Bool {
    switch try rowSealIntact(.scopes, name) {
    case nil: return false
    case true?: return true
    case false?: throw .tampered("the scope catalog's row for \(name) does not match its seal")
    }
  }

  func insertScope(_ name: String, description: String, at: Timestamp, by: String) throws(IVKeysError) {
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        "INSERT INTO scopes (name, description, added_at, added_by) VALUES ($1, $2, $3::bigint, $4)",
        [name, description, PG.int(at), by])
    }
    try resealRow(.scopes, name)
  }

  // MARK: - Expiry notices

  func notificationState(keyID: String, expiresAt: Timestamp, claimedAfter: Timestamp)
    throws(IVKeysError) -> NotificationState?
  {
    let sent = try pg { () throws(PGConnection.Failure) in
      try db.query(
        """
        SELECT sent_at IS NOT NULL FROM notifications
        WHERE key_id = $1 AND expires_at = $2::bigint AND (sent_at IS NOT NULL OR claimed_at > $3::bigint)
        """, [keyID, PG.int(expiresAt), PG.int(claimedAfter)]
      ).first?.bool(0)
    }
    return sent.map { $0 ? .sent : .claimed }
  }

  func claimNotification(_ n: NotificationRow, staleBefore: Timestamp) throws(IVKeysError) -> Bool {
    try pg { () throws(PGConnection.Failure) in
      try db.change(
        """
        INSERT INTO notifications AS n (key_id, expires_at, recipient, message_id, claimed_at, sent_at)
        VALUES ($1, $2::bigint, $3, $4, $5::bigint, NULL)
        ON CONFLICT (key_id, expires_at) DO UPDATE
          SET recipient = excluded.recipient, message_id = excluded.message_id, claimed_at = excluded.claimed_at
          WHERE n.sent_at IS NULL AND n.claimed_at <= $6::bigint
        """, [n.keyID, PG.int(n.expiresAt), n.recipient, n.messageID, PG.int(n.at), PG.int(staleBefore)]) == 1
    }
  }

  func releaseNotification(_ n: NotificationRow) throws(IVKeysError) {
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        """
        DELETE FROM notifications WHERE key_id = $1 AND expires_at = $2::bigint AND message_id = $3 AND sent_at IS NULL
        """, [n.keyID, PG.int(n.expiresAt), n.messageID])
    }
  }

  func markNotificationSent(_ n: NotificationRow) throws(IVKeysError) {
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        """
        INSERT INTO notifications (key_id, expires_at, recipient, message_id, claimed_at, sent_at)
        VALUES ($1, $2::bigint, $3, $4, $5::bigint, $5::bigint)
        ON CONFLICT (key_id, expires_at) DO UPDATE
          SET recipient = excluded.recipient, message_id = excluded.message_id, sent_at = excluded.sent_at
        """, [n.keyID, PG.int(n.expiresAt), n.recipient, n.messageID, PG.int(n.at)])
    }
  }
}
