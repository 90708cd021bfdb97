import Foundation
import Testing

/// One HTTP/1.1 exchange over a plain socket, as a gateway or a client makes it: the tests'
/// own minimal client (the product's HTTP is Hummingbird's), so each test sees the exact status,
/// headers and body, and can bind a source address or send bytes slowly.
struct HTTPReply {
  let status: Int
  /// Header names lowercased; the last value of a repeated header.
  let headers: [String: String]
  let body: String

  func json() throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
  }
}

enum HTTPClientError: Error {
  case connect(Int32)
  case closedEarly(String)
}

enum HTTPClient {
  /// A connected TCP socket to 127.0.0.1:`port`, from `source` when given.
  static func connect(port: Int, source: String? = nil) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HTTPClientError.connect(errno) }
    if let source {
      var local = sockaddr_in()
      local.sin_family = sa_family_t(AF_INET)
      inet_pton(AF_INET, source, &local.sin_addr)
      let bound = withUnsafePointer(to: &local) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
      }
      guard bound == 0 else {
        close(fd)
        throw HTTPClientError.connect(errno)
      }
    }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    let r = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard r == 0 else {
      close(fd)
      throw HTTPClientError.connect(errno)
    }
    // A server that never answers or never closes fails the test (after a minute, generous for
    // a loaded machine) rather than hanging it.
    var timeout = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
  }

  static func send(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)
    var sent = 0
    while sent < bytes.count {
      let n = bytes.withUnsafeMutableBytes {
        Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL))
      }
      if n <= 0 { return }
      sent += n
    }
  }

  /// Everything until the server closes (requests say `Connection: close`).
  static func readAll(_ fd: Int32) -> String {
    var data = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 { break }
      data += buffer[0..<n]
    }
    return String(decoding: data, as: UTF8.self)
  }

  static func request(
    port: Int, _ method: String = "GET", _ path: String = "/verify", headers: [(String, String)] = [],
    body: String? = nil, source: String? = nil
  ) throws -> HTTPReply {
    let fd = try connect(port: port, source: source)
    defer { close(fd) }
    send(fd, requestText(method, path, headers: headers, body: body))
    return try parse(readAll(fd))
  }

  static func requestText(_ method: String, _ path: String, headers: [(String, String)], body: String? = nil) -> String
  {
    var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for (n, v) in headers { text += "\(n): \(v)\r\n" }
    if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
    return text + "\r\n" + (body ?? "")
  }

  static func parse(_ raw: String) throws -> HTTPReply {
    guard let split = raw.range(of: "\r\n\r\n") else { throw HTTPClientError.closedEarly(raw) }
    let head = raw[..<split.lowerBound].components(separatedBy: "\r\n")
    let statusLine = head[0].split(separator: " ")
    guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw HTTPClientError.closedEarly(raw) }
    var headers = [String: String]()
    for line in head.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return HTTPReply(status: status, headers: headers, body: String(raw[split.upperBound...]))
  }
}

/// A running `ivkeys serve` on a free loopback port, stopped (SIGTERM) when done.
final class ServeProcess: @unchecked Sendable {
  let process: Process
  let port: Int
  let errors: URL

  /// Starts `ivkeys serve --listen 127.0.0.1:0 --env live ARGS` and waits for its "listening on"
  /// line (the port the system gave it).
  init(_ s: Sandbox, _ args: [String] = []) throws {
    let (p, _, err) = try s.start(["serve", "--listen", "127.0.0.1:0", "--env", "live"] + args)
    process = p
    errors = err
    var found: Int?
    // Not a speed test: a generous deadline for a loaded machine, only so a broken build ends.
    let deadline = Date().addingTimeInterval(120)
    while found == nil && Date() < deadline && p.isRunning {
      let text = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
      if let r = text.range(of: "listening on 127.0.0.1:") {
        found = Int(text[r.upperBound...].prefix { $0.isNumber })
      } else {
        usleep(20_000)
      }
    }
    guard let found else {
      if p.isRunning { p.terminate() }
      throw HTTPClientError.closedEarly(
        "serve did not start: " + ((try? String(contentsOf: err, encoding: .utf8)) ?? ""))
    }
    port = found
  }

  var stderr: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }

  /// SIGTERM, then the exit status.
  @discardableResult
  func stop() -> Int32 {
    if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    process.waitUntilExit()
    return process.terminationStatus
  }

  deinit {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
  }

  /// A verify request for `key` (nil: no Authorization header).
  func verify(
    _ key: String?, company: String = "acme", scope: String = "jobs:read", extra: [(String, String)] = [],
    source: String? = nil
  ) throws -> HTTPReply {
    var headers = [(String, String)]()
    if let key { headers.append(("Authorization", "Bearer \(key)")) }
    headers += [("X-IVKeys-Company", company), ("X-IVKeys-Scope", scope)] + extra
    return try HTTPClient.request(port: port, headers: headers, source: source)
  }

  /// A metric's value from GET /metrics.
  func metric(_ line: String) throws -> Double? {
    let text = try HTTPClient.request(port: port, "GET", "/metrics").body
    for l in text.split(separator: "\n") where l.hasPrefix(line + " ") {
      return Double(l.dropFirst(line.count + 1))
    }
    return nil
  }
}
