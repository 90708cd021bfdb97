extension Vault {
  /// Checks that the vault can be read and an audit entry appended now, as a health check wants:
  /// one is written, with everything a write checks first (schema seal, secret version, the
  /// append lock), and the transaction is then rolled back, so nothing is kept.
  public func probeAppend() throws(IVKeysError) {
    let marker = "health probe: rolled back"
    do {
      try write { () throws(IVKeysError) in
        try record(
          AuditEntry(
            event: .authFailed, keyID: nil, company: nil, ip: nil, detail: .object([("reason", .string(marker))])))
        throw IVKeysError.conflict(marker)
      }
    } catch {
      if case .conflict(let m, _) = error, m == marker { return }
      throw error
    }
  }
}
