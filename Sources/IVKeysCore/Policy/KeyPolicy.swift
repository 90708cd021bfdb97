/// The rules about a key that more than one command applies, each written once.
public enum KeyPolicy {
  // MARK: - Effective status

  /// A key's status as of `now`, from what the vault records: an active key past its expiry is
  /// `expired`, a rotating key past its grace is `revoked`, whether or not `sweep` has recorded
  /// it yet. The checks run in verify's order: revoked and a recorded expiry stay; a rotation
  /// grace that ended revokes (a rotating key, or a suspended key that was rotated while
  /// suspended); a suspended key stays suspended, even past its expiry; then an expiry that
  /// passed expires.
  ///
  /// The storage engines state the same rule in their query language for filters
  /// (`SQLiteStore.effectiveStatusSQL`); `EffectiveStatusTests` runs both over the same cases.
  public static func effectiveStatus(
    stored: KeyStatus, expiresAt: Timestamp?, graceUntil: Timestamp?, now: Timestamp
  ) -> KeyStatus {
    let graceEnded = graceUntil.map { $0 <= now } ?? false
    switch stored {
    case .revoked, .expired: return stored
    case .rotating where graceEnded, .suspended where graceEnded: return .revoked
    case .suspended: return stored
    default: return expiresAt.map { $0 <= now } ?? false ? .expired : stored
    }
  }

  // MARK: - Settings

  /// Refuses an expiry that is not after `now`.
  public static func checkExpiryInFuture(_ expiry: Timestamp, now: Timestamp, option: String = "--expires")
    throws(IVKeysError)
  {
    guard expiry > now else {
      throw .invalidValue(option: option, value: Time.rfc3339(expiry), reason: "the expiry is in the past")
    }
  }

  /// Checks a new key's linked companies against its type: an ATS key serves at least one linked
  /// company, a regular key none.
  public static func checkLinks(type: KeyType, links: [String]) throws(IVKeysError) {
    if type == .ats {
      guard !links.isEmpty else {
        throw .usage("an ATS key needs at least one --link-company", hint: "name each company the integration serves")
      }
    } else if !links.isEmpty {
      throw .usage("--link-company applies only to ATS keys", hint: "add --type ats, or drop --link-company")
    }
  }
}

extension Fields {
  /// An endpoint as usage statistics name it ("GET /v1/jobs"): 1 to 200 printable characters,
  /// without a key. Endpoints are kept in usage statistics and the audit log; a key in a query
  /// string must not end up there.
  public static func endpoint(_ s: String) throws(ValueError) -> String {
    guard !s.isEmpty, s.unicodeScalars.count <= 200, !Text.hasControl(s) else {
      throw ValueError("an endpoint is 1 to 200 printable characters, like \"GET /v1/jobs\"")
    }
    guard !Text.holdsKey(s) else {
      throw ValueError("it contains an API key; log the path without its query string")
    }
    return s
  }
}
