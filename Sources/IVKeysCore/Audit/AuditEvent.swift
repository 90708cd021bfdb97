/// Every event the audit log records. The raw value is what the log stores and what
/// `audit --event` matches.
public enum AuditEvent: String, CaseIterable, Sendable {
  /// `init` made the vault; detail: schema version, secret fingerprint, first administrator.
  case vaultInitialized = "vault.initialized"
  /// A key was created (`create`, or the new key of `rotate`); detail: env, type, name, scopes,
  /// links, expiry (and `rotated_from`).
  case keyCreated = "key.created"
  /// `update` granted or withdrew scopes; detail: the scopes before and after.
  case keyScopesChanged = "key.scopes_changed"
  /// `update` changed anything else (allowlist, expiry, rate limit, metadata, tags, name,
  /// contact, links); detail: each field before and after.
  case keyConfigChanged = "key.config_changed"
  /// A key was suspended; detail: the reason and the previous status.
  case keySuspended = "key.suspended"
  /// A suspended key was resumed; detail: the reason, if given, and the previous status.
  case keyResumed = "key.resumed"
  /// A key was revoked (`revoke`, `rotate --grace 0`, or `sweep` once a rotation grace ended); detail: the reason and the previous status.
  case keyRevoked = "key.revoked"
  /// `rotate` replaced a key; detail: the new key's id (`replaced_by`) and the grace.
  case keyRotated = "key.rotated"
  /// The new key of a `rotate` could not be delivered (it is revoked, `not delivered`), so the
  /// old key was put back as it was; detail: the new key's id, the reason and the status restored.
  case keyRotationUndone = "key.rotation_undone"
  /// `sweep` recorded that a key's expiry passed; detail: the expiry and the previous status.
  case keyExpired = "key.expired"
  /// `leak` found the key in files or a stream and the key still worked; detail: `locations`
  /// (each `file:line`), `action` (`suspend`, `rotate`, `revoke` or null when only reported),
  /// `reason`, `previous_status`, and `replaced_by` when rotated. Never the key.
  case keyLeaked = "key.leaked"
  /// `verify` allowed a request; detail: the code, scope, endpoint and env; never the key.
  case authSucceeded = "auth.succeeded"
  /// `verify` refused a request; detail: the decision code, scope, endpoint, env, why (which the
  /// answer does not say: an unknown id or a wrong secret) and `retry_after`; never the key.
  case authFailed = "auth.failed"
  /// `notify` handed an expiry notice to the mail command; detail: recipient, expiry, message id.
  case notificationSent = "notification.sent"
  /// `admin add` made an OS user an administrator; detail: the user.
  case adminAdded = "admin.added"
  /// `admin remove` removed an administrator; detail: the user.
  case adminRemoved = "admin.removed"
  /// `scopes add` added a scope to the catalog; detail: the scope and its description.
  case scopeAdded = "scope.added"
  /// A vault setting changed: an alert rule's parameter (`alerts set`) or a company's working
  /// hours (`alerts hours`); detail: the setting's name, its value before and after.
  case settingsChanged = "settings.changed"
  /// `alerts ack` closed an alert; detail: the alert's id, rule and window.
  case alertAcknowledged = "alert.acknowledged"
  /// A command found the vault changed outside ivkeys (a row or the schema no longer matches its
  /// seal) and refused to go on; detail: what it found. Written in a transaction of its own,
  /// when the vault still takes one.
  case vaultTamperDetected = "vault.tamper_detected"
  /// A migration sealed a vault made by an older ivkeys (every row and the schema); detail: the
  /// schema version it came from and the one it is at. A vault with this entry, or created at a
  /// sealed version, is never sealed again from an older schema (`Vault.refuseRolledBackSchema`).
  case vaultSealed = "vault.sealed"
  /// `secret rotate` moved the vault to a new secret version; detail: the previous and the new
  /// version and fingerprint. This entry and every later one are chained with the new version.
  case secretRotated = "secret.rotated"
  /// `secret retire` removed a version from the secret file; detail: the version and the
  /// checkpoint (`first_seq`, `last_seq`, `entries`, `sha256`) that covers the entries it chained.
  case secretRetired = "secret.retired"
}
