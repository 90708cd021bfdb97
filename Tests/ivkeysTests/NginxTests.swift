import Foundation
import Testing

@testable import IVKeysCore

/// A real nginx (Debian's package) in front of a small upstream, asking `ivkeys serve` through
/// `auth_request` with docs/gateways/nginx.conf as it is: only its three addresses are replaced
/// by free loopback ports. Started on loopback, stopped after, also when a test fails.
final class NginxProcess: @unchecked Sendable {
  static let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
  let dir: URL
  let port: Int
  let process: Process

  init(_ s: Sandbox, servePort: Int) throws {
    let nginx = try #require(Self.binary, "nginx is installed by 'make test' (Debian's nginx)")
    dir = s.dir.appendingPathComponent("nginx")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    port = try Self.freePort()
    let upstream = try Self.freePort()
    let docs = try String(contentsOfFile: DocsTests.root.path + "/docs/gateways/nginx.conf", encoding: .utf8)
    let site =
      docs
      .replacingOccurrences(of: "server 127.0.0.1:8181;", with: "server 127.0.0.1:\(servePort);")
      .replacingOccurrences(of: "listen 127.0.0.1:8080;", with: "listen 127.0.0.1:\(port);")
      .replacingOccurrences(of: "proxy_pass http://127.0.0.1:9000;", with: "proxy_pass http://127.0.0.1:\(upstream);")
    try site.write(to: dir.appendingPathComponent("ivkeys.conf"), atomically: true, encoding: .utf8)
    let d = dir.path
    let main = """
      \(getuid() == 0 ? "user root;" : "")
      daemon off;
      worker_processes 1;
      pid \(d)/nginx.pid;
      error_log \(d)/error.log warn;
      events { worker_connections 256; }
      http {
        access_log off;
        client_body_temp_path \(d)/body;
        proxy_temp_path \(d)/proxy;
        fastcgi_temp_path \(d)/fastcgi;
        uwsgi_temp_path \(d)/uwsgi;
        scgi_temp_path \(d)/scgi;
        include \(d)/ivkeys.conf;
        # The API: says which key ivkeys let through.
        server {
          listen 127.0.0.1:\(upstream);
          location / { default_type text/plain; return 200 "upstream saw key $http_x_ivkeys_key_id\\n"; }
        }
      }
      """
    try main.write(to: dir.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
    process = Process()
    process.executableURL = URL(fileURLWithPath: nginx)
    process.arguments = ["-p", d, "-c", d + "/nginx.conf", "-e", d + "/error.log"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    // Ready when it accepts a connection; a generous deadline only so a broken setup ends.
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
      if let fd = try? HTTPClient.connect(port: port) {
        close(fd)
        return
      }
      guard process.isRunning else { break }
      usleep(20_000)
    }
    throw HTTPClientError.closedEarly("nginx did not start: \(errorLog)")
  }

  var errorLog: String { (try? String(contentsOf: dir.appendingPathComponent("error.log"), encoding: .utf8)) ?? "" }

  deinit {
    guard process.isRunning else { return }
    // SIGTERM: the master stops its worker and exits; SIGKILL only if it has not after 30 s.
    kill(process.processIdentifier, SIGTERM)
    let deadline = Date().addingTimeInterval(30)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
  }

  /// A loopback TCP port nothing listens on now.
  static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard ok else { throw HTTPClientError.connect(errno) }
    return Int(UInt16(bigEndian: addr.sin_port))
  }

  /// A client's request through nginx, from `source`.
  func get(_ path: String, key: String?, company: String = "acme", source: String = "127.0.0.1") throws -> HTTPReply {
    var headers = [("X-IVKeys-Company", company)]
    if let key { headers.append(("Authorization", "Bearer \(key)")) }
    return try HTTPClient.request(port: port, "GET", path, headers: headers, source: source)
  }
}

@Suite("serve behind nginx", .serialized)
struct NginxTests {
  @Test func nginxAuthRequestGetsEveryAnswer() throws {
    let s = try Sandbox()
    let reader = try s.createKey(["--rate-limit", "2/h"])
    let writerOnly = try s.createKey(scope: "jobs:write")
    let spent = try s.createKey(["--max-requests", "1"])
    let server = try ServeProcess(s, ["--trusted-proxy", "127.0.0.1"])
    defer { server.stop() }
    let nginx = try NginxProcess(s, servePort: server.port)

    let ok = try nginx.get("/v1/jobs?page=1", key: reader.key)
    #expect(ok.status == 200, "\(nginx.errorLog)")
    #expect(ok.body == "upstream saw key \(reader.id)\n")
    #expect(ok.headers["ratelimit-limit"] == "2" && ok.headers["ratelimit-remaining"] == "1")

    let none = try nginx.get("/v1/jobs", key: nil)
    #expect(none.status == 401)
    #expect(none.body.contains("malformed_key"))
    #expect(try nginx.get("/v1/jobs", key: String(reader.key.dropLast(6)) + "AAAAAA").status == 401)
    #expect(try nginx.get("/v1/jobs", key: writerOnly.key).status == 403)
    // The scope is the route's: a client that names one is not believed.
    let claimed = try HTTPClient.request(
      port: nginx.port, "GET", "/v1/jobs",
      headers: [
        ("Authorization", "Bearer \(writerOnly.key)"), ("X-IVKeys-Company", "acme"), ("X-IVKeys-Scope", "jobs:write"),
      ])
    #expect(claimed.status == 403)
    #expect(try nginx.get("/v1/jobs", key: reader.key, company: "globex").status == 403)

    #expect(try nginx.get("/v1/jobs", key: reader.key).status == 200)
    let limited = try nginx.get("/v1/jobs", key: reader.key)
    #expect(limited.status == 429)
    #expect(limited.body.contains("rate_limited"))
    #expect(Int(limited.headers["retry-after"] ?? "") ?? 0 >= 1)

    #expect(try nginx.get("/v1/jobs", key: spent.key).status == 200)
    let exhausted = try nginx.get("/v1/jobs", key: spent.key)
    #expect(exhausted.status == 429 && exhausted.body.contains("usage_exhausted"))

    // The endpoint reached ivkeys through X-Original-*, without its query string.
    server.stop()
    let usage = try #require(try s.run("usage", reader.id, "--json").json() as? [String: Any])
    let endpoints = try #require(usage["top_endpoints"] as? [[String: Any]])
    #expect(endpoints.first?["endpoint"] as? String == "GET /v1/jobs")
  }

  @Test func theClientAddressArrivesThroughXRealIPFromTheTrustedProxyOnly() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--allow-ip", "127.0.0.7"])
    let server = try ServeProcess(s, ["--trusted-proxy", "127.0.0.1"])
    defer { server.stop() }
    let nginx = try NginxProcess(s, servePort: server.port)
    #expect(try nginx.get("/v1/jobs", key: k.key, source: "127.0.0.7").status == 200)
    // A client's own X-Real-IP through nginx is replaced by the address nginx saw.
    let forged = try HTTPClient.request(
      port: nginx.port, "GET", "/v1/jobs",
      headers: [("Authorization", "Bearer \(k.key)"), ("X-IVKeys-Company", "acme"), ("X-Real-IP", "127.0.0.7")],
      source: "127.0.0.8")
    #expect(forged.status == 403)
    let other = try nginx.get("/v1/jobs", key: k.key, source: "127.0.0.8")
    #expect(other.status == 403)
    // A client that reaches ivkeys itself, not from the trusted proxy, cannot name an address.
    let direct = try server.verify(k.key, extra: [("X-Real-IP", "127.0.0.7")], source: "127.0.0.9")
    #expect(direct.status == 403)
    #expect((try direct.json()["message"] as? String)?.contains("127.0.0.9") == true)
  }

  @Test(.enabled(if: Engine.isSQLite, "a trigger stands in for an unwritable file (root ignores file modes)"))
  func anUnwritableVaultIs503ThroughNginx() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let server = try ServeProcess(s, ["--trusted-proxy", "127.0.0.1"])
    defer { server.stop() }
    let nginx = try NginxProcess(s, servePort: server.port)
    #expect(try nginx.get("/v1/jobs", key: k.key).status == 200)
    try s.database().execute(
      "CREATE TRIGGER fail_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END;")
    let r = try nginx.get("/v1/jobs", key: k.key)
    #expect(r.status == 503)
    #expect(!r.body.contains("upstream"), "the API never sees the request")
    server.stop()
    let down = try nginx.get("/v1/jobs", key: k.key)
    #expect(down.status == 503, "ivkeys unreachable: fail closed")
  }
}
