import Glibc
import IVKeysCore

/// One HTTP request as `serve` reads it: the method, the headers (names lowercased, in order,
/// repeated names kept) and who connected.
public struct ServeRequest: Sendable {
  public enum Peer: Sendable {
    case ip(IPAddress)
    /// A Unix socket: only processes the socket's file mode admits can connect; a trusted proxy.
    case unix
    case unknown
  }
  public var method: String
  /// The request's path, without its query string.
  public var path: String
  public var headers: [(name: String, value: String)]
  public var peer: Peer

  public init(method: String = "GET", path: String = "/verify", headers: [(name: String, value: String)], peer: Peer) {
    self.method = method
    self.path = path
    self.headers = headers
    self.peer = peer
  }

  func values(_ name: String) -> [String] { headers.filter { $0.name == name }.map(\.value) }
}

/// An answer: status, headers and a JSON body.
public struct ServeResponse: Sendable {
  public var status: Int
  public var headers: [(name: String, value: String)]
  public var body: String
}

/// `serve` without HTTP: turns requests into decisions through the same code as `verify`
/// (`Verifier`, the batch line's checks) and decisions into answers. The HTTP binding
/// (`ivkeys-serve`) calls it from any thread.
public final class ServeEngine: @unchecked Sendable {
  let options: ServeOptions
  let catalog: Set<String>
  private let decider: Decider
  private let metrics = ServeMetrics()

  /// `failSyncs`: a test's fault (`FaultInjection.failsSyncs`).
  init(vault: Vault, options: ServeOptions, failSyncs: Bool = false) throws(IVKeysError) {
    self.options = options
    self.catalog = Set(try vault.scopeCatalog().filter { !$0.damaged }.map(\.name))
    self.decider = try Decider(vault: vault)
    try decider.start(failSyncs: failSyncs)
  }

  /// Answers queued requests, writes held usage counts and stops the vault's thread.
  func stop() throws(IVKeysError) { try decider.stop() }

  /// Writes one line to standard error, `ivkeys: ` first.
  public func log(_ line: String) { Decider.log(line) }

  /// `GET|POST /verify`: `answer` is called, on the vault's thread, once the decision is
  /// recorded.
  public func verify(_ request: ServeRequest, then answer: @escaping @Sendable (ServeResponse) -> Void) {
    let started = Verifier.monotonicNanoseconds()
    metrics.track(1)
    decider.decide(item(request)) { [metrics] result in
      let response: ServeResponse
      let code: String
      switch result {
      case .success(let d):
        response = Self.answer(d)
        code = d.code.rawValue
      case .failure(let e):
        Decider.log("failing closed: \(e.description)")
        response = Self.unavailable("the decision could not be recorded; failing closed")
        code = "unavailable"
      }
      metrics.record(code, seconds: Double(Verifier.monotonicNanoseconds() - started) / 1e9)
      metrics.track(-1)
      answer(response)
    }
  }

  /// `GET /healthz`: 200 when the vault can be read and written, else 503.
  public func health(then answer: @escaping @Sendable (ServeResponse) -> Void) {
    decider.probe { result in
      switch result {
      case .success:
        answer(ServeResponse(status: 200, headers: Self.jsonHeaders, body: #"{"status":"ok"}"#))
      case .failure(let e):
        Decider.log("health check failed: \(e.description)")
        answer(Self.unavailable("the vault cannot be read and written"))
      }
    }
  }

  /// `GET /metrics`.
  public func metricsText() -> ServeResponse {
    ServeResponse(
      status: 200, headers: [("content-type", "text/plain; version=0.0.4; charset=utf-8")], body: metrics.text)
  }

  // MARK: - Requests

  /// The request's fields from its headers, checked as a batch line's are. Anything wrong is a
  /// `bad_request` decision (400), recorded like any other.
  func item(_ r: ServeRequest) -> Verifier.Item {
    let authorization = r.values("authorization")
    guard authorization.count <= 1 else { return .bad(.badRequest("more than one Authorization header")) }
    // No header: the empty key, a 401 malformed_key (nginx's auth_request knows 401, not 400).
    let presented = authorization.first.map { "Authorization: " + $0 } ?? ""
    let company = r.values("x-ivkeys-company")
    let scope = r.values("x-ivkeys-scope")
    guard company.count == 1 else { return .bad(.badRequest("X-IVKeys-Company must be given once")) }
    guard scope.count == 1 else { return .bad(.badRequest("X-IVKeys-Scope must be given once")) }
    let ip: IPAddress?
    switch clientAddress(r) {
    case .success(let a): ip = a
    case .failure(let why): return .bad(.badRequest(why.reason))
    }
    let endpoint: String?
    switch Self.endpoint(r) {
    case .success(let e): endpoint = e
    case .failure(let why): return .bad(.badRequest(why.reason))
    }
    return VerifyCommand.request(
      key: presented, company: company[0], scope: scope[0], ip: ip?.description, endpoint: endpoint, env: nil,
      catalog: catalog, defaultEnv: options.env)
  }

  /// The client: the peer, unless the peer is a trusted proxy (or the Unix socket): then the one
  /// it names in X-Real-IP (which it must set or strip: it is believed as sent) or
  /// X-Forwarded-For (the last entry that is not itself a trusted proxy), or none.
  func clientAddress(_ r: ServeRequest) -> Result<IPAddress?, ValueError> {
    switch r.peer {
    case .ip(let a):
      guard options.trustedProxies.contains(where: { $0.contains(a) }) else { return .success(a) }
    case .unix: break
    case .unknown: return .success(nil)
    }
    let real = r.values("x-real-ip")
    if !real.isEmpty {
      guard real.count == 1, let a = try? IPAddress.parse(real[0].trimmingSpaces) else {
        return .failure(ValueError("X-Real-IP is not one IP address"))
      }
      return .success(a)
    }
    let forwarded = r.values("x-forwarded-for").flatMap { $0.split(separator: ",").map { String($0).trimmingSpaces } }
    // A proxy that names no client is not the client: no address (a key with an allowlist then
    // admits nothing), never the proxy's own, which an allowlist of its network would admit.
    guard !forwarded.isEmpty else { return .success(nil) }
    var client: IPAddress?
    for entry in forwarded.reversed() where !entry.isEmpty {
      guard let a = try? IPAddress.parse(entry) else {
        return .failure(ValueError("X-Forwarded-For holds something that is not an IP address"))
      }
      client = a
      if !options.trustedProxies.contains(where: { $0.contains(a) }) { break }
    }
    return .success(client)
  }

  /// `GET /v1/jobs` from nginx's X-Original-* or Traefik's X-Forwarded-* headers, else from a
  /// request to /verify/<path> (Envoy's ext_authz path_prefix: the client's method and path);
  /// the path without its query string (which may hold anything); nil when none is there.
  static func endpoint(_ r: ServeRequest) -> Result<String?, ValueError> {
    for (m, u) in [("x-original-method", "x-original-uri"), ("x-forwarded-method", "x-forwarded-uri")] {
      let methods = r.values(m)
      let uris = r.values(u)
      guard !methods.isEmpty || !uris.isEmpty else { continue }
      guard methods.count <= 1, uris.count == 1 else {
        return .failure(
          ValueError("\(u == "x-original-uri" ? "X-Original-URI" : "X-Forwarded-Uri") must be given once"))
      }
      let path = uris[0].split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
      return checked((methods.first.map { $0 + " " } ?? "") + path)
    }
    if r.path.hasPrefix("/verify/") { return checked(r.method + " " + r.path.dropFirst("/verify".count)) }
    return .success(nil)
  }

  private static func checked(_ endpoint: String) -> Result<String?, ValueError> {
    // A key anywhere in the whole text refuses it: cut first, a key's end could be cut off and
    // the rest no longer be recognised, yet still be recoverable from the audit log.
    guard !Text.holdsKey(endpoint), !Text.hasControl(endpoint) else {
      return .failure(ValueError("the request's method and path are not printable text without a key"))
    }
    var text = endpoint
    if text.unicodeScalars.count > 200 { text = String(String.UnicodeScalarView(text.unicodeScalars.prefix(200))) }
    do {
      return .success(try Fields.endpoint(text))
    } catch {
      return .failure(ValueError("the request's method and path are not printable text without a key"))
    }
  }

  // MARK: - Answers

  static let jsonHeaders: [(name: String, value: String)] = [
    ("content-type", "application/json"), ("cache-control", "no-store"),
  ]

  /// The decision JSON with its status and the headers gateways and clients read.
  static func answer(_ d: Decision) -> ServeResponse {
    var headers = jsonHeaders
    headers.append(("x-ivkeys-code", d.code.rawValue))
    if let id = d.keyID { headers.append(("x-ivkeys-key-id", id)) }
    if let r = d.rateLimit {
      headers.append(("ratelimit-limit", String(r.limit)))
      headers.append(("ratelimit-remaining", String(r.remaining)))
      headers.append(("ratelimit-reset", String(r.reset)))
    }
    if let retry = d.retryAfter { headers.append(("retry-after", String(retry))) }
    if d.code.httpStatus == 401 { headers.append(("www-authenticate", #"Bearer realm="ivkeys""#)) }
    return ServeResponse(status: d.code.httpStatus, headers: headers, body: d.json)
  }

  static func unavailable(_ message: String) -> ServeResponse {
    var r = failure(503, "unavailable", message)
    r.headers += [("x-ivkeys-code", "unavailable"), ("retry-after", "1")]
    return r
  }

  /// An answer that is not a decision (503, or the HTTP side's 404, 405, 413): its status, code
  /// and message as JSON.
  public static func failure(_ status: Int, _ code: String, _ message: String) -> ServeResponse {
    var w = JSONWriter()
    w.object { w in
      w.member("allowed", false)
      w.member("status", Int64(status))
      w.member("code", code)
      w.member("message", message)
    }
    return ServeResponse(status: status, headers: jsonHeaders, body: w.string)
  }
}

extension String {
  fileprivate var trimmingSpaces: String {
    var s = Substring(self)
    while s.first == " " || s.first == "\t" { s.removeFirst() }
    while s.last == " " || s.last == "\t" { s.removeLast() }
    return String(s)
  }
}
