/// Keys that were stored but could not be handed over.
///
/// `create` and `rotate` commit first and print after, so no write lock waits on the reader of
/// their output (SPEC: "No write lock waits on a reader"). When the printing then fails (a closed
/// pipe, a full disk), keys exist that nobody may hold: they are revoked here, in a second
/// transaction, each with a normal `key.revoked` entry and the reason `not delivered`.
extension Vault {
  /// The reason recorded for a key revoked because it could not be delivered.
  public static let notDeliveredReason = "not delivered"

  /// Revokes the keys `ids` (a `create` that could not print them) in one transaction, with
  /// `key.revoked` entries (reason `not delivered`). A key already revoked meanwhile (by another
  /// process) is left as it is; one that no longer exists is skipped. Returns how many were revoked.
  @discardableResult
  public func revokeUndelivered(_ ids: [String]) throws(IVKeysError) -> Int {
    try write { () throws(IVKeysError) -> Int in
      var revoked = 0
      for id in ids {
        guard let key = try store.keys(idPrefix: id, now: now(), limit: 1).first, key.id == id,
          key.status != .revoked
        else { continue }
        try applyStatus(key, .revoke, reason: Self.notDeliveredReason)
        revoked += 1
      }
      return revoked
    }
  }

  /// What `undoRotation` did to the old key.
  public enum RotationUndo: Sendable, Equatable {
    /// The old key is back as it was before the rotation (its status given).
    case restored(KeyStatus)
    /// The old key stays revoked: the rotation had no grace (`--grace 0`), and revocation is final.
    case staysRevoked
    /// The old key was changed by someone else since the rotation; it was left as it is.
    case leftAsIs
  }

  /// Takes back a rotation whose new key could not be delivered, in one transaction: the new key
  /// is revoked (`not delivered`), and the old key, unless the rotation revoked it at once,
  /// returns to its status before the rotation with no replacement and no grace (a
  /// `key.rotation_undone` entry), so it keeps working and can be rotated again. A rotation with
  /// no grace revoked the old key, and revocation is final: it stays revoked.
  public func undoRotation(_ rotation: Rotation) throws(IVKeysError) -> RotationUndo {
    try write { () throws(IVKeysError) -> RotationUndo in
      let newID = rotation.new.record.id
      if let new = try store.keys(idPrefix: newID, now: now(), limit: 1).first, new.id == newID,
        new.status != .revoked
      {
        try applyStatus(new, .revoke, reason: Self.notDeliveredReason)
      }
      guard let old = try store.keys(idPrefix: rotation.old.id, now: now(), limit: 1).first,
        old.id == rotation.old.id, old.replacedBy == newID, old.storedStatus == rotation.old.storedStatus
      else { return .leftAsIs }
      if old.storedStatus == .revoked { return .staysRevoked }
      try store.clearReplacement(id: old.id, status: rotation.previousStatus, reason: rotation.previousReason)
      try record(
        AuditEntry(
          event: .keyRotationUndone, keyID: old.id, company: old.company,
          detail: .object([
            ("replaced_by", .string(newID)), ("reason", .string(Self.notDeliveredReason)),
            ("status", .string(rotation.previousStatus.rawValue)),
            ("previous_status", .string(old.storedStatus.rawValue)),
          ])))
      return .restored(rotation.previousStatus)
    }
  }
}
