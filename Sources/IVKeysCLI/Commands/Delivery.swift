import IVKeysCore

/// What `create` and `rotate` do when the keys they committed cannot be printed: revoke them
/// (SPEC: "No write lock waits on a reader") and say so, naming keys by id only.
enum Delivery {
  /// The error for `create`'s keys `ids` that could not be written (`failure`, an errno value),
  /// once they are revoked; or, if revoking failed too, an error that says which to revoke.
  static func createNotDelivered(_ ids: [String], failure: Int32, vault: Vault) -> IVKeysError {
    let one = ids.count == 1
    let cause =
      "cannot write \(one ? "the new key" : "the \(ids.count) new keys") to standard output: "
      + Errno.describe(failure)
    do {
      try vault.revokeUndelivered(ids)
    } catch {
      return .io(
        "\(cause); \(one ? "it was" : "they were") not delivered, and revoking \(one ? "it" : "them") failed: "
          + error.description,
        hint: "revoke \(one ? "it" : "them") with 'ivkeys revoke ID --reason \"not delivered\"': \(idList(ids))")
    }
    return .io(
      "\(cause); \(one ? "it was" : "they were") not delivered and \(one ? "is" : "are") revoked "
        + "(reason '\(Vault.notDeliveredReason)')",
      hint: "anything already printed will not work; run the command again with its output going where it can be read"
    )
  }

  /// The error for a rotation whose new key could not be written, once it is undone.
  static func rotationNotDelivered(_ r: Vault.Rotation, failure: Int32, vault: Vault) -> IVKeysError {
    let cause = "cannot write the new key to standard output: \(Errno.describe(failure))"
    let undo: Vault.RotationUndo
    do {
      undo = try vault.undoRotation(r)
    } catch {
      return .io(
        "\(cause); it was not delivered, and revoking it failed: \(error.description)",
        hint: "revoke the new key \(r.new.record.id) with 'ivkeys revoke \(r.new.record.id) --reason \"not delivered\"'"
      )
    }
    let revoked = "\(cause); it was not delivered and is revoked (reason '\(Vault.notDeliveredReason)')"
    switch undo {
    case .restored(let status):
      return .io(
        "\(revoked); the old key \(r.old.id) is \(status.rawValue) again, as before the rotation",
        hint: "rotate it again with its output going where it can be read")
    case .staysRevoked:
      return .io(
        "\(revoked); the old key \(r.old.id) stays revoked (rotated with --grace 0; revocation is final)",
        hint: "make a replacement with 'ivkeys create'")
    case .leftAsIs:
      return .io(
        "\(revoked); the old key \(r.old.id) was changed by someone else since, and is left as it is",
        hint: "'ivkeys show \(r.old.id)' shows it")
    }
  }

  /// A few ids, and how many more.
  static func idList(_ ids: [String]) -> String {
    let shown = ids.prefix(3).joined(separator: ", ")
    return ids.count > 3 ? "\(shown) and \(ids.count - 3) more" : shown
  }
}
