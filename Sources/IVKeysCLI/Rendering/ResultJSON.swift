import IVKeysCore

// Every JSON object ivkeys prints is written here, one extension per result type, through
// `JSONWriter`'s object builder (which puts the commas). Field names are a public interface
// (SPEC: "do not rename them").

/// A result that writes itself as one JSON value.
protocol JSONRendering {
  func writeJSON(to w: inout JSONWriter)
}

extension JSONRendering {
  /// The value as compact JSON text.
  var json: String {
    var w = JSONWriter()
    writeJSON(to: &w)
    return w.string
  }
}

extension Array where Element: JSONRendering {
  /// The results as one JSON array.
  var json: String {
    var w = JSONWriter(capacity: 256 * count + 2)
    w.array(self) { w, e in e.writeJSON(to: &w) }
    return w.string
  }
}

/// A JSON array written to an output element by element, for lists streamed from the vault
/// (`list`, `audit`, `create --count`): nothing but the element being written is held.
struct JSONArrayStream {
  private let out: Output
  private var w = JSONWriter(capacity: 1024)
  private var empty = true

  init(_ out: Output) {
    self.out = out
    out.write("[")
  }

  mutating func append(_ write: (inout JSONWriter) -> Void) {
    w.clear()
    if !empty { w.raw(",") }
    empty = false
    write(&w)
    out.write(bytes: w.bytes)
  }

  func close() { out.line("]") }
}

// MARK: - Keys

extension KeyRecord: JSONRendering {
  func writeJSON(to w: inout JSONWriter) { writeJSON(to: &w, plaintextKey: nil) }

  /// The key as SPEC's object. List-valued fields are the vault's own compact JSON, copied as
  /// they are. `plaintextKey` adds `key` (once, from `create` and `rotate`); `extra` adds the
  /// fields a command says more with (`expiring`, `rotation-due`) after SPEC's.
  func writeJSON(to w: inout JSONWriter, plaintextKey: String?, extra: ((inout JSONWriter) -> Void)? = nil) {
    // A damaged row may hold anything: its lists are written parsed (what cannot be read is
    // empty), never copied, so the output stays JSON.
    let damaged = damaged
    func list(_ w: inout JSONWriter, _ name: StaticString, _ stored: String, _ parsed: @autoclosure () -> [String]) {
      if damaged { w.member(name, strings: parsed()) } else { w.member(name, json: stored) }
    }
    w.object { w in
      w.member("id", id)
      w.member("env", env.rawValue)
      w.member("type", type.rawValue)
      w.member("company", company)
      list(&w, "linked_companies", linkedCompaniesJSON, linkedCompanies)
      w.member("name", name)
      list(&w, "scopes", scopesJSON, scopes)
      list(&w, "allowed_ips", allowedIPsJSON, allowedIPs)
      w.member("expires_at", time: expiresAt)
      // The rate limit alone (a budget has fields of its own); an unreadable column as stored. A
      // column without a budget is the rate limit as written: not parsed, as `list --json` writes
      // one for every key.
      let limits = rateLimit?.contains("max=") == true ? self.limits : nil
      w.member("rate_limit", limits.map { $0.rate?.description } ?? rateLimit)
      // A usage-limited key's budget; keys without one keep SPEC's field list exactly.
      if let budget = limits?.budget {
        w.member("max_requests", budget.max)
        w.member("refill", budget.refillText)
        if let requestsRemaining { w.member("remaining", requestsRemaining) }
      }
      if damaged {
        w.member("metadata", json: JSON.object(metadata.map { ($0, JSON.string($1)) }).encoded)
      } else {
        w.member("metadata", json: metadataJSON)
      }
      list(&w, "tags", tagsJSON, tags)
      w.member("contact", contact)
      w.member("status", displayStatus)
      w.member("status_reason", statusReason)
      w.member("created_at", time: createdAt)
      w.member("created_by", createdBy)
      w.member("rotated_from", rotatedFrom)
      w.member("replaced_by", replacedBy)
      w.member("grace_until", time: graceUntil)
      w.member("last_used_at", time: lastUsedAt)
      w.member("request_count", requestCount)
      w.member("error_count", errorCount)
      w.member("last_ip", lastIP)
      w.member("damaged", damaged)
      if let plaintextKey { w.member("key", plaintextKey) }
      extra?(&w)
    }
  }
}

// MARK: - Decisions

extension Decision: JSONRendering {
  /// SPEC's decision object.
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("allowed", allowed)
      w.member("status", Int64(code.httpStatus))
      w.member("code", code.rawValue)
      w.member("message", message)
      w.member("key_id", keyID)
      w.member("company", company)
      w.member("required_scope", requiredScope)
      w.member("retry_after", retryAfter)
      // Where the key's sliding window stands: null for an unknown key or one without a limit.
      if let r = rateLimit {
        w.member("rate_limit") { w in
          w.member("limit", r.limit)
          w.member("remaining", r.remaining)
          w.member("reset", r.reset)
        }
      } else {
        w.member("rate_limit", nil as String?)
      }
      if let requestsRemaining { w.member("remaining", requestsRemaining) }
    }
  }
}

// MARK: - Audit
extension AuditRecord: JSONRendering {
  /// The entry as a JSON object; `detail` is nested as the object it is.
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("seq", seq)
      w.member("at", at)
      w.member("event", event)
      w.member("actor", actor)
      w.member("os_user", osUser)
      w.member("key_id", keyID)
      w.member("company", company)
      w.member("ip", ip)
      w.member("detail", json: detail)
      w.member("prev_hash", prevHash)
      w.member("hash", hash)
    }
  }
}

extension AuditVerification: JSONRendering {
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("intact", intact)
      w.member("entries", entries)
      w.member("head_seq", head?.seq)
      w.member("head_hash", head?.hash)
      w.member("problem", problem?.rawValue)
      w.member("bad_seq", badSeq)
      w.member("message", message)
    }
  }
}

// MARK: - Vault

extension Vault.Initialized: JSONRendering {
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("vault", vaultPath)
      w.member("secret_file", secretPath)
      w.member("fingerprint", fingerprint)
      w.member("administrator", administrator)
    }
  }
}

extension VaultCopyResult: JSONRendering {
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("source", source)
      w.member("destination", destination)
      w.member("keys", keys)
      w.member("audit_entries", audit.entries)
      w.member("audit_head", audit.head.map { "\($0.seq) \($0.hash)" })
      w.key("rows")
      w.object { w in
        for r in rows {
          w.key(r.table)
          w.int(r.count)
        }
      }
    }
  }
}

extension HealthCheck: JSONRendering {
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("check", name)
      w.member("ok", ok)
      w.member("message", message)
      w.member("hint", hint)
    }
  }
}

extension BackupResult: JSONRendering {
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("path", path)
      w.member("keys", keys)
      w.member("audit_entries", auditEntries)
      w.member("audit_head", audit.head.map { "\($0.seq) \($0.hash)" })
      w.member("integrity", "ok")
    }
  }
}

extension Administrator: JSONRendering {
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("user", user)
      w.member("added_at", time: addedAt)
      w.member("added_by", addedBy)
      w.member("damaged", damaged)
    }
  }
}

extension ScopeEntry: JSONRendering {
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("name", name)
      w.member("description", description)
      w.member("damaged", damaged)
    }
  }
}

extension SecretVersionStatus: JSONRendering {
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("version", Int64(version))
      w.member("fingerprint", fingerprint)
      w.member("added_at", time: addedAt)
      w.member("retired_at", time: retiredAt)
      w.member("current", current)
      w.member("in_secret_file", inFile)
      w.member("keys", keys)
      w.member("unrevoked_keys", unrevokedKeys)
      w.member("damaged", damaged)
    }
  }
}

// MARK: - Usage

extension UsageReport: JSONRendering {
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("key_id", keyID)
      w.member("request_count", requestCount)
      w.member("error_count", errorCount)
      w.member("error_rate", errorRate)
      if let budget {
        w.member("max_requests", budget.max)
        w.member("remaining", remaining)
      }
      w.member("last_used_at", time: lastUsedAt)
      w.member("top_endpoints", array: topEndpoints) { w, b in Self.write(b, as: "endpoint", to: &w) }
      w.member("daily", array: daily) { w, b in Self.write(b, as: "date", to: &w) }
      w.member("hourly", array: hourly) { w, h in
        w.object { w in
          w.member("hour", time: h.hour * 3600)
          w.member("requests", h.requests)
          w.member("errors", h.errors)
        }
      }
      w.member("ips", array: addresses) { w, a in
        w.object { w in
          w.member("ip", a.ip)
          w.member("first_seen", time: a.firstSeen)
          w.member("last_seen", time: a.lastSeen)
          w.member("requests", a.requests)
          w.member("denied", a.denied)
        }
      }
    }
  }

  /// One bucket: its name under `label` (`endpoint`, `date`), its requests and errors.
  static func write(_ b: Bucket, as label: StaticString, to w: inout JSONWriter) {
    w.object { w in
      w.member(label, b.name)
      w.member("count", b.count)
      w.member("errors", b.errors)
    }
  }
}

extension ImportResult: JSONRendering {
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("imported", imported)
      w.member("duplicates", duplicates)
      w.member("unknown_keys", unknownKeys)
      w.member("bad_lines", bad)
    }
  }
}

// MARK: - Catalog and chain

/// A preset and its scopes (`scopes presets`).
struct Preset: JSONRendering {
  let name: String
  let scopes: [String]

  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("name", name)
      w.member("scopes", strings: scopes)
    }
  }
}

/// The chain's head, as `audit head` prints it.
struct AuditHead: JSONRendering {
  let seq: Int64
  let hash: String

  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("seq", seq)
      w.member("hash", hash)
    }
  }
}
