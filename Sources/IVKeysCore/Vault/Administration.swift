/// A vault administrator.
public struct Administrator: Sendable {
  public let user: String
  public let addedAt: Timestamp
  public let addedBy: String
  /// The row does not match its seal: someone without the secret added or changed it, and it
  /// grants nothing.
  public var damaged = false
}

/// A scope in the vault's catalog.
public struct ScopeEntry: Sendable {
  public let name: String
  public let description: String
  /// The row does not match its seal: the scope cannot be granted.
  public var damaged = false

  public init(name: String, description: String) {
    self.name = name
    self.description = description
  }
}

extension Vault {
  // MARK: - Administrators

  /// Every administrator, by name.
  public func administrators() throws(IVKeysError) -> [Administrator] {
    try store.administrators()
  }

  /// Makes `user` an administrator; only an administrator may.
  public func addAdministrator(_ user: String) throws(IVKeysError) {
    try write { () throws(IVKeysError) in
      try requireAdmin("add administrators")
      guard try !isAdmin(user) else { throw .conflict("\(user) is already an administrator") }
      try store.insertAdministrator(user, at: now(), by: actor.actor)
      try record(AuditEntry(event: .adminAdded, detail: .object([("user", .string(user))])))
    }
  }

  /// Removes an administrator; only an administrator may, and never the last one.
  public func removeAdministrator(_ user: String) throws(IVKeysError) {
    try write { () throws(IVKeysError) in
      try requireAdmin("remove administrators")
      guard try isAdmin(user) else { throw .notFound("\(user) is not an administrator") }
      let count = try store.administratorCount()
      guard count > 1 else {
        throw .conflict(
          "\(user) is the last administrator and cannot be removed",
          hint: "add another with 'ivkeys admin add USER' first")
      }
      try store.deleteAdministrator(user)
      try record(AuditEntry(event: .adminRemoved, detail: .object([("user", .string(user))])))
    }
  }

  // MARK: - Scope catalog

  /// Whether the catalog holds `name` (one row, its seal checked: `tampered` if it does not match).
  public func scopeIsInCatalog(_ name: String) throws(IVKeysError) -> Bool {
    try store.scopeExists(name)
  }

  /// The catalog, by name.
  public func scopeCatalog() throws(IVKeysError) -> [ScopeEntry] {
    try store.scopeCatalog()
  }

  /// Adds a scope to the catalog; only an administrator may.
  public func addScope(_ name: String, description: String) throws(IVKeysError) {
    guard Scopes.isWellFormed(name) else {
      throw .invalidValue(
        option: "NAME", value: name,
        reason: "a scope is resource:action in lowercase letters, digits, '_' and '-', like reports:read")
    }
    guard !description.allSatisfy(\.isWhitespace), description.count <= 200 else {
      throw .invalidValue(option: "--description", value: description, reason: "give 1 to 200 characters")
    }
    do { try Fields.refuseKeys(description) } catch { throw error.for("--description", description) }
    try write { () throws(IVKeysError) in
      try requireAdmin("add scopes to the catalog")
      guard try !store.scopeExists(name) else {
        throw .conflict("the scope \(name) is already in the catalog")
      }
      try store.insertScope(name, description: description, at: now(), by: actor.actor)
      try record(
        AuditEntry(
          event: .scopeAdded, detail: .object([("scope", .string(name)), ("description", .string(description))])))
    }
  }
}
