import Glibc
import IVKeysCore

/// Where and how `ivkeys serve` listens, parsed and checked.
public struct ServeOptions: Sendable {
  public enum Address: Sendable {
    case tcp(host: String, port: Int)
    case unix(path: String)
  }
  public let address: Address
  public let env: KeyEnvironment
  public let trustedProxies: [IPRange]
}

/// `ivkeys serve`. The HTTP side lives in the `ivkeys-serve` binary (SwiftNIO and Hummingbird,
/// kept out of `ivkeys` so that a `verify` process starts as fast as before): that binary sets
/// `server`; `ivkeys` checks the command line, then executes `ivkeys-serve` from its own
/// directory with the same arguments.
public enum ServeCommand {
  /// The HTTP server, in the binary that links it.
  nonisolated(unsafe) public static var server: ((ServeEngine, ServeOptions) -> Int32)?

  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let options = try parse(inv, ctx)
    guard let server else { return try execServer(ctx) }
    let vault = try ctx.openVault(.decide)
    let engine = try ServeEngine(
      vault: vault, options: options, failSyncs: FaultInjection.failsSyncs(ctx.environment))
    ctx.stderr.flush()
    let status = server(engine, options)
    try engine.stop()
    return status
  }

  static func parse(_ inv: Invocation, _ ctx: Context) throws(IVKeysError) -> ServeOptions {
    let address: ServeOptions.Address
    if let path = inv.values[.socket]?.last {
      guard !path.isEmpty, path.utf8.count < 108 else {
        throw .usage("invalid value for --socket: a Unix socket path is 1 to 107 bytes")
      }
      // Never replace what is there: another server's socket, or a file that is not one.
      var st = stat()
      guard lstat(path, &st) != 0 else {
        throw .usage(
          "invalid value for --socket: '\(path)' exists", hint: "remove it first if no server is listening on it")
      }
      address = .unix(path: path)
    } else if let listen = try inv.parse(.listen, listenAddress) {
      address = .tcp(host: listen.host, port: listen.port)
    } else {
      throw .usage("'ivkeys serve' needs --listen ADDR:PORT or --socket PATH", hint: "e.g. --listen 127.0.0.1:8080")
    }
    let env = try VerifyCommand.environment(inv, ctx)
    let proxies = try inv.parseList(.trustedProxy, IPRange.parse)
    return ServeOptions(address: address, env: env, trustedProxies: proxies)
  }

  /// `127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`; port 0 picks a free one.
  static func listenAddress(_ text: String) throws(ValueError) -> (host: String, port: Int) {
    guard let colon = text.lastIndex(of: ":") else { throw ValueError("expected ADDR:PORT, e.g. 127.0.0.1:8080") }
    var host = String(text[..<colon])
    let portText = text[text.index(after: colon)...]
    guard !portText.isEmpty, portText.count <= 5, portText.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
      let port = Int(portText), port <= 65535
    else { throw ValueError("the port is 0 to 65535") }
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty, host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
      throw ValueError("expected ADDR:PORT, e.g. 127.0.0.1:8080")
    }
    if host.contains(":") || host.first.map({ $0.isNumber }) == true {
      guard (try? IPAddress.parse(host)) != nil else { throw ValueError("'\(host)' is not an IP address") }
    }
    return (host, port)
  }

  /// Replaces this process with `ivkeys-serve` from the directory `ivkeys` runs from.
  static func execServer(_ ctx: Context) throws(IVKeysError) -> Int32 {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { throw .io("cannot find the ivkeys binary: \(Errno.describe(errno))") }
    let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let dir = exe.lastIndex(of: "/").map { String(exe[..<$0]) } ?? "."
    let path = dir + "/ivkeys-serve"
    ctx.stdout.flush()
    ctx.stderr.flush()
    let args = ["ivkeys-serve"] + CLI.arguments
    var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
    execv(path, &argv)
    let e = errno
    for p in argv { free(p) }
    throw .io(
      "cannot run \(path): \(Errno.describe(e))",
      hint: "'ivkeys serve' runs ivkeys-serve, installed beside ivkeys ('make install' installs both)")
  }
}
