import Foundation
import Testing

@testable import IVKeysCLI
@testable import IVKeysCore

/// Ages and passed deadlines are made by editing timestamps in the test vault, as a reviewer
/// with the sqlite3 shell would: nothing in ivkeys lets a flag or variable move its clock.
extension Sandbox {
  func setTime(_ column: String, of id: String, secondsFromNow offset: Int64) throws {
    let now = Int64(Date().timeIntervalSince1970)
    precondition(["created_at", "expires_at", "grace_until"].contains(column))
    try edit("UPDATE keys SET \(column) = ? WHERE id = ?", [.int(now + offset), .text(id)])
    try reseal(id)
  }

  func jsonArray(_ args: String...) throws -> [[String: Any]] {
    let r = run(args)
    guard let a = try r.json() as? [[String: Any]] else {
      throw SandboxError.initFailed("not an array: \(r.stdout) \(r.stderr)")
    }
    return a
  }

  func status(of id: String) -> String? {
    (try? run("show", id, "--json").json() as? [String: Any])?["status"] as? String
  }
}

@Suite("expiring and rotation-due")
struct ExpiryReportTests {
  @Test func expiringListsActiveKeysInTheWindowSoonestFirst() throws {
    let s = try Sandbox()
    let later = try s.createKey(["--expires-in", "5d"], company: "acme")
    let sooner = try s.createKey(["--expires-in", "2d"], company: "globex")
    let outside = try s.createKey(["--expires-in", "30d"], company: "acme")
    let never = try s.createKey([], company: "acme")
    let revoked = try s.createKey(["--expires-in", "1d"], company: "acme")
    let suspended = try s.createKey(["--expires-in", "1d"], company: "acme")
    #expect(s.run("revoke", revoked.id, "--reason", "gone").status == 0)
    #expect(s.run("suspend", suspended.id, "--reason", "paused").status == 0)

    let ids = s.run("expiring", "-q")
    #expect(ids.status == 0)
    #expect(ids.lines == [sooner.id, later.id])

    let table = s.run("expiring")
    #expect(table.lines.first?.hasPrefix("ID") == true)
    #expect(table.lines.count == 3)
    #expect(
      table.lines[1].contains(sooner.id) && table.lines[1].contains("globex")
        && (table.lines[1].contains("1d 23h") || table.lines[1].contains("2d")))

    #expect(s.run("expiring", "--within", "40d", "-q").lines == [sooner.id, later.id, outside.id])
    #expect(s.run("expiring", "--company", "acme", "-q").lines == [later.id])
    #expect(!s.run("expiring", "--within", "1000d", "-q").lines.contains(never.id))

    let json = try s.jsonArray("expiring", "--json")
    #expect(json.map { $0["id"] as? String } == [sooner.id, later.id])
    let left = json[0]["seconds_left"] as? Int ?? 0
    #expect(left > 2 * 86400 - 120 && left <= 2 * 86400)
    #expect(json[0]["expires_at"] is String && json[0]["company"] as? String == "globex")
  }

  @Test func expiringCheckExitsThreeOnlyWhenSomethingIsListed() throws {
    let s = try Sandbox()
    _ = try s.createKey(["--expires-in", "10d"])
    let quiet = s.run("expiring", "--check")
    #expect(quiet.status == 0)
    #expect(quiet.stdout.isEmpty)
    #expect(quiet.stderr.contains("no active key expires within 7d"))
    let found = s.run("expiring", "--within", "2w", "--check")
    #expect(found.status == 3)
    #expect(found.lines.count == 2)
    #expect(s.run("expiring", "--within", "2w").status == 0, "without --check a listing is not a failure")
    #expect(s.run("expiring", "--within", "2w", "--check", "--json").status == 3)
  }

  @Test func includeExpiredAddsKeysWhoseExpiryPassed() throws {
    let s = try Sandbox()
    let gone = try s.createKey(["--expires-in", "1d"])
    let soon = try s.createKey(["--expires-in", "1d"])
    try s.setTime("expires_at", of: gone.id, secondsFromNow: -3 * 86400)
    #expect(s.run("expiring", "-q").lines == [soon.id])
    #expect(s.run("expiring", "--include-expired", "-q").lines == [gone.id, soon.id])
    let table = s.run("expiring", "--include-expired")
    // "expired 3d ago", plus the seconds (or minutes, on a loaded machine) that passed between
    // setting the time and listing.
    #expect(
      table.stdout.range(of: #"expired 3d( [0-9]+[sm])? ago"#, options: .regularExpression) != nil, "\(table.stdout)")
    let json = try s.jsonArray("expiring", "--include-expired", "--json")
    #expect((json[0]["seconds_left"] as? Int ?? 0) < 0)
    #expect(json[0]["status"] as? String == "expired")
  }

  @Test func badWindowsAreUsageErrors() throws {
    let s = try Sandbox()
    for (args, text) in [
      (["expiring", "--within", "soon"], "--within"), (["expiring", "--within", "0s"], "longer than 0"),
      (["expiring", "--company", ""], "--company"), (["notify", "--within", "7"], "--within"),
      (["notify", "--from", "not an address"], "--from"), (["notify", "--sendmail", " "], "--sendmail"),
    ] {
      let r = s.run(args)
      #expect(r.status == 2, "\(args)")
      #expect(r.stderr.hasPrefix("ivkeys: error:") && r.stderr.contains(text), "\(args): \(r.stderr)")
    }
  }

  @Test func rotationDueFollowsThePolicyByScope() throws {
    let s = try Sandbox()
    let writer91 = try s.createKey(["--expires-in", "60d"], scope: "jobs:write")
    let reader91 = try s.createKey([], scope: "jobs:read")
    let reader200 = try s.createKey([], scope: "jobs:read,analytics:read")
    let wildcard100 = try s.createKey([], scope: "candidates:*")
    let fresh = try s.createKey([], scope: "*")
    let revoked = try s.createKey([], scope: "*")
    try s.setTime("created_at", of: writer91.id, secondsFromNow: -91 * 86400)
    try s.setTime("created_at", of: reader91.id, secondsFromNow: -91 * 86400)
    try s.setTime("created_at", of: reader200.id, secondsFromNow: -200 * 86400)
    try s.setTime("created_at", of: wildcard100.id, secondsFromNow: -100 * 86400)
    try s.setTime("created_at", of: revoked.id, secondsFromNow: -300 * 86400)
    #expect(s.run("revoke", revoked.id, "--reason", "old").status == 0)

    // Most overdue first: reader200 (20 days), wildcard100 (10 days), writer91 (1 day).
    #expect(s.run("rotation-due", "-q").lines == [reader200.id, wildcard100.id, writer91.id])
    let json = try s.jsonArray("rotation-due", "--json")
    #expect(json.map { $0["rotation_period_days"] as? Int } == [180, 90, 90])
    #expect(json.map { $0["high_privilege"] as? Bool } == [false, true, true])
    let overdue = json[0]["overdue_seconds"] as? Int ?? 0
    #expect(overdue >= 20 * 86400 && overdue < 20 * 86400 + 120)
    #expect(!s.run("rotation-due", "-q").lines.contains(fresh.id))
    #expect(!s.run("rotation-due", "-q").lines.contains(reader91.id))

    let table = s.run("rotation-due")
    #expect(table.lines.count == 4)
    #expect(table.lines[1].contains(reader200.id) && table.lines[1].contains("180d") && table.lines[1].contains("20d"))
    #expect(s.run("rotation-due", "--check").status == 3)

    // Rotating resets the clock: the new key is the current one.
    #expect(s.run("rotate", writer91.id, "--grace", "1h", "-q").status == 0)
    #expect(!s.run("rotation-due", "-q").lines.contains(writer91.id))
  }

  @Test func rotationDueCheckIsQuietWhenNothingIsDue() throws {
    let s = try Sandbox()
    _ = try s.createKey([], scope: "*")
    let r = s.run("rotation-due", "--check")
    #expect(r.status == 0)
    #expect(r.stdout.isEmpty)
    #expect(try s.jsonArray("rotation-due", "--json").isEmpty)
  }
}

@Suite("notify")
struct NotifyTests {
  /// A fake sendmail that keeps each message it is given in its own file under `dir/mail`.
  ///
  /// The command returned runs the script through `/bin/sh` rather than executing the file itself: a
  /// child that another test forks while the script is being written inherits its descriptor open
  /// for writing, and exec of a file open for writing fails with ETXTBSY ("Text file busy") for as
  /// long as that child lives. Reading the script is never refused.
  static func fakeSendmail(_ s: Sandbox, failing: Bool = false) throws -> String {
    let mail = s.dir.path + "/mail"
    try FileManager.default.createDirectory(atPath: mail, withIntermediateDirectories: true)
    let script = s.dir.path + (failing ? "/failing-sendmail" : "/sendmail")
    let body =
      failing
      ? "#!/bin/sh\ncat > /dev/null\necho 'sendmail: cannot connect' >&2\nexit 75\n"
      : "#!/bin/sh\nn=$(ls \(mail) | wc -l)\ncat > \(mail)/message-$n.eml\n"
    try body.write(toFile: script, atomically: true, encoding: .utf8)
    return "/bin/sh " + script
  }

  static func messages(_ s: Sandbox) -> [String] {
    let mail = s.dir.path + "/mail"
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: mail)) ?? []).sorted()
    return names.compactMap { try? String(contentsOfFile: mail + "/" + $0, encoding: .utf8) }
  }

  @Test func sendsOneMessagePerKeyAndExpiryAndNeverTheKey() throws {
    let s = try Sandbox()
    let sendmail = try Self.fakeSendmail(s)
    let k = try s.createKey(
      ["--expires-in", "3d", "--contact", "ops@example.com"], company: "acme", name: "billing sync")
    let noContact = try s.createKey(["--expires-in", "3d"], company: "acme")
    let later = try s.createKey(["--expires-in", "30d", "--contact", "late@example.com"], company: "acme")

    let first = s.run("notify", "--within", "7d", "--sendmail", sendmail, "--from", "keys@instaview.example")
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.lines.count == 1 && first.lines[0].contains(k.id) && first.lines[0].contains("ops@example.com"))
    #expect(first.stderr.contains("key \(noContact.id) expires at") && first.stderr.contains("no contact"))
    let sent = Self.messages(s)
    #expect(sent.count == 1)
    let m = sent.first ?? ""
    #expect(m.contains("To: ops@example.com\n"))
    #expect(m.contains("From: ivkeys <keys@instaview.example>\n"))
    #expect(m.contains("Subject: InstaView API key \(k.id) expires on "))
    #expect(m.contains("Date: ") && m.contains("Message-ID: <ivkeys.\(k.id).") && m.contains("\n\n"))
    #expect(m.contains("billing sync") && m.contains("acme") && m.contains("ivkeys rotate \(k.id)"))
    #expect(
      !m.contains(k.key) && !m.contains(String(k.key.dropFirst(41))), "the message must not hold the key or its secret")
    #expect(!m.contains(later.id))
    let events = try s.events()
    #expect(events.filter { $0 == "notification.sent" }.count == 1)
    let audit = try s.jsonArray("audit", "--event", "notification.sent", "--json")
    let detail = audit.first?["detail"] as? [String: Any]
    #expect(audit.first?["key_id"] as? String == k.id)
    #expect(detail?["to"] as? String == "ops@example.com")

    // Never twice for the same key and expiry.
    let second = s.run("notify", "--within", "7d", "--sendmail", sendmail)
    #expect(second.status == 0)
    #expect(second.stdout.isEmpty)
    #expect(second.stderr.contains("1 key was already notified"))
    #expect(Self.messages(s).count == 1)
    #expect(try s.events().filter { $0 == "notification.sent" }.count == 1)
    let json = try s.jsonArray("notify", "--sendmail", sendmail, "--json")
    #expect(Set(json.compactMap { $0["result"] as? String }) == ["already_sent", "no_contact"])

    // An expiry that changes gets a new notice.
    #expect(s.run("update", k.id, "--expires-in", "4d").status == 0)
    let third = s.run("notify", "--sendmail", sendmail)
    #expect(third.status == 0)
    #expect(third.lines.count == 1)
    #expect(Self.messages(s).count == 2)
    #expect(try s.events().filter { $0 == "notification.sent" }.count == 2)
  }

  @Test func aFailingCommandIsReportedAndNotRecorded() throws {
    let s = try Sandbox()
    let failing = try Self.fakeSendmail(s, failing: true)
    let k = try s.createKey(["--expires-in", "1d", "--contact", "ops@example.com"])
    let before = s.auditCount
    let r = s.run("notify", "--sendmail", failing)
    #expect(r.status == 1)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.contains("ivkeys: error: the notice for key \(k.id) to ops@example.com was not sent"))
    #expect(r.stderr.contains("exited with status 75"))
    #expect(r.stderr.contains("sendmail: cannot connect"), "the command's own message reaches stderr")
    #expect(s.auditCount == before)
    #expect(try s.count("SELECT count(*) FROM notifications") == 0)
    let missing = s.run("notify", "--sendmail", s.dir.path + "/no-such-sendmail")
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("command not found"))

    // Once the mail system works, the notice goes out.
    let ok = s.run("notify", "--sendmail", try Self.fakeSendmail(s))
    #expect(ok.status == 0)
    #expect(Self.messages(s).count == 1)
    #expect(s.auditCount == before + 1)
  }

  @Test func dryRunPrintsTheMessagesAndRecordsNothing() throws {
    let s = try Sandbox()
    let sendmail = try Self.fakeSendmail(s)
    let k = try s.createKey(["--expires-in", "2d", "--contact", "ops@example.com"])
    let before = s.auditCount
    let r = s.run("notify", "--sendmail", sendmail, "--dry-run")
    #expect(r.status == 0)
    #expect(r.stdout.hasPrefix("From: ivkeys <"))
    #expect(r.stdout.contains("To: ops@example.com") && r.stdout.contains("ivkeys rotate \(k.id)"))
    #expect(!r.stdout.contains(k.key))
    #expect(r.stderr.contains("dry run"))
    #expect(Self.messages(s).isEmpty)
    #expect(s.auditCount == before)
    let json = try s.jsonArray("notify", "--dry-run", "--json")
    #expect(json.first?["result"] as? String == "would_send")
    #expect((json.first?["message"] as? String)?.contains("To: ops@example.com") == true)
    // The real run still sends it: the dry run recorded nothing.
    #expect(s.run("notify", "--sendmail", sendmail).lines.count == 1)
  }

  @Test func aMailCommandThatHangsIsStoppedAndFails() throws {
    let started = Date()
    #expect(throws: IVKeysError.self) {
      try Sendmail.deliver("To: a@example.com\n\nhi\n", command: "sleep 30", timeout: 1)
    }
    #expect(Date().timeIntervalSince(started) < 10, "stopped after its timeout, not after 30 s")
    do {
      try Sendmail.deliver("x\n", command: "exec sleep 30", timeout: 1)
      Issue.record("a hung command passed")
    } catch {
      #expect(error.description.contains("did not finish within 1s and was stopped"))
    }
    // A command that finishes in time is not affected.
    try Sendmail.deliver("x\n", command: "cat > /dev/null", timeout: 5)
  }

  @Test func theMailCommandGetsNoKeyAndDefaultSignals() throws {
    let s = try Sandbox()
    let out = s.dir.path + "/env.txt"
    let script = s.dir.path + "/env-sendmail"
    try "#!/bin/sh\ncat > /dev/null\nenv > \(out)\ngrep SigIgn /proc/$$/status >> \(out)\n"
      .write(toFile: script, atomically: true, encoding: .utf8)
    let k = try s.createKey(["--expires-in", "2d", "--contact", "ops@example.com"])
    // Through /bin/sh, not exec of the file just written: see `fakeSendmail`.
    #expect(
      s.run(["notify", "--sendmail", "/bin/sh " + script], env: ["IVKEYS_KEY": k.key, "MARKER": "kept"]).status == 0)
    let seen = try String(contentsOfFile: out, encoding: .utf8)
    #expect(seen.contains("MARKER=kept"))
    #expect(!seen.contains("IVKEYS_KEY") && !seen.contains(k.key))
    // SIGPIPE (signal 13, bit 0x1000) is not left ignored in the mail command.
    let sigIgn = seen.split(separator: "\n").first { $0.hasPrefix("SigIgn:") }
    let ignored = sigIgn.flatMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) }
    #expect(ignored.map { $0 & 0x1000 == 0 } == true, "\(seen)")
  }

  @Test func aNameCannotAddHeaders() throws {
    let s = try Sandbox()
    let sendmail = try Self.fakeSendmail(s)
    let r = s.run(
      "create", "--company", "acme", "--name", "evil\nBcc: attacker@example.com\n\nhi", "--scope", "jobs:read",
      "--expires-in", "1d", "--contact", "ops@example.com", "-q")
    #expect(r.status == 0)
    #expect(s.run("notify", "--sendmail", sendmail).status == 0)
    let m = Self.messages(s).first ?? ""
    #expect(!m.contains("\nBcc:"))
    #expect(m.contains("evil\\nBcc: attacker@example.com"))
  }
}

@Suite("sweep")
struct SweepTests {
  @Test func sweepRecordsEndedGracesAndPassedExpiriesOnce() throws {
    let s = try Sandbox()
    let rotated = try s.createKey()
    let rotation = s.run("rotate", rotated.id, "--grace", "1h", "--json")
    #expect(rotation.status == 0)
    try s.setTime("grace_until", of: rotated.id, secondsFromNow: -60)
    let expired = try s.createKey(["--expires-in", "1d"])
    try s.setTime("expires_at", of: expired.id, secondsFromNow: -60)
    let suspendedPast = try s.createKey(["--expires-in", "1d"])
    #expect(s.run("suspend", suspendedPast.id, "--reason", "paused").status == 0)
    try s.setTime("expires_at", of: suspendedPast.id, secondsFromNow: -60)
    let healthy = try s.createKey(["--expires-in", "1d"])
    let stillRotating = try s.createKey()
    #expect(s.run("rotate", stillRotating.id, "--grace", "1h", "-q").status == 0)

    // doctor notices the ended grace and points at sweep.
    let doctor = s.run("doctor")
    #expect(doctor.status == 3)
    #expect(doctor.stdout.contains("rotation grace ended, still recorded as rotating"))
    #expect(doctor.stdout.contains("hint: 'ivkeys sweep' records them as revoked"))

    // A dry run lists and changes nothing.
    let before = s.auditCount
    let dry = s.run("sweep", "--dry-run", "-q")
    #expect(dry.status == 0)
    #expect(Set(dry.lines) == [rotated.id, expired.id])
    #expect(s.auditCount == before)
    #expect(try s.count("SELECT count(*) FROM keys WHERE status IN ('revoked', 'expired')") == 0)

    let r = s.run("sweep", "--json")
    #expect(r.status == 0)
    let changes = try r.json() as? [[String: Any]] ?? []
    let byID = Dictionary(uniqueKeysWithValues: changes.map { ($0["key_id"] as? String ?? "", $0) })
    #expect(byID.count == 2)
    #expect(byID[rotated.id]?["status"] as? String == "revoked")
    #expect(byID[rotated.id]?["previous_status"] as? String == "rotating")
    #expect(byID[expired.id]?["status"] as? String == "expired")
    #expect(s.auditCount == before + 2)
    let events = try s.events().suffix(2)
    #expect(Set(events) == ["key.revoked", "key.expired"])
    let revokedEntry = try s.jsonArray("audit", "--key", rotated.id, "--event", "key.revoked", "--json")
    #expect((revokedEntry.first?["detail"] as? [String: Any])?["reason"] as? String == "rotation grace ended")

    // The vault now records it, not just computes it.
    #expect(
      try s.count("SELECT count(*) FROM keys WHERE status = 'revoked' AND status_reason = 'rotation grace ended'") == 1)
    #expect(try s.count("SELECT count(*) FROM keys WHERE status = 'expired'") == 1)
    #expect(s.status(of: suspendedPast.id) == "suspended")
    #expect(s.status(of: healthy.id) == "active")
    #expect(s.status(of: stillRotating.id) == "rotating")

    // Twice changes nothing the second time.
    let again = s.run("sweep")
    #expect(again.status == 0)
    #expect(again.stdout.isEmpty)
    #expect(again.stderr.contains("nothing to sweep"))
    #expect(s.auditCount == before + 2)
    #expect(s.run("audit", "verify").status == 0)
    #expect(s.run("doctor").status == 0)
  }

  @Test func anExpirySweptCanStillBeExtended() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--expires-in", "1d"])
    try s.setTime("expires_at", of: k.id, secondsFromNow: -60)
    #expect(s.run("sweep", "-q").lines == [k.id])
    #expect(s.status(of: k.id) == "expired")
    let update = s.run("update", k.id, "--expires-in", "30d")
    #expect(update.status == 0, "\(update.stderr)")
    #expect(s.status(of: k.id) == "active")
    let change = try s.jsonArray("audit", "--key", k.id, "--event", "key.config_changed", "--json").last
    let status = (change?["detail"] as? [String: Any])?["status"] as? [String: Any]
    #expect(status?["before"] as? String == "expired" && status?["after"] as? String == "active")
    let verify = s.run(["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read"], stdin: k.key)
    #expect(verify.status == 0, "\(verify.stdout)")
    // Only revoked is final: a revoked key stays revoked.
    #expect(s.run("revoke", k.id, "--reason", "done").status == 0)
    #expect(s.run("update", k.id, "--expires-in", "60d").status == 1)
  }

  @Test func sweepPrintsWhatItDid() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--expires-in", "1d"], name: "nightly export")
    try s.setTime("expires_at", of: k.id, secondsFromNow: -5)
    let r = s.run("sweep")
    #expect(r.status == 0)
    #expect(r.lines.count == 2)
    #expect(
      r.lines[1].contains(k.id) && r.lines[1].contains("active") && r.lines[1].contains("expired")
        && r.lines[1].contains("nightly export"))
    #expect(r.stderr.contains("recorded 0 revoked (rotation grace ended) and 1 expired"))
  }
}

@Suite("bulk suspend, resume and revoke")
struct BulkChangeTests {
  @Test func bulkRevokeNeedsYesAndChangesOnlyWhatMatches() throws {
    let s = try Sandbox()
    let ci = try (0..<3).map { _ in try s.createKey(["--env", "test", "--tag", "ci"], company: "acme") }
    let liveCI = try s.createKey(["--tag", "ci"], company: "acme")
    let otherCompany = try s.createKey(["--env", "test", "--tag", "ci"], company: "globex")
    let untagged = try s.createKey(["--env", "test"], company: "acme")
    let linked = s.run(
      "create", "--company", "lever", "--type", "ats", "--link-company", "acme", "--env", "test",
      "--tag", "ci", "--name", "ats", "--scope", "jobs:read", "-q")
    #expect(linked.status == 0)
    let atsID = String(linked.stdout.dropFirst(8).prefix(32))
    let args = ["revoke", "--company", "acme", "--tag", "ci", "--env", "test", "--reason", "ci run finished"]

    let before = s.auditCount
    let dry = s.run(args + ["--dry-run", "-q"])
    #expect(dry.status == 0)
    #expect(Set(dry.lines) == Set(ci.map(\.id)))
    #expect(dry.stderr.contains("would revoke 3 keys"))
    #expect(s.auditCount == before)

    let refused = s.run(args)
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("ivkeys: error: 3 keys match; changing more than one key needs --yes"))
    #expect(refused.stdout.isEmpty)
    #expect(s.auditCount == before)
    #expect(ci.allSatisfy { s.status(of: $0.id) == "active" })

    let done = s.run(args + ["--yes", "--json"])
    #expect(done.status == 0)
    let records = try done.json() as? [[String: Any]] ?? []
    #expect(Set(records.compactMap { $0["id"] as? String }) == Set(ci.map(\.id)))
    #expect(
      records.allSatisfy { $0["status"] as? String == "revoked" && $0["status_reason"] as? String == "ci run finished" }
    )
    #expect(s.auditCount == before + 3)
    #expect(try s.events().suffix(3) == ["key.revoked", "key.revoked", "key.revoked"])
    for k in [liveCI, otherCompany, untagged] { #expect(s.status(of: k.id) == "active") }
    #expect(s.status(of: atsID) == "active", "an ATS key linked to the company is not the company's to revoke")

    // Running it again finds nothing to do, and says so without failing.
    let again = s.run(args + ["--yes"])
    #expect(again.status == 0)
    #expect(again.stderr.contains("no keys match that are not already revoked"))
    #expect(s.auditCount == before + 3)
  }

  @Test func oneMatchNeedsNoYesAndSuspendResumeWorkBySelector() throws {
    let s = try Sandbox()
    let a = try s.createKey(["--tag", "partner-x"])
    let b = try s.createKey(["--tag", "partner-x"])
    let only = try s.createKey(["--tag", "solo"])
    #expect(s.run("suspend", "--tag", "solo", "--reason", "investigating").status == 0)
    #expect(s.status(of: only.id) == "suspended")

    #expect(s.run("suspend", "--tag", "partner-x", "--reason", "audit", "--yes").status == 0)
    #expect(s.status(of: a.id) == "suspended" && s.status(of: b.id) == "suspended")
    let resumed = s.run("resume", "--tag", "partner-x", "--yes", "-q")
    #expect(resumed.status == 0)
    #expect(Set(resumed.lines) == [a.id, b.id])
    #expect(s.status(of: a.id) == "active" && s.status(of: only.id) == "suspended")
    // Suspend selects only active keys: the suspended one is left alone, not an error.
    let again = s.run("suspend", "--tag", "solo", "--reason", "again")
    #expect(again.status == 0)
    #expect(again.stderr.contains("no active keys match"))
  }

  @Test func selectorMisuseIsAUsageError() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--tag", "x"])
    let before = s.auditCount
    for args in [
      ["revoke", k.id, "--tag", "x", "--reason", "r"], ["revoke", "--reason", "r"],
      ["revoke", k.id, "--reason", "r", "--dry-run"], ["revoke", "--tag", "x"],
      ["suspend", "--env", "prod", "--reason", "r"], ["resume", "--company", ""],
    ] {
      let r = s.run(args)
      #expect(r.status == 2, "\(args): \(r.stderr)")
      #expect(r.stderr.hasPrefix("ivkeys: error:"), "\(args)")
    }
    #expect(s.auditCount == before)
    #expect(s.status(of: k.id) == "active")
  }
}
