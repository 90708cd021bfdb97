/// Makes a long-running writer's commits durable (`VaultStore.deferCommitSyncs`).
public protocol CommitSyncing: AnyObject {
  /// Returns once every transaction committed before the call is on disk.
  func sync() throws(IVKeysError)
  /// Whether a failed sync leaves nothing later to be vouched for (SQLite: after a failed
  /// fdatasync Linux may report the next one clean although the data never reached the disk),
  /// or only the commits before it (PostgreSQL: a lost connection; the next sync reconnects).
  var failureIsFinal: Bool { get }
}

/// Keeps a long-running writer's WAL short (`VaultStore.openCheckpointer`): `checkpoint` from a
/// thread of its own, `restart` from the writer's.
public protocol Checkpointing: AnyObject {
  /// Copies committed changes into the vault without blocking the writer. Returns whether the
  /// WAL is long enough to restart (`restart`). What is not copied now (the writer or a reader
  /// in the way) is next time; an I/O error is returned, and then nothing written since can be
  /// vouched for (the vault file's sync failed).
  func checkpoint() -> Result<Bool, IVKeysError>
  /// On the writer's thread, between its transactions: copies the last frames and makes the WAL
  /// start over, the writer's own connection doing it. Done by another connection, the restart
  /// would hold the writer's lock through its copy and syncs and then wait for the writer's
  /// reads, the writer asleep in its busy handler meanwhile (10 to 20 ms, twice a second, in
  /// `serve`). Gives up at once when a lock is in the way; returns whether the WAL was restarted,
  /// or an I/O error.
  func restart() -> Result<Bool, IVKeysError>
  func finish(walBytes: Int64)
}

/// Where a vault's rows live: the one interface between the domain (keys, verification, audit,
/// monitoring) and a storage engine. Every SQL text is behind it, in the engine's folder
/// (`Storage/SQLite/`); the domain calls the typed operations below and never sees a statement.
///
/// An engine promises:
/// - `write` runs its body in one serializable write transaction (SQLite: `BEGIN IMMEDIATE`)
///   that rolls back on any throw and rethrows the first error; `read` runs its body on one
///   snapshot. Every operation that changes rows is called inside `write`.
/// - The audit chain's append is serialized by that write transaction: `auditTail` read inside
///   it is still the tail when `appendAudit` inserts after it.
/// - Its migrations are its own (an ordered list per engine); `schemaVersion` and
///   `currentSchemaVersion` compare them, and a vault newer than the binary is refused.
/// - A key's effective status (`KeyPolicy.effectiveStatus`) is computed by its queries exactly as
///   the Swift rule computes it; `KeyQuery` conditions on it use the engine's expression of it.
public protocol VaultStore: AnyObject {
  // MARK: - The store itself

  /// The file (or connection string) the store was opened from, as the user named it.
  var location: String { get }
  /// Whether this connection cannot write (opened read-only, or a read-only file).
  var isReadOnly: Bool { get }
  /// The schema version the vault records (0: not a vault).
  func schemaVersion() throws(IVKeysError) -> Int
  /// The schema version this binary writes.
  var currentSchemaVersion: Int { get }
  /// Applies every migration the vault lacks; from the first sealed version on, each in one
  /// transaction with its seals and the schema's sealed fingerprint.
  func migrate(sealer: RowSealer?) throws(IVKeysError)
  /// Engine housekeeping before a writing command (SQLite: back to WAL after a restore).
  func prepareForWriting() throws(IVKeysError)
  /// A named value of the vault's metadata (`secret_fingerprint`, `created_at`).
  func meta(_ name: String) throws(IVKeysError) -> String?
  /// Records a named metadata value, sealed; inside `write`.
  func insertMeta(_ name: String, _ value: String) throws(IVKeysError)
  /// A named metadata value whose row matches its seal (else `tampered`).
  func sealedMeta(_ name: String) throws(IVKeysError) -> String?
  /// Sets a named metadata value, sealed; inside `write`.
  func setMeta(_ name: String, _ value: String) throws(IVKeysError)

  // MARK: - Seals

  /// Seals rows as they are written and checks those a decision reads (`RowSeal.swift`); set by
  /// the vault from its secret, nil without it.
  var sealer: RowSealer? { get set }
  /// Refuses a schema whose fingerprint is not the sealed one (`tampered`), comparing the whole
  /// schema (`doctor`).
  func checkSchemaSeal() throws(IVKeysError)
  /// The check of an opening: `recorded` (already checked against its seal) against the whole
  /// schema; when not `full`, only when the engine's schema change counter moved (`verify`).
  func checkSchemaSeal(recorded: String, full: Bool) throws(IVKeysError)
  /// The first audit entry, as stored.
  func firstAuditEntry() throws(IVKeysError) -> AuditRow?
  /// Whether the log holds an entry of this event (a scan: for rare checks only).
  func auditHasEvent(_ event: String) throws(IVKeysError) -> Bool
  /// The settings an opening checks (secret fingerprint and version, schema fingerprint), in one
  /// read; only for a vault whose rows are sealed.
  func openingSettings() throws(IVKeysError) -> OpeningSettings
  /// Whether a setting read by `openingSettings` matches its seal.
  func settingIntact(_ row: SettingRow) -> Bool
  /// Each object added, dropped or changed against the schema this binary's migrations make.
  func schemaDifferences() throws(IVKeysError) -> [String]
  /// Every sealed row that does not match its seal, at most `limit`.
  func brokenSeals(limit: Int) throws(IVKeysError) -> [BrokenSeal]
  /// Checks every row against `previous` (`tampered` at the first that fails) and seals it with
  /// `sealer`; inside `write`.
  func resealAll(from previous: RowSealer?, to sealer: RowSealer) throws(IVKeysError)

  // MARK: - Secret versions

  /// The versions the vault has known, oldest first, with how many keys use each.
  func secretVersions() throws(IVKeysError) -> [SecretVersionRow]
  /// Whether any secret version was retired (a cheap read, unlike `secretVersions`).
  func hasRetiredSecretVersion() throws(IVKeysError) -> Bool
  /// Records a new secret version; inside `write`.
  func insertSecretVersion(_ version: Int, fingerprint: String, at: Timestamp) throws(IVKeysError)
  /// Records that a version was retired; inside `write`.
  func retireSecretVersion(_ version: Int, at: Timestamp) throws(IVKeysError)

  // MARK: - Transactions

  /// Runs `body` in one write transaction (see the type's comment).
  func write<T>(_ body: () throws(IVKeysError) -> T) throws(IVKeysError) -> T
  /// Runs `body` on one read snapshot (inside a write transaction: that transaction's).
  func read<T>(_ body: () throws(IVKeysError) -> T) throws(IVKeysError) -> T
  /// A number that changes when another connection commits, for caches (nil: unknown).
  func externalChangeCounter() throws(IVKeysError) -> Int64?
  /// Tunes the connection for a stream of decisions (`batch`) or single ones.
  func tuneForDecisions(batch: Bool) throws(IVKeysError)
  /// Tunes the connection for a transaction that inserts many keys.
  func tuneForBulkInsert() throws(IVKeysError)
  /// Lets the engine tidy up after a command (SQLite: checkpoint a WAL past `bytes`). Never throws.
  func tidy(walBytes: Int64)
  /// For a long-running writer (`serve`): from now on this connection's commits return without
  /// waiting for the disk; the writer answers for a commit only after the returned syncer's
  /// `sync` (on a thread of its own) has made it durable, so many commits share one wait. On
  /// SQLite the writer must then not call `tidy` (its checkpoints would not be synced either),
  /// but the checkpointer's `finish`. Nil for a read-only store.
  func deferCommitSyncs() throws(IVKeysError) -> (any CommitSyncing)?
  /// For a long-running writer: a connection of its own that keeps the WAL short from a thread
  /// of its own (SQLite); nil when the engine needs none.
  func openCheckpointer() throws(IVKeysError) -> (any Checkpointing)?

  // MARK: - Keys

  /// Inserts a new key; inside `write`.
  func insertKey(_ row: NewKeyRow) throws(IVKeysError)
  /// The keys whose id is `prefix` or starts with it, by id, at most `limit`.
  func keys(idPrefix prefix: String, now: Timestamp, limit: Int) throws(IVKeysError) -> [KeyRecord]
  /// Calls `body` for each key `query` matches, in its order, on one snapshot.
  func forEachKey(
    _ query: KeyQuery, now: Timestamp, _ body: (KeyRecord) throws(IVKeysError) -> Void
  ) throws(IVKeysError)
  /// What `verify` needs of one key, or nil.
  func authKey(id: String) throws(IVKeysError) -> StoredAuthKey?
  /// Whether looking keys up many at a time (`authKeys(ids:)`) saves round trips (a server).
  var batchesLookups: Bool { get }
  /// What `verify` needs of each of these keys that the vault holds, by id.
  func authKeys(ids: Set<String>) throws(IVKeysError) -> [String: StoredAuthKey]
  /// Whether a key with this id exists.
  func keyExists(id: String) throws(IVKeysError) -> Bool
  /// How many keys the vault holds.
  func keyCount() throws(IVKeysError) -> Int64
  /// The effective status of each id the vault holds (absent ids are left out).
  func effectiveStatuses(of ids: Set<String>, now: Timestamp) throws(IVKeysError) -> [String: KeyStatus]
  /// Writes a key's settings, stored status and its reason from `record`; inside `write`.
  func updateKey(_ record: KeyRecord) throws(IVKeysError)
  /// Sets a key's stored status and its reason; inside `write`.
  func setStatus(id: String, _ status: KeyStatus, reason: String?) throws(IVKeysError)
  /// Records that a key was replaced by `replacedBy`, valid until `graceUntil`; inside `write`.
  func markReplaced(
    id: String, replacedBy: String, graceUntil: Timestamp, status: KeyStatus, reason: String
  ) throws(IVKeysError)
  /// Undoes `markReplaced`: no replacement, no grace, the stored status and reason given; inside
  /// `write`.
  func clearReplacement(id: String, status: KeyStatus, reason: String?) throws(IVKeysError)

  // MARK: - Usage and rate windows

  /// Adds usage counts; inside `write`.
  func addUsage(_ usage: UsageCounts) throws(IVKeysError)
  /// A key's totals: requests, errors, last use.
  func usageTotals(keyID: String) throws(IVKeysError) -> (requests: Int64, errors: Int64, lastUsed: Timestamp?)?
  /// A key's busiest endpoints, busiest first.
  func topEndpoints(keyID: String, limit: Int) throws(IVKeysError) -> [UsageReport.Bucket]
  /// A key's counts by day, from `firstDay` (`YYYY-MM-DD`) on.
  func dailyUsage(keyID: String, since firstDay: String) throws(IVKeysError) -> [UsageReport.Bucket]
  /// Records an imported gateway request; false when its id was imported before. Inside `write`.
  func recordImportedRequest(keyID: String, requestID: String, at: Timestamp) throws(IVKeysError) -> Bool
  /// The sliding rate-limit log (`RateLog.encoded`) another process (or an earlier run) left
  /// for a key.
  func rateLog(keyID: String) throws(IVKeysError) -> [UInt8]?
  /// Saves a key's rate-limit log; inside `write`.
  func saveRateLog(keyID: String, _ log: [UInt8]) throws(IVKeysError)
  /// What is left of a usage-limited key's budget; nil when it was never used since it was set.
  func requestBudget(keyID: String) throws(IVKeysError) -> BudgetState?
  /// Saves a key's budget; inside `write`.
  func saveRequestBudget(keyID: String, _ state: BudgetState) throws(IVKeysError)
  /// Forgets a key's budget (it was set anew or removed): the key starts from its whole budget.
  /// Inside `write`.
  func clearRequestBudget(keyID: String) throws(IVKeysError)

  // MARK: - Monitoring

  /// Calls `body` for each hourly bucket from hour `fromHour` on, key by key (id order), each
  /// key's hours in order; one key's only when `keyID` is given.
  func forEachHourlyBucket(
    fromHour: Int64, keyID: String?, _ body: (UsageCounts.Hour) throws(IVKeysError) -> Void) throws(IVKeysError)
  /// The same for the per-address buckets (requests that gave an address), each key's by hour,
  /// then address.
  func forEachAddressBucket(
    fromHour: Int64, keyID: String?, _ body: (UsageCounts.Address) throws(IVKeysError) -> Void) throws(IVKeysError)
  /// The last hour before `hour` in which this address was seen for the key (nil: not in the days kept).
  /// (Only hours from `notBefore` on are looked at: nil also when it was seen only earlier.)
  func lastAddressHour(keyID: String, ip: String, before hour: Int64, notBefore: Int64) throws(IVKeysError) -> Int64?
  /// The first hour with a request recorded for the key, in the days kept.
  func firstTrafficHour(keyID: String) throws(IVKeysError) -> Int64?
  /// Each key's owning company, by id (as stored: no seal is checked; for naming, not deciding).
  func keyCompanies() throws(IVKeysError) -> [String: String]
  /// A key's source addresses over the days kept, most recently seen first, at most `limit`.
  func addressSummary(keyID: String, limit: Int) throws(IVKeysError) -> [AddressSummary]
  /// Deletes buckets, old daily counts and alert states from before hour `hour`; inside `write`.
  func pruneUsage(beforeHour hour: Int64) throws(IVKeysError) -> PrunedUsage
  /// The working hours set for `subject` (`key:<id>`, `company:<id>`), with whether their seal holds.
  func workingHours(subject: String) throws(IVKeysError) -> WorkingHoursRow?
  /// Every working-hours row, by subject.
  func allWorkingHours() throws(IVKeysError) -> [WorkingHoursRow]
  /// Sets (sealed) working hours; a row that no longer matches its seal is `tampered`. Inside `write`.
  func setWorkingHours(subject: String, hours: String, zone: String, at: Timestamp, by: String) throws(IVKeysError)
  /// Removes working hours; inside `write`.
  func deleteWorkingHours(subject: String) throws(IVKeysError)
  /// The recorded states of alerts whose window starts at or after `windowFrom`, by id.
  func alertStates(windowFrom: Timestamp) throws(IVKeysError) -> [String: AlertStateRow]
  /// One alert's recorded state.
  func alertState(id: String) throws(IVKeysError) -> AlertStateRow?
  /// Records an acknowledgement; false when the alert was acknowledged before. Inside `write`.
  func acknowledgeAlert(_ state: AlertStateRow, at: Timestamp, by: String) throws(IVKeysError) -> Bool
  /// Claims an alert's e-mail notice unless it was sent, or claimed after `staleBefore`.
  func claimAlertNotice(
    _ state: AlertStateRow, recipient: String, messageID: String, at: Timestamp, staleBefore: Timestamp
  ) throws(IVKeysError) -> Bool
  /// Gives back a claim whose message was not sent.
  func releaseAlertNotice(id: String, messageID: String) throws(IVKeysError)
  /// Records that a claimed notice was handed to the mail system.
  func markAlertNoticeSent(id: String, messageID: String, at: Timestamp) throws(IVKeysError)

  // MARK: - Administrators and scopes

  func administrators() throws(IVKeysError) -> [Administrator]
  func isAdministrator(_ user: String) throws(IVKeysError) -> Bool
  func administratorCount() throws(IVKeysError) -> Int64
  func insertAdministrator(_ user: String, at: Timestamp, by: String) throws(IVKeysError)
  func deleteAdministrator(_ user: String) throws(IVKeysError)
  func scopeCatalog() throws(IVKeysError) -> [ScopeEntry]
  func scopeExists(_ name: String) throws(IVKeysError) -> Bool
  func insertScope(_ name: String, description: String, at: Timestamp, by: String) throws(IVKeysError)

  // MARK: - Audit

  /// The chain's last entry; inside `write` it stays the tail until the transaction ends.
  func auditTail() throws(IVKeysError) -> (seq: Int64, hash: String)?
  /// Appends one entry, already chained; inside `write`.
  func appendAudit(_ row: AuditRow) throws(IVKeysError)
  /// How many entries the log holds.
  func auditCount() throws(IVKeysError) -> Int64
  /// Calls `body` for each entry in seq order, as stored, until it returns false.
  func walkAudit(_ body: (any StoredAuditEntry) throws(IVKeysError) -> Bool) throws(IVKeysError)
  /// Calls `body` for each entry `filter` matches, oldest first.
  func auditEntries(_ filter: AuditFilter, _ body: (AuditRecord) throws(IVKeysError) -> Void) throws(IVKeysError)

  // MARK: - Expiry notices

  /// Whether this key's notice for this expiry was sent, or is claimed after `claimedAfter`.
  func notificationState(keyID: String, expiresAt: Timestamp, claimedAfter: Timestamp)
    throws(IVKeysError) -> NotificationState?
  /// Claims a notice unless it was sent or claimed after `staleBefore`; true when claimed.
  func claimNotification(_ n: NotificationRow, staleBefore: Timestamp) throws(IVKeysError) -> Bool
  /// Removes an unsent claim.
  func releaseNotification(_ n: NotificationRow) throws(IVKeysError)
  /// Marks a notice sent at `n.at`.
  func markNotificationSent(_ n: NotificationRow) throws(IVKeysError)

  // MARK: - Health

  /// The engine's own consistency check: `["ok"]`, or its problems (at most `limit`).
  func integrityProblems(limit: Int) throws(IVKeysError) -> [String]
  /// Whether the server still refuses changes to audit entries (SQLite: both triggers exist).
  func auditIsAppendOnly() throws(IVKeysError) -> Bool
  /// Keys without a `key.created` entry.
  func keysWithoutCreationEntry() throws(IVKeysError) -> Int64
  /// Revoked keys without a `key.revoked` entry.
  func revokedKeysWithoutRevocationEntry() throws(IVKeysError) -> Int64
  /// Keys still recorded as rotating (or suspended, when rotated while suspended) after their
  /// grace ended.
  func staleRotations(now: Timestamp) throws(IVKeysError) -> Int64
  // MARK: - Whole tables (`vault copy`)

  /// Calls `body` with each row of `table`, its values in the table's column order and typed as
  /// stored, in creation order.
  func exportRows(_ table: VaultTables.Table, _ body: ([SealValue]) throws(IVKeysError) -> Void) throws(IVKeysError)
  /// Inserts rows as `exportRows` (of either engine) gave them; inside `write`. A meta row the
  /// migrations made is replaced.
  func importRows(_ table: VaultTables.Table, _ rows: [[SealValue]]) throws(IVKeysError)
  /// How many rows `table` holds.
  func rowCount(_ table: VaultTables.Table) throws(IVKeysError) -> Int64

  /// Creates or refreshes the server's roles and their grants (PostgreSQL; SQLite refuses).
  func grantRoles() throws(IVKeysError)
  /// Refuses `backup` when the engine has its own tools for it (PostgreSQL: pg_dump).
  func refuseFileBackup() throws(IVKeysError)
  /// Copies the whole vault, consistently, into a new self-contained store at `path` (which
  /// exists and is empty), and returns it.
  func copy(to path: String) throws(IVKeysError) -> any VaultStore
}

/// Opens the store a location names. The one place that picks an engine: a `postgresql://` or
/// `postgres://` URL is a PostgreSQL vault, anything else a SQLite file.
enum VaultStores {
  /// Opens a store; `fresh` when its file was just made, empty, for a new vault.
  static func open(_ location: String, readOnly: Bool, fresh: Bool = false) throws(IVKeysError) -> any VaultStore {
    if VaultLocation.isPostgres(location) { return try PGStore(url: location, readOnly: readOnly) }
    return try SQLiteStore(path: location, readOnly: readOnly, fresh: fresh)
  }
}
