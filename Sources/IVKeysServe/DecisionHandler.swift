import Glibc
import IVKeysCLI
import IVKeysCore
import NIOCore
import NIOHTTP1

/// Answers one connection's requests, one at a time (SwiftNIO's pipelining handler holds the
/// next until this one's answer is written): routes them, hands `/verify` and `/healthz` to
/// `ServeEngine`, whose answer comes back on the vault's thread and is written on the
/// connection's event loop.
final class DecisionHandler: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  /// The largest request body read (a POST's body is read and ignored): larger is 413, and the
  /// connection is closed.
  static let maximumBody = 16 * 1024
  /// `/verify/<path>`: Envoy's ext_authz asks with the client's method and path under a prefix.
  static let prefixedMethods: [HTTPMethod] = [.GET, .POST, .PUT, .PATCH, .DELETE, .HEAD, .OPTIONS]

  private let engine: ServeEngine
  private let peer: ServeRequest.Peer
  private let outbox: Outbox
  /// The request being read.
  private var head: HTTPRequestHead?
  private var bodyBytes = 0
  /// A body over the limit was answered with 413 and the output closed: everything read after
  /// it is discarded (never reset: no later request on this connection can be answered) until
  /// the client closes, or the idle timer or a look (`lookInterval`) closes the connection.
  /// Closing at once could reset the connection before a client still sending its body reads
  /// the 413. A 408 (`look`) is sent the same way.
  private var refused = false
  /// The client closed its side while an answer was awaited: close once it is written.
  private var closeWhenAnswered = false
  /// An answer is awaited from the engine: an idle timer does not close the connection.
  private var answering = false
  /// Requests read whole on this connection; as many at the last look (`look`), and the looks
  /// since in a row that found none more and no answer awaited.
  private var completed = 0
  private var completedAtLook = 0
  private var stalledLooks = 0
  private var watch: RepeatedTask?

  /// Every 10 s a connection is looked at. One that has brought no whole request for two looks
  /// in a row (20 to 30 s since its last whole request or its start), answers awaited aside, is
  /// answered 408 with its output closed when a request's head was read, and closed at the next
  /// look (10 s later, time for the client to read the 408); otherwise closed at once. The idle
  /// timer closes a silent connection; this closes a client that trickles its headers or body a
  /// byte at a time, which would otherwise hold a socket for hours and a graceful stop with it.
  static let lookInterval = TimeAmount.seconds(10)
  static let stalledLooksAllowed = 2

  init(engine: ServeEngine, peer: ServeRequest.Peer, outbox: Outbox) {
    self.engine = engine
    self.peer = peer
    self.outbox = outbox
  }

  func handlerAdded(context: ChannelHandlerContext) {
    let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
    watch = context.eventLoop.scheduleRepeatedTask(initialDelay: Self.lookInterval, delay: Self.lookInterval) { _ in
      let (handler, context) = bound.value
      handler.look(context)
    }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    watch?.cancel()
    watch = nil
  }

  /// See `lookInterval`.
  private func look(_ context: ChannelHandlerContext) {
    if answering || completed != completedAtLook {
      completedAtLook = completed
      stalledLooks = 0
      return
    }
    stalledLooks += 1
    guard stalledLooks >= Self.stalledLooksAllowed else { return }
    if let h = head, !refused {
      refused = true
      let r = ServeEngine.failure(408, "request_timeout", "the request took too long to arrive")
      respond(context, r, to: h, close: .output)
    } else {
      watch?.cancel()
      watch = nil
      context.close(promise: nil)
    }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let h):
      guard !refused else { return }
      head = h
      bodyBytes = 0
    case .body(let chunk):
      guard let h = head, !refused else { return }
      bodyBytes += chunk.readableBytes
      if bodyBytes > Self.maximumBody {
        refused = true
        let r = ServeEngine.failure(413, "payload_too_large", "the request body is larger than 16 KiB")
        respond(context, r, to: h, close: .output)
      }
    case .end:
      guard let h = head, !refused else { return }
      head = nil
      completed &+= 1
      route(context, h)
    }
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if event is IdleStateHandler.IdleStateEvent {
      if !answering { context.close(promise: nil) }
    } else if let e = event as? ChannelEvent, e == .inputClosed {
      // Hummingbird's server allows half-closure: a client that sent its request and shut its
      // side gets its answer, then the connection is closed, not left for the idle timer.
      if answering { closeWhenAnswered = true } else { context.close(promise: nil) }
    } else {
      context.fireUserInboundEventTriggered(event)
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }

  private func route(_ context: ChannelHandlerContext, _ h: HTTPRequestHead) {
    let path = Self.path(h.uri)
    let allowed: Bool
    switch path {
    case "/verify": allowed = h.method == .GET || h.method == .POST
    case "/healthz", "/metrics": allowed = h.method == .GET
    case _ where path.hasPrefix("/verify/"): allowed = Self.prefixedMethods.contains(h.method)
    default:
      return respond(context, ServeEngine.failure(404, "not_found", "no such endpoint: \(path)"), to: h)
    }
    guard allowed else {
      return respond(
        context, ServeEngine.failure(405, "method_not_allowed", "\(h.method.rawValue) is not answered here"), to: h)
    }
    if path == "/metrics" { return respond(context, engine.metricsText(), to: h) }
    answering = true
    let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
    let reply: @Sendable (ServeResponse) -> Void = { [outbox] response in
      outbox.post {
        let (handler, context) = bound.value
        handler.answering = false
        handler.respond(context, response, to: h)
      }
    }
    if path == "/healthz" { return engine.health(then: reply) }
    let request = ServeRequest(
      method: h.method.rawValue, path: String(path),
      headers: h.headers.map { (name: $0.name.lowercased(), value: $0.value) }, peer: peer)
    engine.verify(request, then: reply)
  }

  /// How the connection ends after an answer.
  enum Closing {
    case no
    case all
    /// The output only: the client may still be sending, and reads the answer.
    case output
  }

  /// The request target's path: without its query, and without scheme and host in the absolute
  /// form (`GET http://host/verify`) a server must accept.
  static func path(_ uri: String) -> Substring {
    var target = Substring(uri)
    if let colon = target.firstIndex(of: ":"), !target[..<colon].isEmpty,
      target[..<colon].allSatisfy({ $0.isLetter }), target[colon...].hasPrefix("://")
    {
      let authority = target[target.index(colon, offsetBy: 3)...]
      target = authority.firstIndex(of: "/").map { authority[$0...] } ?? "/"
    }
    return target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
  }

  /// Writes an answer with its length; closes the connection after it when the client asked for
  /// that (or HTTP/1.0 without keep-alive) or closed its side, or as `close` says.
  private func respond(
    _ context: ChannelHandlerContext, _ r: ServeResponse, to h: HTTPRequestHead, close: Closing = .no
  ) {
    let ending: Closing = close != .no ? close : (h.isKeepAlive && !closeWhenAnswered ? .no : .all)
    var head = HTTPResponseHead(version: h.version, status: HTTPResponseStatus(statusCode: r.status))
    head.headers.reserveCapacity(r.headers.count + 2)
    for (name, value) in r.headers { head.headers.add(name: name, value: value) }
    let body = context.channel.allocator.buffer(string: r.body)
    head.headers.add(name: "content-length", value: String(body.readableBytes))
    if ending != .no {
      head.headers.add(name: "connection", value: "close")
    } else if h.version.minor == 0 {
      head.headers.add(name: "connection", value: "keep-alive")
    }
    context.write(wrapOutboundOut(.head(head)), promise: nil)
    if h.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
    switch ending {
    case .no:
      context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    case .all, .output:
      let mode: CloseMode = ending == .all ? .all : .output
      context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
        context.close(mode: mode, promise: nil)
      }
    }
  }
}

/// Answers bound for one event loop, from the vault's threads: a group's answers, posted one
/// after another, reach the loop in one task (one wake-up of the loop, not one each).
final class Outbox: @unchecked Sendable {
  private let loop: any EventLoop
  private var mutex = pthread_mutex_t()
  private var posted: [() -> Void] = []
  private var scheduled = false

  init(loop: any EventLoop) {
    self.loop = loop
    pthread_mutex_init(&mutex, nil)
  }

  /// Runs `work` on the loop, soon.
  func post(_ work: @escaping () -> Void) {
    pthread_mutex_lock(&mutex)
    posted.append(work)
    let schedule = !scheduled
    scheduled = true
    pthread_mutex_unlock(&mutex)
    if schedule { loop.execute { self.drain() } }
  }

  private func drain() {
    pthread_mutex_lock(&mutex)
    let work = posted
    posted.removeAll(keepingCapacity: true)
    scheduled = false
    pthread_mutex_unlock(&mutex)
    for w in work { w() }
  }
}
