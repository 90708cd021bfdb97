import IVKeysCore

// The JSON of what cron and CI read: expiring keys, rotation due, sweep, notify, scan and the
// credential report (`ResultJSON.swift` holds the rest, and the rules every object follows).

// MARK: - Reports for cron and CI

/// A key `expiring` lists, with the time it has left.
struct ExpiringKey: JSONRendering {
  let record: KeyRecord
  let secondsLeft: Int64

  func writeJSON(to w: inout JSONWriter) {
    record.writeJSON(to: &w, plaintextKey: nil) { w in w.member("seconds_left", secondsLeft) }
  }
}

extension RotationDue: JSONRendering {
  func writeJSON(to w: inout JSONWriter) {
    record.writeJSON(to: &w, plaintextKey: nil) { w in
      w.member("high_privilege", Scopes.isHighPrivilege(record.scopes))
      w.member("rotation_period_days", period / 86400)
      w.member("rotation_due_at", time: dueAt)
      w.member("overdue_seconds", overdue)
      w.member("reason", reason ?? "older than the rotation policy")
    }
  }
}

extension SweptKey: JSONRendering {
  /// Why the sweep recorded the change, with the time it happened.
  var reason: String {
    if let idle {
      let since =
        record.lastUsedAt.map { "last used \(Time.rfc3339($0))" } ?? "never used; created \(Time.rfc3339(idle.since))"
      return "\(idle.reason) (\(since))"
    }
    return newStatus == .revoked
      ? "\(rotationGraceEndedReason) at \(record.graceUntil.map(Time.rfc3339) ?? "?")"
      : "expired at \(record.expiresAt.map(Time.rfc3339) ?? "?")"
  }

  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("key_id", record.id)
      w.member("company", record.company)
      w.member("name", record.name)
      w.member("previous_status", previousStatus.rawValue)
      w.member("status", newStatus.rawValue)
      w.member("reason", reason)
      w.member("idle_since", time: idle?.since)
    }
  }
}

extension CredentialReportRow: JSONRendering {
  /// One row of the credential report, its members in the report's column order.
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("id", id)
      w.member("company", company)
      w.member("env", env.rawValue)
      w.member("type", type.rawValue)
      w.member("status", status)
      w.member("created_at", time: createdAt)
      w.member("age_days", ageDays)
      w.member("expires_at", time: expiresAt)
      w.member("last_used_at", time: lastUsedAt)
      w.member("last_ip", lastIP)
      w.member("requests", requests)
      w.member("errors", errors)
      w.member("error_rate", errorRate.map(JSON.number) ?? .null)
      w.member("rotation_due_at", time: rotationDueAt)
      w.member("idle_days", idleDays)
      w.member("secret_version", Int64(secretVersion))
    }
  }
}

/// What `notify` or `alerts notify` did about one key or alert: sent, failed, would send, …
struct NoticeResult<Notice: DeliverableNotice>: JSONRendering {
  let subject: Notice.Subject
  let outcome: DeliveryOutcome
  let notice: Notice?
  /// With `--dry-run` the message itself is shown.
  let dryRun: Bool

  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      Notice.writeSubject(subject, notice, to: &w)
      w.member("result", outcome.rawValue)
      w.member("message_id", notice?.messageID)
      if dryRun { w.member("message", notice?.message) }
    }
  }
}

/// A key `scan` found, with its status in the vault when there is one.
struct ScanFinding: JSONRendering {
  let finding: LeakScanner.Finding
  let status: String?

  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("file", finding.file)
      w.member("line", finding.line)
      w.member("column", finding.column)
      w.member("key_id", finding.keyID)
      w.member("env", finding.env.rawValue)
      w.member("status", status)
      w.member("form", finding.form.rawValue)
      w.member("masked", finding.masked)
      if let commit = finding.commit { w.member("commit", commit) }
    }
  }
}
