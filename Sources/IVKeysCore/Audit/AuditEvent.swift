/// Every event the audit log records. The raw value is what the log stores and what
/// `audit --event` matches.
public enum AuditEvent: String, CaseIterable, Sendable {
  case vaultInitialized = "vault.initialized"
  case keyCreated = "key.created"
  case keyScopesChanged = "key.scopes_changed"
  case keyConfigChanged = "key.config_changed"
  case keySuspended = "key.suspended"
  case keyResumed = "key.resumed"
  case keyRevoked = "key.revoked"
  case keyRotated = "key.rotated"
  case keyExpired = "key.expired"
  case authSucceeded = "auth.succeeded"
  case authFailed = "auth.failed"
  case notificationSent = "notification.sent"
  case adminAdded = "admin.added"
  case adminRemoved = "admin.removed"
  case scopeAdded = "scope.added"
}
