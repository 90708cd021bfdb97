import Glibc
import Hummingbird
import HummingbirdCore
import IVKeysCLI
import IVKeysCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// `ivkeys serve`'s HTTP side: Hummingbird 2's server (listening, connections, SIGTERM and
/// SIGINT, graceful shutdown) with a child channel of its own, `DecisionChannel`, that answers
/// on the connection's event loop. Every decision is `ServeEngine`'s.
///
/// Why not Hummingbird's router: its request pipeline runs each request's handler as a Swift
/// task on the concurrency pool, a thread hop there and back for every request on top of the
/// hop to the vault's thread. Measured on `make bench` (2 cores shared with wrk), the router
/// spent about 78 µs of CPU a request to this channel's ~25; the vault's thread about 44.
public enum HTTPServer {
  public static func run(_ engine: ServeEngine, _ options: ServeOptions) -> Int32 {
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
    let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    // Set once the socket is bound: only then is the socket file this server's to remove.
    let bound = Completion()
    let app = Application(
      router: Router(),  // unused: DecisionChannel answers every request
      server: HTTPServerBuilder { _ in DecisionChannel(engine: engine, outbox: Outbox(loop: loops.next())) },
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
      eventLoopGroupProvider: .shared(loops),
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
}

/// One connection: SwiftNIO's HTTP/1.1 codec (with its limits, pipelining and quiescing), an
/// idle timer and `DecisionHandler`. Hummingbird's server accepts the connection and, on
/// shutdown, asks it to quiesce: it closes when idle, or once the answer in progress is sent.
struct DecisionChannel: ServerChildChannel {
  struct Value: ServerChildChannelValue {
    let channel: any Channel
  }

  /// Headers: at most 16 KiB in all, 8 KiB a field and 100 fields, else 400 and the connection
  /// is closed.
  static let limits: NIOHTTPDecoderLimitConfiguration = {
    var limits = NIOHTTPDecoderLimitConfiguration()
    limits.maxHeaderFieldSize = 8 * 1024
    limits.maxHeaderListSize = 16 * 1024
    limits.maxHeaderFieldCount = 100
    return limits
  }()
  /// A connection with nothing read or written for this long, and no answer awaited, is closed:
  /// a slow client holds a socket, never the vault (decisions start only once a whole request
  /// is read).
  static let idleTimeout = TimeAmount.seconds(10)

  let engine: ServeEngine
  /// The one event loop's: every connection is on it.
  let outbox: Outbox

  func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
    channel.eventLoop.makeCompletedFuture {
      let pipeline = channel.pipeline.syncOperations
      try pipeline.configureHTTPServerPipeline(
        withPipeliningAssistance: true, withErrorHandling: true, withOutboundHeaderValidation: true,
        withEncoderConfiguration: .init(), withDecoderLimitConfiguration: Self.limits)
      try pipeline.addHandler(IdleStateHandler(allTimeout: Self.idleTimeout))
      try pipeline.addHandler(DecisionHandler(engine: engine, peer: Self.peer(channel.remoteAddress), outbox: outbox))
      return Value(channel: channel)
    }
  }

  func handle(value: Value, logger: Logger) async {
    try? await value.channel.closeFuture.get()
  }

  static func peer(_ address: SocketAddress?) -> ServeRequest.Peer {
    switch address {
    case .unixDomainSocket?: return .unix
    case let address?: return address.ipAddress.flatMap { try? IPAddress.parse($0) }.map { .ip($0) } ?? .unknown
    case nil: return .unknown
    }
  }
}
