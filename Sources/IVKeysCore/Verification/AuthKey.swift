/// What `verify` needs of a key, parsed once from the store and cached.
struct AuthKey {
  let id: String
  /// Nil when the stored value is neither live nor test: it then matches no key's prefix, and
  /// the key admits nobody.
  let env: KeyEnvironment?
  let type: KeyType
  let company: String
  let links: [String]
  let scopes: [String]
  let ips: [IPRange]
  /// Whether every stored allowlist entry and the rate limit parsed; if not, the key admits
  /// nobody (an entry that cannot be read must not widen access). Scopes, linked companies and
  /// a status that cannot be read narrow access by themselves (none, none, revoked).
  let settingsReadable: Bool
  let expiresAt: Timestamp?
  let rateLimit: RateLimit?
  /// The request budget of a usage-limited key.
  let budget: RequestBudget?
  let status: KeyStatus
  let graceUntil: Timestamp?
  let digest: [UInt8]
  /// The secret version that made `digest`.
  let secretVersion: Int
  /// Whether the row matched its seal when read; a key whose row does not is never decided on.
  let sealIntact: Bool

  /// Parses a stored key. Nothing here throws: what cannot be read makes the key admit nobody.
  init(id: String, stored k: StoredAuthKey) {
    let ipTexts = (try? JSON.parse(k.allowedIPsJSON))?.stringArray
    let ips = (ipTexts ?? []).compactMap { try? IPRange.parse($0) }
    let limits = k.rateLimit.flatMap { try? RequestLimits.parse($0) }
    let links = (try? JSON.parse(k.linkedCompaniesJSON))?.stringArray
    let scopes = (try? JSON.parse(k.scopesJSON))?.stringArray
    let env = KeyEnvironment(rawValue: k.env)
    let type = KeyType(rawValue: k.type)
    let status = KeyStatus(rawValue: k.status)
    self.id = id
    self.env = env
    self.type = type ?? .regular
    self.company = k.company
    self.links = links ?? []
    self.scopes = scopes ?? []
    self.ips = ips
    self.settingsReadable =
      ipTexts != nil && ips.count == ipTexts?.count && (k.rateLimit == nil) == (limits == nil)
    self.expiresAt = k.expiresAt
    self.rateLimit = limits?.rate
    self.budget = limits?.budget
    // An unknown stored status reads as revoked: it admits nobody.
    self.status = status ?? .revoked
    self.graceUntil = k.graceUntil
    self.digest = k.digest
    self.secretVersion = k.secretVersion
    self.sealIntact = k.sealIntact
  }

  /// The status as of `now` (`KeyPolicy.effectiveStatus`).
  func effectiveStatus(now: Timestamp) -> KeyStatus {
    KeyPolicy.effectiveStatus(stored: status, expiresAt: expiresAt, graceUntil: graceUntil, now: now)
  }
}
