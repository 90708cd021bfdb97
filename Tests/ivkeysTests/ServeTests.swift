import Foundation
import Testing

@testable import IVKeysCore

/// `ivkeys serve`: the same decisions as `verify`, over HTTP, on a free loopback port.
@Suite("serve", .serialized)
struct ServeTests {
  @Test func answersEachDecisionWithItsStatusHeadersAndJSON() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--rate-limit", "2/h"])
    let server = try ServeProcess(s)
    defer { server.stop() }

    let ok = try server.verify(k.key, extra: [("X-Original-Method", "GET"), ("X-Original-URI", "/v1/jobs?page=2")])
    #expect(ok.status == 200)
    let d = try ok.json()
    #expect(d["allowed"] as? Bool == true && d["code"] as? String == "ok" && d["key_id"] as? String == k.id)
    let limit = try #require(d["rate_limit"] as? [String: Any])
    #expect(limit["limit"] as? Int == 2 && limit["remaining"] as? Int == 1)
    #expect(ok.headers["ratelimit-limit"] == "2" && ok.headers["ratelimit-remaining"] == "1")
    #expect(Int(ok.headers["ratelimit-reset"] ?? "") ?? 0 > 3500, "the request leaves the hour's window an hour on")
    #expect(ok.headers["content-type"] == "application/json")
    #expect(ok.headers["x-ivkeys-key-id"] == k.id)

    #expect(try server.verify(k.key, scope: "jobs:write").status == 403)
    #expect(try server.verify(k.key, company: "globex").status == 403)
    #expect(try server.verify(k.key).status == 200)
    let limited = try server.verify(k.key)
    #expect(limited.status == 429)
    #expect(try limited.json()["code"] as? String == "rate_limited")
    #expect(limited.headers["retry-after"] == limited.headers["ratelimit-reset"])
    #expect(limited.headers["ratelimit-remaining"] == "0")

    // The same answer `verify` gives for the same request, field for field.
    let cli = s.run(["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read", "--json"], stdin: k.key)
    #expect(cli.status == 12)
    let cliDecision = try #require(try cli.json() as? [String: Any])
    let httpDecision = try server.verify(k.key).json()
    #expect(Set(cliDecision.keys) == Set(httpDecision.keys))
    #expect(cliDecision["code"] as? String == httpDecision["code"] as? String)

    let unknown = try server.verify(String(k.key.dropLast(8)) + "AAAAAAAA")
    #expect(unknown.status == 401)
    let missing = try server.verify(nil)
    #expect(missing.status == 401)
    #expect(try missing.json()["code"] as? String == "malformed_key")
    #expect(missing.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
    let basic = try HTTPClient.request(
      port: server.port,
      headers: [("Authorization", "Basic YTpi"), ("X-IVKeys-Company", "acme"), ("X-IVKeys-Scope", "jobs:read")])
    #expect(basic.status == 401)

    // The endpoint is counted without its query string (usage counts are written within five
    // seconds, and at the latest when the server stops).
    #expect(server.stop() == 0)
    let usage = try #require(try s.run("usage", k.id, "--json").json() as? [String: Any])
    let endpoints = try #require(usage["top_endpoints"] as? [[String: Any]])
    #expect(endpoints.first?["endpoint"] as? String == "GET /v1/jobs")
    #expect(s.run("audit", "verify").status == 0)
  }

  @Test func envoysPrefixedPathGivesTheEndpoint() throws {
    let s = try Sandbox()
    let k = try s.createKey(scope: "jobs:write")
    let server = try ServeProcess(s)
    let r = try HTTPClient.request(
      port: server.port, "PUT", "/verify/v1/jobs/42?draft=1",
      headers: [("Authorization", "Bearer \(k.key)"), ("X-IVKeys-Company", "acme"), ("X-IVKeys-Scope", "jobs:write")])
    #expect(r.status == 200)
    #expect(try HTTPClient.request(port: server.port, "GET", "/nothing").status == 404)
    #expect(server.stop() == 0)
    let usage = try #require(try s.run("usage", k.id, "--json").json() as? [String: Any])
    #expect((usage["top_endpoints"] as? [[String: Any]])?.first?["endpoint"] as? String == "PUT /v1/jobs/42")
  }

  @Test func aRequestThatIsNotOneIs400WithAReason() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let server = try ServeProcess(s, ["--trusted-proxy", "127.0.0.1"])
    defer { server.stop() }
    let auth = ("Authorization", "Bearer \(k.key)")
    let cases: [([(String, String)], String)] = [
      ([auth, ("X-IVKeys-Scope", "jobs:read")], "X-IVKeys-Company"),
      ([auth, ("X-IVKeys-Company", "acme")], "X-IVKeys-Scope"),
      ([auth, ("X-IVKeys-Company", "acme"), ("X-IVKeys-Scope", "no:such")], "scope"),
      ([auth, ("X-IVKeys-Company", "Not A Company!"), ("X-IVKeys-Scope", "jobs:read")], "company"),
      ([auth, ("X-IVKeys-Company", "acme"), ("X-IVKeys-Scope", "jobs:read"), ("X-Real-IP", "300.1.2.3")], "X-Real-IP"),
      ([auth, auth, ("X-IVKeys-Company", "acme"), ("X-IVKeys-Scope", "jobs:read")], "Authorization"),
    ]
    for (headers, word) in cases {
      let r = try HTTPClient.request(port: server.port, headers: headers)
      #expect(r.status == 400, "\(word)")
      let d = try r.json()
      #expect(d["code"] as? String == "bad_request")
      #expect((d["message"] as? String)?.contains(word) == true, "\(d)")
      #expect(!r.body.contains(k.key))
    }
    // A body larger than the limit is refused before anything is decided.
    let big = try HTTPClient.request(
      port: server.port, "POST", headers: [auth, ("X-IVKeys-Company", "acme"), ("X-IVKeys-Scope", "jobs:read")],
      body: String(repeating: "x", count: 100_000))
    #expect(big.status == 413)
    // Headers beyond the limit: never answered as a decision.
    let fat = try? HTTPClient.request(
      port: server.port,
      headers: [auth, ("X-IVKeys-Company", "acme"), ("X-IVKeys-Scope", "jobs:read")]
        + (0..<40).map { ("X-Pad-\($0)", String(repeating: "p", count: 1000)) })
    #expect(fat == nil || fat!.status >= 400, "\(String(describing: fat?.status))")
    #expect(!server.stderr.contains(k.key))
  }

  @Test func theClientAddressComesFromForwardingHeadersOnlyFromATrustedProxy() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--allow-ip", "203.0.113.9"])
    let real = [("X-Real-IP", "203.0.113.9")]
    let forwarded = [("X-Forwarded-For", "198.51.100.1, 203.0.113.9, 127.0.0.1")]
    let trusting = try ServeProcess(s, ["--trusted-proxy", "127.0.0.0/8"])
    #expect(try trusting.verify(k.key, extra: real).status == 200)
    #expect(try trusting.verify(k.key, extra: forwarded).status == 200, "the last entry that is not a trusted proxy")
    let unnamed = try trusting.verify(k.key)
    #expect(unnamed.status == 403, "a trusted proxy that names no client is not the client")
    #expect((try unnamed.json()["message"] as? String)?.contains("no client address") == true)
    trusting.stop()
    let untrusting = try ServeProcess(s, ["--trusted-proxy", "10.0.0.0/8"])
    defer { untrusting.stop() }
    let spoofed = try untrusting.verify(k.key, extra: real)
    #expect(spoofed.status == 403)
    #expect((try spoofed.json()["message"] as? String)?.contains("127.0.0.1") == true, "the peer's own address")
    #expect(try untrusting.verify(k.key, extra: forwarded).status == 403)
  }

  @Test func concurrentRequestsShareCommitsAndEveryDecisionIsRecorded() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let before = s.auditCount
    let server = try ServeProcess(s)
    let clients = 8
    let each = 25
    let codes = Locked([Int]())
    DispatchQueue.concurrentPerform(iterations: clients) { _ in
      for _ in 0..<each {
        let status = (try? server.verify(k.key).status) ?? -1
        codes.mutate { $0.append(status) }
      }
    }
    #expect(codes.value.count == clients * each)
    #expect(codes.value.allSatisfy { $0 == 200 })
    #expect(try server.metric("ivkeys_decisions_total{code=\"ok\"}") == Double(clients * each))
    #expect(try server.metric("ivkeys_decision_duration_seconds_count") == Double(clients * each))
    #expect(server.stop() == 0, "SIGTERM ends it with status 0")
    #expect(s.auditCount == before + Int64(clients * each))
    let usage = try #require(try s.run("usage", k.id, "--json").json() as? [String: Any])
    #expect(usage["request_count"] as? Int == clients * each, "held usage counts are written at SIGTERM")
    #expect(s.run("audit", "verify").status == 0)
  }

  @Test func aUsageLimitedKeyIsNeverOverspentByConcurrentClients() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--max-requests", "20"])
    let server = try ServeProcess(s)
    defer { server.stop() }
    let codes = Locked([String]())
    DispatchQueue.concurrentPerform(iterations: 8) { _ in
      for _ in 0..<5 {
        let code = (try? server.verify(k.key).json()["code"] as? String) ?? "error"
        codes.mutate { $0.append(code ?? "none") }
      }
    }
    #expect(codes.value.filter { $0 == "ok" }.count == 20)
    #expect(codes.value.filter { $0 == "usage_exhausted" }.count == 20)
    let spent = try server.verify(k.key)
    #expect(spent.status == 429)
    #expect(try spent.json()["remaining"] as? Int == 0)
    let show = try #require(try s.run("show", k.id, "--json").json() as? [String: Any])
    #expect(show["remaining"] as? Int == 0 && show["max_requests"] as? Int == 20)
  }

  @Test func separateVerifyProcessesNeverOverspendABudgetEither() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--max-requests", "10"])
    var running = [(Process, URL, URL)]()
    for _ in 0..<16 {
      running.append(
        try s.start(["verify", "-q", "--env", "live", "--company", "acme", "--scope", "jobs:read"], stdin: k.key))
    }
    var codes = [String]()
    for (p, out, _) in running {
      p.waitUntilExit()
      codes.append(
        ((try? String(contentsOf: out, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
    }
    #expect(codes.filter { $0 == "ok" }.count == 10)
    #expect(codes.filter { $0 == "usage_exhausted" }.count == 6)
    #expect(s.run("update", k.id, "--max-requests", "3", "--refill", "1/d").status == 0)
    let r = s.run(["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read", "--json"], stdin: k.key)
    #expect(r.status == 0, "a budget set anew starts whole")
    #expect((try r.json() as? [String: Any])?["remaining"] as? Int == 2)
  }

  @Test func noMoreThanNPassInAnyWindowAcrossBoundaries() throws {
    let s = try Sandbox()
    let n = 5
    let k = try s.createKey(["--rate-limit", "\(n)/s"])
    let server = try ServeProcess(s)
    defer { server.stop() }
    // (sent, answered) of each allowed request, in seconds of one clock. The server decided each
    // between the two, so two allowed requests answered within one second of each other's send
    // were decided within one second: no more than N such may ever pass.
    let allowed = Locked([(Double, Double)]())
    let stopAt = Date().addingTimeInterval(2.5)
    DispatchQueue.concurrentPerform(iterations: 4) { _ in
      while Date() < stopAt {
        let sent = Date().timeIntervalSince1970
        guard let r = try? server.verify(k.key) else { continue }
        let answered = Date().timeIntervalSince1970
        if r.status == 200 { allowed.mutate { $0.append((sent, answered)) } }
      }
    }
    let times = allowed.value.sorted { $0.0 < $1.0 }
    #expect(times.count >= n)
    for (sent, _) in times {
      let within = times.filter { $0.0 >= sent && $0.1 < sent + 1.0 }.count
      #expect(within <= n, "\(within) requests passed within one second")
    }
  }

  @Test(.enabled(if: Engine.isSQLite, "holds SQLite's write lock from the test"))
  func aVaultThatCannotBeWrittenIs503AndUnhealthyUntilItCanAgain() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let server = try ServeProcess(s)
    defer { server.stop() }
    #expect(try HTTPClient.request(port: server.port, "GET", "/healthz").status == 200)
    // Another writer holds the vault past the 10 s a writer waits: no decision can be recorded.
    let db = try s.database()
    try db.execute("BEGIN IMMEDIATE")
    let r = try server.verify(k.key)
    #expect(r.status == 503)
    #expect(try r.json()["code"] as? String == "unavailable")
    #expect(r.headers["retry-after"] == "1")
    #expect(!r.body.contains(k.key) && !server.stderr.contains(k.key))
    #expect(try HTTPClient.request(port: server.port, "GET", "/healthz").status == 503)
    try db.execute("ROLLBACK")
    #expect(try server.verify(k.key).status == 200, "the next request is decided again")
    #expect(try HTTPClient.request(port: server.port, "GET", "/healthz").status == 200)
    #expect(s.run("audit", "verify").status == 0)
  }

  @Test(.enabled(if: Engine.isSQLite, "a trigger stands in for an unwritable file (root ignores file modes)"))
  func aVaultChangedOutsideIvkeysIs503AndUnhealthy() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let server = try ServeProcess(s)
    defer { server.stop() }
    #expect(try HTTPClient.request(port: server.port, "GET", "/healthz").status == 200)
    try s.database().execute(
      "CREATE TRIGGER fail_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END;")
    let r = try server.verify(k.key)
    #expect(r.status == 503)
    #expect(try r.json()["allowed"] as? Bool == false)
    #expect(try HTTPClient.request(port: server.port, "GET", "/healthz").status == 503)
    #expect(try server.metric("ivkeys_decisions_total{code=\"unavailable\"}") == 1)
    try s.database().execute("DROP TRIGGER fail_audit")
  }

  @Test(.enabled(if: Engine.isSQLite, "holds SQLite's write lock from the test"))
  func sigtermAnswersTheRequestsInFlight() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let server = try ServeProcess(s)
    // Hold the vault's write lock, so the requests wait inside the server.
    let db = try s.database()
    try db.execute("BEGIN IMMEDIATE")
    let fds = try (0..<4).map { _ in try HTTPClient.connect(port: server.port) }
    for fd in fds {
      HTTPClient.send(
        fd,
        HTTPClient.requestText(
          "GET", "/verify",
          headers: [
            ("Authorization", "Bearer \(k.key)"), ("X-IVKeys-Company", "acme"), ("X-IVKeys-Scope", "jobs:read"),
          ]))
    }
    let deadline = Date().addingTimeInterval(60)
    while (try server.metric("ivkeys_requests_in_flight") ?? 0) < 4 && Date() < deadline { usleep(20_000) }
    kill(server.process.processIdentifier, SIGTERM)
    usleep(100_000)
    try db.execute("ROLLBACK")
    for fd in fds {
      let reply = try HTTPClient.parse(HTTPClient.readAll(fd))
      close(fd)
      #expect([200, 503].contains(reply.status), "every request in flight is answered")
    }
    server.process.waitUntilExit()
    #expect(server.process.terminationStatus == 0)
    #expect(server.stderr.contains("stopped"))
  }

  @Test func aSlowClientHoldsNeitherTheVaultNorOtherRequests() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let server = try ServeProcess(s)
    defer { server.stop() }
    let slow = try HTTPClient.connect(port: server.port)
    defer { close(slow) }
    HTTPClient.send(slow, "GET /verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(k.key)\r\n")
    #expect(try server.verify(k.key).status == 200, "answered while a request is half sent")
    // The half-sent request is closed after the idle limit (10 s), unanswered; a receive
    // timeout makes a server that never closes it fail the test rather than hang it.
    var limit = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(slow, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    let started = Date()
    let rest = HTTPClient.readAll(slow)
    #expect(Date().timeIntervalSince(started) < 59, "the server closed the idle connection")
    #expect(rest.isEmpty || rest.hasPrefix("HTTP/1.1 408"), "\(rest)")
  }

  @Test func aFloodOfUnknownKeysDoesNotGrowMemory() throws {
    let s = try Sandbox()
    let server = try ServeProcess(s)
    defer { server.stop() }
    func flood(_ count: Int) {
      DispatchQueue.concurrentPerform(iterations: 4) { worker in
        for i in 0..<(count / 4) {
          // Well-formed keys with valid checksums that the vault does not hold: each one is
          // looked up (and recorded), never cached.
          _ = (worker, i)
          guard let forged = try? APIKey.generate(env: .live).string else { continue }
          _ = try? server.verify(forged)
        }
      }
    }
    flood(2000)
    let warm = Self.residentKiB(server.process.processIdentifier)
    flood(8000)
    let after = Self.residentKiB(server.process.processIdentifier)
    #expect(after - warm < 32 * 1024, "resident memory grew by \(after - warm) KiB over 8,000 unknown keys")
    #expect(try server.metric("ivkeys_decisions_total{code=\"unknown_key\"}") == 10_000)
  }

  static func residentKiB(_ pid: Int32) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
      return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
    return 0
  }

  @Test func serveRefusesBadOptionsWithUsageErrors() throws {
    let s = try Sandbox()
    for (args, message) in [
      (["serve", "--env", "live"], "--listen"),
      (["serve", "--listen", "127.0.0.1", "--env", "live"], "ADDR:PORT"),
      (["serve", "--listen", "127.0.0.1:70000", "--env", "live"], "port"),
      (["serve", "--listen", "127.0.0.1:0"], "--env"),
      (["serve", "--listen", "127.0.0.1:0", "--socket", "/tmp/x", "--env", "live"], "together"),
      (["serve", "--listen", "127.0.0.1:0", "--env", "live", "--trusted-proxy", "nope"], "--trusted-proxy"),
    ] {
      let r = s.run(args)
      #expect(r.status == 2, "\(args)")
      #expect(r.stderr.hasPrefix("ivkeys: error: ") && r.stderr.contains(message), "\(r.stderr)")
    }
  }
}

/// A value shared by test threads.
final class Locked<T>: @unchecked Sendable {
  private var stored: T
  private let lock = NSLock()
  init(_ value: T) { stored = value }
  var value: T { lock.withLock { stored } }
  func mutate(_ body: (inout T) -> Void) { lock.withLock { body(&stored) } }
}
