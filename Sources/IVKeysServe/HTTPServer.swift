import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdCore
import IVKeysCLI
import IVKeysCore
import Logging
import NIOCore

/// A request's context: who connected, as `ServeEngine` needs it for the trusted-proxy rule.
struct ServeContext: RequestContext {
  var coreContext: CoreRequestContextStorage
  let peer: ServeRequest.Peer

  init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
    switch source.channel.remoteAddress {
    case .unixDomainSocket?: peer = .unix
    case let address?:
      peer = address.ipAddress.flatMap { try? IPAddress.parse($0) }.map { .ip($0) } ?? .unknown
    case nil: peer = .unknown
    }
  }
}

/// `ivkeys serve`'s HTTP side on Hummingbird 2: routes, limits and graceful shutdown. Every
/// decision is `ServeEngine`'s.
public enum HTTPServer {
  /// The largest request body read (a POST's body is read and ignored): larger is 413.
  static let maximumBody = 16 * 1024
  /// Headers: at most 16 KiB in all and 100 fields, else the connection gets 431 or is closed.
  static let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
    maxHeaderFieldSize: 8 * 1024, maxHeaderListSize: 16 * 1024, maxHeaderFieldCount: 100)
  /// A connection with nothing read or written for this long is closed: a slow client holds a
  /// socket, never the vault (decisions start only once a request's headers are complete).
  static let idleTimeout = TimeAmount.seconds(10)

  public static func run(_ engine: ServeEngine, _ options: ServeOptions) -> Int32 {
    let router = Router(context: ServeContext.self)
    @Sendable func verify(_ request: Request, _ context: ServeContext) async throws -> Response {
      // The body is not used, but one that is sent is read, within a limit, so the connection
      // stays usable.
      if request.method != .get || request.headers[.contentLength] != nil || request.headers[.transferEncoding] != nil {
        _ = try await request.body.collect(upTo: maximumBody)
      }
      let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
      let served = ServeRequest(
        method: request.method.rawValue, path: request.uri.path, headers: headers, peer: context.peer)
      return response(await engine.verify(served))
    }
    router.get("/verify", use: verify)
    router.post("/verify", use: verify)
    // Envoy's ext_authz asks with the client's method and path under a prefix.
    for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete, .head, .options] {
      router.on("/verify/**", method: method, use: verify)
    }
    router.get("/healthz") { _, _ in response(await engine.health()) }
    router.get("/metrics") { _, _ in response(engine.metricsText()) }

    var logger = Logger(label: "ivkeys-serve")
    logger.logLevel = .critical
    let address: BindAddress
    let socketPath: String?
    switch options.address {
    case .tcp(let host, let port):
      address = .hostname(host, port: port)
      socketPath = nil
    case .unix(let path):
      address = .unixDomainSocket(path: path)
      socketPath = path
    }
    // Set once the socket is bound: only then is the socket file this server's to remove.
    let bound = Completion()
    let app = Application(
      router: router,
      server: .http1(configuration: .init(idleTimeout: idleTimeout, httpDecoderConfiguration: decoder)),
      configuration: .init(address: address, serverName: nil, backlog: 1024, reuseAddress: false),
      onServerRunning: { channel in
        if let socketPath {
          bound.finish(1)
          chmod(socketPath, 0o660)
          engine.log("listening on \(socketPath)")
        } else if let local = channel.localAddress, let ip = local.ipAddress, let port = local.port {
          engine.log("listening on \(ip.contains(":") ? "[\(ip)]" : ip):\(port)")
        }
      },
      logger: logger)

    let done = Completion()
    Task {
      do {
        try await app.runService()  // SIGTERM and SIGINT shut down gracefully
        done.finish(0)
      } catch {
        engine.log("error: cannot serve on \(describe(options.address)): \(error)")
        done.finish(1)
      }
    }
    let status = done.wait()
    if let socketPath, bound.isFinished { unlink(socketPath) }
    if status == 0 { engine.log("stopped") }
    return status
  }

  static func describe(_ address: ServeOptions.Address) -> String {
    switch address {
    case .tcp(let host, let port): return "\(host.contains(":") ? "[\(host)]" : host):\(port)"
    case .unix(let path): return path
    }
  }

  /// The header names `ServeEngine` answers with, made once.
  static let names: [String: HTTPField.Name] = {
    var names = [String: HTTPField.Name]()
    for n in [
      "content-type", "cache-control", "x-ivkeys-code", "x-ivkeys-key-id", "ratelimit-limit", "ratelimit-remaining",
      "ratelimit-reset", "retry-after", "www-authenticate",
    ] {
      names[n] = HTTPField.Name(n)
    }
    return names
  }()

  static func response(_ r: ServeResponse) -> Response {
    var fields = HTTPFields()
    fields.reserveCapacity(r.headers.count)
    for (name, value) in r.headers {
      if let n = names[name] ?? HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) }
    }
    return Response(
      status: HTTPResponse.Status(code: r.status), headers: fields,
      body: ResponseBody(byteBuffer: ByteBuffer(string: r.body)))
  }
}

/// A one-shot result the main thread waits for while the server runs on other threads.
final class Completion: @unchecked Sendable {
  private var mutex = pthread_mutex_t()
  private var cond = pthread_cond_t()
  private var status: Int32?

  init() {
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&cond, nil)
  }

  func finish(_ s: Int32) {
    pthread_mutex_lock(&mutex)
    status = s
    pthread_cond_signal(&cond)
    pthread_mutex_unlock(&mutex)
  }

  var isFinished: Bool {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    return status != nil
  }

  func wait() -> Int32 {
    pthread_mutex_lock(&mutex)
    while status == nil { pthread_cond_wait(&cond, &mutex) }
    let s = status ?? 1
    pthread_mutex_unlock(&mutex)
    return s
  }
}
