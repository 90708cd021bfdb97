/// Row seals (see `RowSeal.swift`): the same messages as the SQLite engine's, from the same
/// values, so a seal survives `vault copy`. A column's type is fixed by the table, so each value
/// is read as its column's type.
extension PGStore {
  typealias Kind = VaultTables.Kind

  /// A table's sealed columns: the primary key (as text) first, then the sealed values, then
  /// the seal; the kinds are those of the values between.
  static func sealed(_ table: SealedTable) -> (columns: String, kinds: [Kind]) {
    switch table {
    case .keys:
      return (
        SealedKeyColumn.allCases.map { "k." + $0.sql }.joined(separator: ", "),
        SealedKeyColumn.allCases.dropFirst().dropLast().map { c in
          switch c {
          case .digest: return .blob
          case .expiresAt, .graceUntil, .secretVersion: return .int
          default: return .text
          }
        }
      )
    case .admins: return ("\"user\", seal", [])
    case .scopes: return ("name, seal", [])
    case .meta: return ("name, value, seal", [.text])
    case .secretVersions: return ("version::text, fingerprint, retired_at, seal", [.text, .int])
    case .workingHours: return ("subject, hours, tz, seal", [.text, .text])
    }
  }

  static func primaryKeyColumn(_ table: SealedTable) -> String {
    switch table {
    case .keys: return "k.id"
    case .admins: return "\"user\""
    case .scopes, .meta: return "name"
    case .secretVersions: return "version"
    case .workingHours: return "subject"
    }
  }

  /// The SELECT of a table's sealed columns (`k` is the keys table).
  static func sealedRowSQL(_ table: SealedTable) -> String {
    "SELECT \(sealed(table).columns) FROM \(table.rawValue)\(table == .keys ? " k" : "")"
  }

  /// The primary key as a parameter: `secret_versions` is keyed by a number.
  static func primaryKeyCondition(_ table: SealedTable) -> String {
    " WHERE \(primaryKeyColumn(table)) = $1\(table == .secretVersions ? "::bigint" : "")"
  }

  /// The seal message of a row selected with `sealedRowSQL(table)`.
  static func rowMessage(_ table: SealedTable, _ row: PGRow) -> SealMessage {
    var m = SealMessage(table: table.rawValue, primaryKey: row.text(0))
    for (i, kind) in sealed(table).kinds.enumerated() { append(&m, row, Int32(i + 1), kind) }
    return m
  }

  /// Appends column `c` of `row`, read as `kind`, to a seal message.
  static func append(_ m: inout SealMessage, _ row: PGRow, _ c: Int32, _ kind: Kind) {
    guard !row.isNull(c) else { return m.append(.null) }
    switch kind {
    case .text: m.append(.text(row.text(c)))
    case .int: m.append(.int(row.int(c)))
    case .blob: m.append(.blob(row.blob(c)))
    }
  }

  static func rowIntact(_ table: SealedTable, _ row: PGRow, _ sealer: RowSealer) -> Bool {
    sealer.verify(rowMessage(table, row), row.optionalBlob(Int32(sealed(table).kinds.count + 1)))
  }

  func requireSealer() throws(IVKeysError) -> RowSealer {
    guard let sealer else {
      throw .secret("changing the vault needs its secret file, and this vault was opened without it")
    }
    return sealer
  }

  /// Whether the row of `table` with this primary key matches its seal; nil when there is none.
  func rowSealIntact(_ table: SealedTable, _ primaryKey: String) throws(IVKeysError) -> Bool? {
    let sealer = try requireSealer()
    let row = try pg { () throws(PGConnection.Failure) in
      try db.query(Self.sealedRowSQL(table) + Self.primaryKeyCondition(table), [primaryKey]).first
    }
    return row.map { Self.rowIntact(table, $0, sealer) }
  }

  /// Seals the row of `table` with this primary key as it now stands.
  func resealRow(_ table: SealedTable, _ primaryKey: String) throws(IVKeysError) {
    let sealer = try requireSealer()
    try pg { () throws(PGConnection.Failure) in
      guard let row = try db.query(Self.sealedRowSQL(table) + Self.primaryKeyCondition(table), [primaryKey]).first
      else { return }
      let seal = sealer.seal(Self.rowMessage(table, row))
      let target = table == .keys ? "keys k" : table.rawValue
      try db.query(
        "UPDATE \(target) SET seal = $2::bytea" + Self.primaryKeyCondition(table), [primaryKey, PG.bytea(seal)])
    }
  }

  /// Refuses to change a key whose row no longer matches its seal.
  func requireKeySealed(_ id: String) throws(IVKeysError) {
    if try rowSealIntact(.keys, id) == false { throw .tampered("key \(id)'s row does not match its seal") }
  }

  func brokenSeals(limit: Int) throws(IVKeysError) -> [BrokenSeal] {
    let sealer = try requireSealer()
    return try read { () throws(IVKeysError) in
      var broken = [BrokenSeal]()
      for table in SealedTable.allCases where broken.count < limit {
        let result = try pg { () throws(PGConnection.Failure) in try db.query(Self.sealedRowSQL(table)) }
        for row in result.rows where broken.count < limit && !Self.rowIntact(table, row, sealer) {
          broken.append(BrokenSeal(table: table.rawValue, primaryKey: row.text(0)))
        }
      }
      return broken
    }
  }

  func resealAll(from previous: RowSealer?, to sealer: RowSealer) throws(IVKeysError) {
    for table in SealedTable.allCases {
      let result = try pg { () throws(PGConnection.Failure) in try db.query(Self.sealedRowSQL(table)) }
      for row in result.rows {
        if let previous, !Self.rowIntact(table, row, previous) {
          throw .tampered("the \(table.rawValue) row \(row.text(0)) does not match its seal")
        }
        let target = table == .keys ? "keys k" : table.rawValue
        db.enqueue(
          "UPDATE \(target) SET seal = $2::bytea" + Self.primaryKeyCondition(table),
          [row.text(0), PG.bytea(sealer.seal(Self.rowMessage(table, row)))])
      }
    }
  }

  // MARK: - Meta

  func sealedMeta(_ name: String) throws(IVKeysError) -> String? {
    let sealer = try requireSealer()
    let row = try pg { () throws(PGConnection.Failure) in
      try db.query(Self.sealedRowSQL(.meta) + " WHERE name = $1", [name]).first
    }
    guard let row else { return nil }
    guard Self.rowIntact(.meta, row, sealer) else {
      throw .tampered("the vault's \(name) setting does not match its seal")
    }
    return row.text(1)
  }

  func openingSettings() throws(IVKeysError) -> OpeningSettings {
    var settings = OpeningSettings()
    let result = try pg { () throws(PGConnection.Failure) in try db.query(Self.sealedRowSQL(.meta)) }
    for row in result.rows {
      let setting = SettingRow(
        name: row.text(0), value: row.text(1), seal: row.optionalBlob(2), message: Self.rowMessage(.meta, row))
      switch setting.name {
      case "secret_fingerprint": settings.secretFingerprint = setting
      case "secret_version": settings.secretVersion = setting
      case SQLiteStore.schemaFingerprintName: settings.schemaFingerprint = setting
      default: break
      }
    }
    return settings
  }

  func settingIntact(_ row: SettingRow) -> Bool {
    guard let sealer else { return false }
    return sealer.verify(row.message, row.seal)
  }

  // MARK: - Secret versions

  func secretVersions() throws(IVKeysError) -> [SecretVersionRow] {
    let sealer = sealer
    let result = try pg { () throws(PGConnection.Failure) in
      try db.query(
        """
        SELECT version::text, fingerprint, retired_at, seal, added_at,
          (SELECT count(*) FROM keys WHERE secret_version = v.version),
          (SELECT count(*) FROM keys WHERE secret_version = v.version AND status <> 'revoked')
        FROM secret_versions v ORDER BY v.version
        """)
    }
    return result.rows.map { row in
      SecretVersionRow(
        version: Int(row.int(0)), fingerprint: row.text(1), addedAt: row.int(4), retiredAt: row.optionalInt(2),
        keys: row.int(5), unrevokedKeys: row.int(6),
        damaged: sealer.map { !Self.rowIntact(.secretVersions, row, $0) } ?? false)
    }
  }

  func hasRetiredSecretVersion() throws(IVKeysError) -> Bool {
    try pg { () throws(PGConnection.Failure) in
      try db.query("SELECT 1 FROM secret_versions WHERE retired_at IS NOT NULL LIMIT 1").count > 0
    }
  }

  func insertSecretVersion(_ version: Int, fingerprint: String, at: Timestamp) throws(IVKeysError) {
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        "INSERT INTO secret_versions (version, fingerprint, added_at) VALUES ($1::bigint, $2, $3::bigint)",
        [PG.int(version), fingerprint, PG.int(at)])
    }
    try resealRow(.secretVersions, String(version))
  }

  func retireSecretVersion(_ version: Int, at: Timestamp) throws(IVKeysError) {
    guard try rowSealIntact(.secretVersions, String(version)) != false else {
      throw .tampered("the row of secret version \(version) does not match its seal")
    }
    try pg { () throws(PGConnection.Failure) in
      try db.query(
        "UPDATE secret_versions SET retired_at = $1::bigint WHERE version = $2::bigint",
        [PG.int(at), PG.int(version)])
    }
    try resealRow(.secretVersions, String(version))
  }
}
