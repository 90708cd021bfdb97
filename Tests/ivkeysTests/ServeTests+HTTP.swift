import Foundation
import Testing

@testable import IVKeysCore

/// The HTTP side's own rules: routes and methods, HEAD, keep-alive and pipelining, and what
/// happens when a committed group cannot be made durable.
extension ServeTests {
  @Test func routesAndMethodsAreAnsweredWithJSONAndHeadHasNoBody() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let server = try ServeProcess(s)
    let missing = try HTTPClient.request(port: server.port, "GET", "/nothing")
    #expect(missing.status == 404)
    #expect(try missing.json()["code"] as? String == "not_found")
    let wrong = try HTTPClient.request(port: server.port, "DELETE", "/verify")
    #expect(wrong.status == 405)
    #expect(try wrong.json()["code"] as? String == "method_not_allowed")
    #expect(try HTTPClient.request(port: server.port, "POST", "/metrics").status == 405)
    let put = try HTTPClient.request(port: server.port, "PUT", "/healthz")
    #expect(put.status == 405)
    #expect((try put.json()["message"] as? String)?.contains("PUT") == true)

    // HEAD under the prefix (Envoy asks with the client's method): decided, headers only.
    let auth = [("Authorization", "Bearer \(k.key)"), ("X-IVKeys-Company", "acme"), ("X-IVKeys-Scope", "jobs:read")]
    let head = try HTTPClient.request(port: server.port, "HEAD", "/verify/v1/jobs", headers: auth)
    #expect(head.status == 200)
    #expect(head.body.isEmpty)
    #expect(Int(head.headers["content-length"] ?? "") ?? 0 > 0, "the length a GET's body has")
    #expect(head.headers["x-ivkeys-key-id"] == k.id)
    // The absolute form of a request target, which an HTTP/1.1 server must accept.
    let absolute = try HTTPClient.request(port: server.port, "GET", "http://127.0.0.1/verify", headers: auth)
    #expect(absolute.status == 200)
    #expect(server.stop() == 0)
    let usage = try #require(try s.run("usage", k.id, "--json").json() as? [String: Any])
    #expect(
      (usage["top_endpoints"] as? [[String: Any]])?.contains { $0["endpoint"] as? String == "HEAD /v1/jobs" } == true)
  }

  @Test func requestsSentTogetherOnOneConnectionAreAnsweredInOrder() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let server = try ServeProcess(s)
    func request(_ key: String, close: Bool) -> String {
      "GET /verify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\n"
        + "X-IVKeys-Company: acme\r\nX-IVKeys-Scope: jobs:read\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n"
    }
    let unknown = "sk_live_" + String(repeating: "A", count: 43)
    let fd = try HTTPClient.connect(port: server.port)
    HTTPClient.send(fd, request(k.key, close: false) + request(unknown, close: false) + request(k.key, close: true))
    let raw = HTTPClient.readAll(fd)
    close(fd)
    // Each answer's status line follows the last one's body (no line break after JSON).
    let statuses = raw.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
    #expect(statuses == ["200", "401", "200"], "\(raw)")

    // A client that shuts its side after its request still gets the answer.
    let half = try HTTPClient.connect(port: server.port)
    HTTPClient.send(half, request(k.key, close: false))
    shutdown(half, Int32(SHUT_WR))
    let halfReply = try HTTPClient.parse(HTTPClient.readAll(half))
    close(half)
    #expect(halfReply.status == 200)

    // HTTP/1.0 without keep-alive: one answer, then the server closes.
    let old = try HTTPClient.connect(port: server.port)
    HTTPClient.send(old, request(k.key, close: false).replacingOccurrences(of: "HTTP/1.1", with: "HTTP/1.0"))
    let reply = try HTTPClient.parse(HTTPClient.readAll(old))
    close(old)
    #expect(reply.status == 200)
    #expect(reply.headers["connection"] == "close")
    #expect(server.stop() == 0)
  }

  @Test func aGroupThatCannotBeSyncedIs503AndSoIsEverythingAfter() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    s.environment["IVKEYS_TEST_FAIL_SYNC"] = "1"
    let server = try ServeProcess(s)
    let r = try server.verify(k.key)
    #expect(r.status == 503)
    #expect(try r.json()["code"] as? String == "unavailable")
    #expect(try server.verify(k.key).status == 503, "a later request is not vouched for either")
    #expect(try HTTPClient.request(port: server.port, "GET", "/healthz").status == 503)
    #expect(server.stderr.contains("cannot sync the vault"))
    #expect(server.stop() != 0, "the exit status reports it")
    #expect(!server.stderr.contains(k.key))
  }

  @Test(.enabled(if: !Engine.isSQLite, "the sync connection is PostgreSQL's"))
  func aLostSyncConnectionFailsOnlyTheGroupsItWasToConfirm() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let server = try ServeProcess(s)
    #expect(try server.verify(k.key).status == 200)
    let admin = try s.server()
    // This sandbox's database only: other tests' servers share the PostgreSQL server.
    let mine = "application_name = 'ivkeys-sync' AND datname = current_database()"
    let killed = try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE \(mine)")
    #expect(killed.count == 1, "serve confirms commits on a connection of its own")
    // Gone before the next request (the server ends it asynchronously); a generous deadline
    // only so that a broken server ends the test.
    let watcher = try s.server()
    let deadline = Date().addingTimeInterval(60)
    while try watcher.query("SELECT 1 FROM pg_stat_activity WHERE \(mine)").count > 0 && Date() < deadline {
      usleep(10_000)
    }
    let lost = try server.verify(k.key)
    #expect(lost.status == 503, "its commit could not be confirmed")
    #expect(try lost.json()["code"] as? String == "unavailable")
    #expect(try server.verify(k.key).status == 200, "the next sync connects again")
    #expect(try HTTPClient.request(port: server.port, "GET", "/healthz").status == 200)
    #expect(server.stderr.contains("cannot confirm that the decisions committed are on disk"))
    #expect(server.stop() == 0)
    #expect(s.run("audit", "verify").status == 0)
  }

  @Test(.enabled(if: Engine.isSQLite, "a WAL is SQLite's"))
  func theWALIsCopiedIntoTheVaultAndTruncatedWhenServeStops() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let before = s.auditCount
    let server = try ServeProcess(s)
    let clients = 8
    let each = 100
    DispatchQueue.concurrentPerform(iterations: clients) { _ in
      for _ in 0..<each { _ = try? server.verify(k.key) }
    }
    #expect(server.stop() == 0)
    var st = stat()
    // As a command leaves it: truncated once it passes 512 KiB.
    #expect(stat(s.vault + "-wal", &st) != 0 || st.st_size <= 512 << 10, "\(st.st_size) bytes left in the WAL")
    #expect(s.auditCount == before + Int64(clients * each))
    #expect(s.run("audit", "verify").status == 0)
  }

  /// A body sent a byte every 2 s is never idle for 10 s, nor ever whole (1,000 bytes would take
  /// half an hour): the server answers 408 within 30 s and closes its side, then the connection,
  /// and a SIGTERM meanwhile does not wait for the client.
  @Test func aRequestTrickledByteByByteGets408AndDoesNotHoldAGracefulStop() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let server = try ServeProcess(s)
    let slow = try HTTPClient.connect(port: server.port)
    defer { close(slow) }
    HTTPClient.send(
      slow,
      "POST /verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(k.key)\r\nContent-Length: 1000\r\n\r\n")
    let stop = DispatchSemaphore(value: 0)
    let stopped = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
      // Until the server closes (send fails), the test says stop, or 999 bytes.
      for _ in 0..<999 {
        if Glibc.send(slow, "x", 1, Int32(MSG_NOSIGNAL)) <= 0 { break }
        if stop.wait(timeout: .now() + 2) == .success { break }
      }
      stopped.signal()
    }
    // Time for the server to read the request's head (a stop before that closes the connection at
    // once, which is not what this test looks at), well inside the 20 s before a 408.
    sleep(3)
    kill(server.process.processIdentifier, SIGTERM)
    // The socket's receive timeout (60 s) ends the read if the server never answers.
    let reply = HTTPClient.readAll(slow)
    #expect(reply.hasPrefix("HTTP/1.1 408"), "\(reply)")
    #expect(reply.contains("request_timeout"))
    // Not a speed test: a deadline far past the server's 30 s, only so a broken build ends.
    let deadline = Date().addingTimeInterval(90)
    while server.process.isRunning && Date() < deadline { usleep(50_000) }
    // The sender is done with the descriptor before it is closed (and its number reused).
    stop.signal()
    stopped.wait()
    #expect(!server.process.isRunning, "the trickling client held the graceful stop")
    if server.process.isRunning {
      kill(server.process.processIdentifier, SIGKILL)
      server.process.waitUntilExit()
    } else {
      #expect(server.process.terminationStatus == 0)
    }
  }
}
