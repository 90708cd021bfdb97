/// What `create` asks for; every value already parsed. The vault checks what needs the vault:
/// the scope catalog and administrator rights.
public struct KeyDraft: Sendable {
  public var company: String
  public var name: String
  public var scopes: [String]
  public var env: KeyEnvironment = .live
  public var type: KeyType = .regular
  public var linkedCompanies: [String] = []
  public var expiresAt: Timestamp?
  public var allowedIPs: [IPRange] = []
  public var rateLimit: RateLimit?
  /// A usage-limited key's request budget.
  public var budget: RequestBudget?
  public var metadata: [(String, String)] = []
  public var tags: [String] = []
  public var contact: String?
  /// The key's own working hours, for `after_hours` alerts; nil: its company's, if any.
  public var workSchedule: WorkSchedule?

  public init(company: String, name: String, scopes: [String]) {
    self.company = company
    self.name = name
    self.scopes = scopes
  }
}

/// A key just created: the plaintext, to be printed once, and its record.
public struct CreatedKey: Sendable {
  public let key: APIKey
  public let record: KeyRecord
}

/// Keys made together by one `create`: they share every setting but their id, so one record
/// serves as the template and only the keys themselves are held (a million keys fit in memory).
public struct CreatedBatch: Sendable {
  /// The shared record; its `id` is the first key's.
  public let template: KeyRecord
  public let keys: [APIKey]

  /// The record of one key of the batch.
  public func record(for key: APIKey) -> KeyRecord {
    var r = template
    r.id = key.id
    return r
  }
}

/// Which keys `list` shows; nil means any.
public struct KeyFilter: Sendable {
  public var company: String?
  public var status: KeyStatus?
  public var env: KeyEnvironment?
  public var tag: String?
  public var scope: String?
  public var type: KeyType?
  public var expiringWithin: Int64?
  /// Keys whose last use (their creation, when never used) is more than this many seconds ago.
  public var unusedFor: Int64?
  /// The order; nil: creation order.
  public var sort: KeySort?
  public init() {}
}

extension Array where Element: Hashable {
  /// The elements in order, each once.
  func uniqued() -> [Element] {
    var seen = Set<Element>()
    return filter { seen.insert($0).inserted }
  }
}

/// How a key is named on the command line.
public enum KeyReference {
  /// The reference without surrounding whitespace or a leading `Bearer ` (pasted from a header).
  public static func trimmed(_ s: String) -> String {
    var t = Substring(s).drop(while: \.isWhitespace)
    while t.last?.isWhitespace == true { t = t.dropLast() }
    if t.lowercased().hasPrefix("bearer ") { t = t.dropFirst(7).drop(while: \.isWhitespace) }
    return String(t)
  }

  /// Whether a reference is (or holds) a whole key rather than an id.
  public static func isWholeKey(_ s: String) -> Bool { Text.containsKey(s) || trimmed(s).hasPrefix("sk_") }
}

/// The most keys one `create --count` makes.
public let maximumKeyCount = 1_000_000

extension Vault {
  // MARK: - Lookup

  /// Finds a key by id, unique id prefix (6+ characters) or whole key string.
  public func resolve(_ reference: String) throws(IVKeysError) -> KeyRecord {
    let id: String
    let reference = KeyReference.trimmed(reference)
    if reference.hasPrefix("sk_") {
      switch APIKey.parse(reference) {
      case .success(let key): id = key.id
      case .failure(let e): throw .invalidValue(option: "ID", value: "sk_…", reason: "not a valid key: \(e)")
      }
    } else {
      guard reference.utf8.count >= 6, reference.utf8.count <= APIKey.idLength, Base62.isBase62(reference.utf8) else {
        throw .invalidValue(
          option: "ID", value: reference,
          reason: "a key id is \(APIKey.idLength) base62 characters; a prefix needs at least 6")
      }
      id = reference
    }
    let found = try store.keys(idPrefix: id, now: now(), limit: 6)
    if let exact = found.first(where: { $0.id == id }) { return exact }
    guard !found.isEmpty else {
      throw .notFound("no key with id \(id)", hint: "'ivkeys list' shows the keys in this vault")
    }
    guard found.count == 1 else {
      let list = found.prefix(5).map { "  \($0.id)  \(Text.escapeControl($0.name))" }.joined(separator: "\n")
      throw .conflict(
        "the prefix \(id) matches more than one key:\n\(list)\(found.count > 5 ? "\n  …" : "")",
        hint: "give more characters of the id")
    }
    return found[0]
  }

  /// Calls `body` for each key matching `filter`, oldest first (or in the filter's order),
  /// streaming from the store.
  public func listKeys(_ filter: KeyFilter, _ body: (KeyRecord) throws(IVKeysError) -> Void) throws(IVKeysError) {
    var query = KeyQuery(order: filter.sort.map { .sorted($0) } ?? .creation)
    if let c = filter.company { query.conditions.append(.servesCompany(c)) }
    if let s = filter.status { query.conditions.append(.effectiveStatus(in: [s])) }
    if let e = filter.env { query.conditions.append(.env(e)) }
    if let t = filter.type { query.conditions.append(.type(t)) }
    if let t = filter.tag { query.conditions.append(.tag(t)) }
    if let s = filter.scope { query.conditions.append(.grantsScope(s)) }
    if let w = filter.expiringWithin {
      let t = now()
      query.conditions += [
        .expiresAfter(t), .expiresBy(t + w), .effectiveStatus(in: [.active, .suspended, .rotating]),
      ]
    }
    if let d = filter.unusedFor {
      query.conditions.append(.lastActivityBefore(now().subtractingReportingOverflow(d).partialValue))
    }
    try store.forEachKey(query, now: now(), body)
  }

  // MARK: - Checks that need the vault

  /// Whether `user` is a vault administrator.
  public func isAdmin(_ user: String) throws(IVKeysError) -> Bool {
    try store.isAdministrator(user)
  }

  /// Refuses unless the OS user is an administrator.
  func requireAdmin(_ what: String) throws(IVKeysError) {
    guard try isAdmin(actor.osUser) else {
      throw .notPermitted(
        "only a vault administrator may \(what); \(actor.osUser) is not one",
        hint: "'ivkeys admin list' shows the administrators")
    }
  }

  /// Refuses, naming them, when `keys` holds ATS keys and the OS user is not an administrator:
  /// only administrators change an ATS key in any way (update, links, rotate, suspend, resume,
  /// revoke), since one ATS key serves many companies. `verb` says what would be done.
  public func requireAdmin(toChange keys: [KeyRecord], _ verb: String) throws(IVKeysError) {
    let ats = keys.filter { $0.type == .ats }
    guard !ats.isEmpty, try !isAdmin(actor.osUser) else { return }
    let ids = ats.prefix(5).map(\.id).joined(separator: ", ") + (ats.count > 5 ? ", …" : "")
    let which =
      keys.count == 1
      ? "key \(ids) is an ATS key"
      : "\(ats.count) of the \(keys.count) matching keys \(ats.count == 1 ? "is an ATS key" : "are ATS keys") (\(ids))"
    throw .notPermitted(
      "only a vault administrator may \(verb) an ATS key; \(which) and \(actor.osUser) is not an administrator",
      hint: keys.count == 1
        ? "nothing was changed; 'ivkeys admin list' shows the administrators"
        : "nothing was changed; leave the ATS keys out of the selection, or ask an administrator "
          + "('ivkeys admin list')")
  }

  /// Checks scopes against the catalog: each is in it, or `resource:*` for a resource in it, or `*`.
  func checkScopes(_ scopes: [String], option: String) throws(IVKeysError) {
    guard !scopes.isEmpty else { throw .usage("a key needs at least one scope", hint: "use --scope or --preset") }
    let entries = try store.scopeCatalog()
    // A scope someone without the secret added grants nothing: refuse to build on it.
    for s in scopes {
      if let bad = entries.first(where: {
        $0.damaged && ($0.name == s || s.hasSuffix(":*") && $0.name.hasPrefix(s.dropLast()))
      }) {
        throw .tampered("the scope catalog's row for \(bad.name) does not match its seal")
      }
    }
    let catalog = entries.filter { !$0.damaged }.map(\.name)
    for s in scopes {
      if s == "*" || catalog.contains(s) { continue }
      if s.hasSuffix(":*"), catalog.contains(where: { $0.hasPrefix(s.dropLast()) }) { continue }
      let hint =
        Text.suggestion(for: s, among: catalog).map { "did you mean '\($0)'?" }
        ?? "'ivkeys scopes list' shows the catalog"
      throw .invalidValue(option: option, value: s, reason: "not in the scope catalog; \(hint)")
    }
  }

  // MARK: - Create

  /// Creates `count` keys from one draft in one transaction: all of them or none. The keys are
  /// returned once the transaction has committed, to be handed over only then: no write lock is
  /// held while a slow reader takes them. A caller that cannot deliver them revokes them with
  /// `revokeUndelivered`.
  public func createKeys(_ draft: KeyDraft, count: Int = 1, progress: ((Int) -> Void)? = nil)
    throws(IVKeysError) -> CreatedBatch
  {
    guard count >= 1 && count <= maximumKeyCount else {
      throw .invalidValue(option: "--count", value: String(count), reason: "must be from 1 to \(maximumKeyCount)")
    }
    let scopes = draft.scopes.uniqued()
    let links = draft.linkedCompanies.uniqued()
    try KeyPolicy.checkLinks(type: draft.type, links: links)
    let t = now()
    if let e = draft.expiresAt { try KeyPolicy.checkExpiryInFuture(e, now: t) }
    var metadata = [String: String]()
    for (k, v) in draft.metadata { metadata[k] = v }
    let fields = KeyFields(
      scopes: JSON.strings(scopes).encoded,
      links: JSON.strings(links).encoded,
      ips: JSON.strings(draft.allowedIPs.uniqued().map(\.description)).encoded,
      metadata: JSON.dictionary(metadata).encoded,
      tags: JSON.strings(draft.tags.uniqued()).encoded)
    var detailBase: [(String, JSON)] = [
      ("env", .string(draft.env.rawValue)), ("type", .string(draft.type.rawValue)),
      ("name", .string(draft.name)), ("scopes", .strings(scopes)),
      ("linked_companies", .strings(links)),
      ("expires_at", .optional(draft.expiresAt.map(Time.rfc3339))),
    ]
    if let s = draft.workSchedule { detailBase.append(("working_hours", Self.scheduleJSON(s))) }
    let detail = JSON.object(detailBase).encoded
    if count > 1000 { try store.tuneForBulkInsert() }
    return try write { () throws(IVKeysError) -> CreatedBatch in
      // The catalog and the administrators are sealed rows: read in the transaction, after the
      // vault's state was checked (and a secret rotation by another process followed), and
      // before anything is written, so a refusal changes nothing.
      try checkScopes(scopes, option: "--scope")
      if draft.type == .ats { try requireAdmin("create an ATS key") }
      var keys = [APIKey]()
      keys.reserveCapacity(count)
      var random = RandomStream()
      // One row, one entry, changed per key: the settings are the draft's for every key.
      let first = try APIKey.generate(env: draft.env, random: &random)
      var row = newKeyRow(first, draft: draft, fields: fields, at: t, rotatedFrom: nil)
      var entry = AuditEntry(event: .keyCreated, keyID: nil, company: draft.company, ip: nil, encodedDetail: detail)
      for i in 0..<count {
        let key = i == 0 ? first : try APIKey.generate(env: draft.env, random: &random)
        row.id = key.id
        row.digest = digest(key)
        try store.insertKey(row)
        if let s = draft.workSchedule { try storeWorkSchedule(.key(row.id), s) }
        entry.keyID = row.id
        try record(entry, at: t)
        keys.append(key)
        if let progress, (i + 1) % 1000 == 0 { progress(i + 1) }
      }
      let template = keyRecord(first, draft: draft, fields: fields, at: t, rotatedFrom: nil)
      return CreatedBatch(template: template, keys: keys)
    }
  }

  /// The list-valued columns of a key, already encoded.
  struct KeyFields {
    var scopes, links, ips, metadata, tags: String
  }

  /// Inserts one key row and returns its record.
  func insertKey(_ key: APIKey, draft: KeyDraft, fields: KeyFields, at t: Timestamp, rotatedFrom: String?)
    throws(IVKeysError) -> KeyRecord
  {
    try store.insertKey(newKeyRow(key, draft: draft, fields: fields, at: t, rotatedFrom: rotatedFrom))
    return keyRecord(key, draft: draft, fields: fields, at: t, rotatedFrom: rotatedFrom)
  }

  /// The row of a new key.
  func newKeyRow(_ key: APIKey, draft: KeyDraft, fields: KeyFields, at t: Timestamp, rotatedFrom: String?)
    -> NewKeyRow
  {
    NewKeyRow(
      id: key.id, env: draft.env, type: draft.type, company: draft.company, linkedCompaniesJSON: fields.links,
      name: draft.name, digest: digest(key), scopesJSON: fields.scopes, allowedIPsJSON: fields.ips,
      expiresAt: draft.expiresAt, rateLimit: RequestLimits(rate: draft.rateLimit, budget: draft.budget).stored,
      metadataJSON: fields.metadata,
      tagsJSON: fields.tags, contact: draft.contact, createdAt: t, createdBy: actor.actor, rotatedFrom: rotatedFrom,
      secretVersion: secret?.number ?? 1)
  }

  /// The record of a key just inserted.
  func keyRecord(_ key: APIKey, draft: KeyDraft, fields: KeyFields, at t: Timestamp, rotatedFrom: String?)
    -> KeyRecord
  {
    KeyRecord(
      id: key.id, env: draft.env, type: draft.type, company: draft.company, linkedCompaniesJSON: fields.links,
      name: draft.name, scopesJSON: fields.scopes, allowedIPsJSON: fields.ips, expiresAt: draft.expiresAt,
      rateLimit: RequestLimits(rate: draft.rateLimit, budget: draft.budget).stored, metadataJSON: fields.metadata,
      tagsJSON: fields.tags,
      contact: draft.contact, status: .active, storedStatus: .active, statusReason: nil, createdAt: t,
      createdBy: actor.actor, rotatedFrom: rotatedFrom, replacedBy: nil, graceUntil: nil, lastUsedAt: nil,
      requestCount: 0, secretVersion: secret?.number ?? 1)
  }
}
