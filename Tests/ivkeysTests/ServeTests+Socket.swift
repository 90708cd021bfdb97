import Foundation
import Testing

@testable import IVKeysCore

extension ServeTests {
  @Test func aUnixSocketServesAndIsNeverTakenOver() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let path = s.dir.path + "/serve.sock"
    // A path that exists (here a plain file) is refused, and left as it was.
    FileManager.default.createFile(atPath: path, contents: Data("keep".utf8))
    let taken = s.run(["serve", "--socket", path, "--env", "live"])
    #expect(taken.status == 2 && taken.stderr.contains("exists"))
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep")
    try FileManager.default.removeItem(atPath: path)

    let (p, _, err) = try s.start(["serve", "--socket", path, "--env", "live"])
    let deadline = Date().addingTimeInterval(120)
    while p.isRunning && Date() < deadline
      && !((try? String(contentsOf: err, encoding: .utf8)) ?? "").contains("listening on \(path)")
    {
      usleep(20_000)
    }
    var st = stat()
    #expect(lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK)
    #expect(st.st_mode & 0o777 == 0o660)
    // curl-free: a Unix-socket client, as a local gateway connects.
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
      for (i, b) in path.utf8.enumerated() { raw[i] = b }
    }
    let connected = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    #expect(connected == 0)
    HTTPClient.send(
      fd,
      HTTPClient.requestText(
        "GET", "/verify",
        headers: [("Authorization", "Bearer \(k.key)"), ("X-IVKeys-Company", "acme"), ("X-IVKeys-Scope", "jobs:read")]))
    let reply = try HTTPClient.parse(HTTPClient.readAll(fd))
    close(fd)
    #expect(reply.status == 200)
    kill(p.processIdentifier, SIGTERM)
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    #expect(lstat(path, &st) != 0, "the socket is removed at exit")
  }
}

extension ServeTests {
  @Test func aKeyRevokedElsewhereIsRefusedEvenAfterAHealthCheck() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--max-requests", "5"])
    let server = try ServeProcess(s)
    defer { server.stop() }
    #expect(try server.verify(k.key).status == 200)
    // Another process changes the key and its budget; the server's own health check writes
    // (and rolls back) before the next decision: its caches must still be dropped.
    #expect(s.run("update", k.id, "--max-requests", "1").status == 0)
    #expect(try HTTPClient.request(port: server.port, "GET", "/healthz").status == 200)
    let first = try server.verify(k.key)
    #expect(first.status == 200)
    #expect(try first.json()["remaining"] as? Int == 0, "the new budget, not the cached one")
    #expect(s.run("revoke", k.id, "--reason", "test").status == 0)
    #expect(try HTTPClient.request(port: server.port, "GET", "/healthz").status == 200)
    #expect(try server.verify(k.key).status == 401)
  }
}
