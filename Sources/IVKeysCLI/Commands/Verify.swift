import Glibc
import IVKeysCore

/// `ivkeys verify`: may this key make this request? The key is read from stdin, `--key-file` or
/// `$IVKEYS_KEY`, never from argv.
enum VerifyCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    if inv.flag(.key) {
      let refusal = ParseError.keyOnCommandLine(command: "verify")
      throw .usage(refusal.description, hint: refusal.hint)
    }
    if inv.flag(.batch) { return try batch(inv, ctx) }
    let company = try inv.required(.company, Fields.company)
    let scope = try inv.required(.scope, requestScope)
    let ip = try inv.parse(.ip, IPAddress.parse)
    let endpoint = try inv.parse(.endpoint, Fields.endpoint)
    let env = try environment(inv, ctx)
    let presented = try readKey(inv, ctx)

    let vault = try ctx.openVault(.decide)
    try checkCatalog(scope, vault, option: "--scope")
    let request = VerifyRequest(
      presented: presented, company: company, scope: scope, ip: ip, endpoint: endpoint, env: env)
    // Any error here (a read-only vault, a full disk) ends the command with exit 1 and no
    // decision: a decision that could not be recorded is never given.
    let decision = try Verifier(vault: vault).decide([request])[0]
    switch ctx.format {
    case .json:
      ctx.stdout.line(decision.json)
    case .quiet:
      ctx.stdout.line(decision.code.rawValue)
    case .table:
      if decision.allowed {
        ctx.stdout.line("allowed key=\(decision.keyID ?? "-") company=\(company)")
      } else {
        var line =
          "denied \(decision.code.httpStatus) \(decision.code.rawValue): \(Text.escapeControl(decision.message))"
        if let r = decision.retryAfter { line += "; retry after \(r)s" }
        ctx.stdout.line(line)
      }
    }
    return decision.code.exitCode
  }

  /// The environment the caller serves: `--env`, else `$IVKEYS_ENV`; one of them is required.
  /// Without it a key of either environment would pass, and a test key could reach production.
  /// A set but empty or unknown `$IVKEYS_ENV` is an error too, never a quiet default.
  static func environment(_ inv: Invocation, _ ctx: Context) throws(IVKeysError) -> KeyEnvironment {
    if let flag = try KeyOptions.env(inv) { return flag }
    let hint = "pass --env live or --env test (or set IVKEYS_ENV): the environment the caller serves"
    guard let v = ctx.environment[environmentVariable] else {
      throw .usage("'ivkeys verify' needs --env or \(environmentVariable)", hint: hint)
    }
    guard !v.isEmpty else {
      throw .usage(
        "\(environmentVariable) is set but empty: 'ivkeys verify' needs the environment it serves", hint: hint)
    }
    guard let e = KeyEnvironment(rawValue: v) else {
      throw .usage(
        "invalid value for \(environmentVariable): '\(Text.escapeControl(v))': expected live or test", hint: hint)
    }
    return e
  }

  /// The variable that gives `verify` its environment when `--env` does not.
  static let environmentVariable = "IVKEYS_ENV"

  /// A scope a request asks for: `resource:action` (not a wildcard).
  static func requestScope(_ s: String) throws(ValueError) -> String {
    guard Scopes.isWellFormed(s) else { throw ValueError("a requested scope is resource:action, like candidates:read") }
    return s
  }

  static func checkCatalog(_ scope: String, _ vault: Vault, option: String) throws(IVKeysError) {
    // One row and its seal, not the whole catalog (a seal check a row); the catalog is read only
    // to suggest a name.
    if try vault.scopeIsInCatalog(scope) { return }
    let catalog = try vault.scopeCatalog().filter { !$0.damaged }.map(\.name)
    let hint =
      Text.suggestion(for: scope, among: catalog).map { "did you mean '\($0)'?" }
      ?? "'ivkeys scopes list' shows the catalog"
    throw .invalidValue(option: option, value: scope, reason: "not in the scope catalog; \(hint)")
  }

  /// The presented key: `--key-file`, else `$IVKEYS_KEY`, else standard input. A set but empty
  /// `$IVKEYS_KEY` is an empty key (refused as `malformed_key`), not a reason to read stdin: a
  /// gateway that meant to pass a key and passed nothing must not be answered from another source.
  static func readKey(_ inv: Invocation, _ ctx: Context) throws(IVKeysError) -> String {
    if let path = inv.value(.keyFile) {
      guard let text = readSmallFile(path) else {
        throw .io("cannot read the key file \(path): \(Errno.current)")
      }
      return text
    }
    if let k = ctx.environment["IVKEYS_KEY"] { return k }
    // On a terminal the read would wait silently: say what it waits for.
    if isatty(0) == 1 { ctx.note(stdinNotice) }
    ctx.stderr.flush()
    var data = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 4096)
    while data.count <= 65536 {
      let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      data.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// Said on stderr before reading the key from a terminal.
  static let stdinNotice = "reading the key from standard input (or use --key-file or IVKEYS_KEY)"

  static func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= 65536 else {
      errno = EINVAL
      return nil
    }
    var data = [UInt8](repeating: 0, count: Int(st.st_size))
    let n = data.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard n >= 0 else { return nil }
    return String(decoding: data.prefix(n), as: UTF8.self)
  }

  // MARK: - Batch

  /// Lines of JSON requests on stdin, one JSON decision a line on stdout, in order. Decisions are
  /// taken in groups, each in one transaction and written only after it commits: a group closes
  /// 50 ms after its first line arrived, or at 5,000 lines when input is backed up (a larger group
  /// writes each touched page of the vault once for more decisions).
  /// Each line's `env` overrides the default from `--env` or `$IVKEYS_ENV`, which is required all
  /// the same: a stream without one does not start.
  static func batch(_ inv: Invocation, _ ctx: Context) throws(IVKeysError) -> Int32 {
    let env = try environment(inv, ctx)
    let vault = try ctx.openVault(.decide)
    let catalog = Set(try vault.scopeCatalog().filter { !$0.damaged }.map(\.name))
    let verifier = try Verifier(vault: vault, batch: true)
    var reader = LineReader(fd: 0)
    var group = [Verifier.Item]()
    group.reserveCapacity(5000)
    var w = JSONWriter(capacity: 1 << 16)
    var deadline: Int64 = 0
    // SIGTERM, SIGINT and SIGHUP end the stream gracefully: the lines already read are decided
    // and held usage counts are written before exit.
    // The signals are unblocked too: a supervisor may spawn us with them blocked.
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    for sig in [SIGTERM, SIGINT, SIGHUP] {
      signal(sig) { _ in stopRequested = 1 }
      sigaddset(&stopSignals, sig)
    }
    sigprocmask(SIG_UNBLOCK, &stopSignals, nil)

    func flush() throws(IVKeysError) {
      guard !group.isEmpty else { return }
      let decisions = try verifier.decide(group)
      w.clear()
      for d in decisions {
        d.writeJSON(to: &w)
        w.raw("\n")
      }
      ctx.stdout.write(bytes: w.bytes)
      try ctx.stdout.flushChecked("decisions")
      group.removeAll(keepingCapacity: true)
      vault.checkpointIfLarge()
    }

    func end() throws(IVKeysError) -> Int32 {
      // Lines already read are answered, even when a signal ends the stream.
      while let bytes = reader.bufferedLine() {
        group.append(item(bytes, catalog: catalog, env: env))
        if group.count >= 5000 { try flush() }
      }
      try flush()
      try verifier.finish()
      // Leave a short WAL behind, so the next single verify does not read a long one.
      vault.checkpointIfLarge(bytes: 512 << 10)
      return 0
    }

    while true {
      if stopRequested != 0 { return try end() }
      // Wait for input until the group's deadline, or until held usage counts are due.
      // Never wait for ever: a stop signal that lands just before the wait is seen within a second.
      var timeout: Int64 = group.isEmpty ? 1000 : max(0, deadline - Verifier.monotonicMilliseconds())
      if let due = verifier.pendingDue { timeout = min(timeout, max(0, due)) }
      switch reader.next(timeoutMilliseconds: Int32(clamping: timeout)) {
      case .line(let bytes):
        if group.isEmpty { deadline = Verifier.monotonicMilliseconds() + 50 }
        group.append(item(bytes, catalog: catalog, env: env))
        // A group closes at 5,000 lines, at its deadline, or as soon as no more input is
        // waiting: a caller that sends one request and waits for its answer is not kept waiting.
        if group.count >= 5000 || Verifier.monotonicMilliseconds() >= deadline || !reader.inputWaiting() { try flush() }
      case .tooLong:
        if group.isEmpty { deadline = Verifier.monotonicMilliseconds() + 50 }
        group.append(.bad(.badRequest("the line is longer than \(LineReader.maximumLength) bytes")))
        if !reader.inputWaiting() { try flush() }
      case .timeout:
        if !group.isEmpty && Verifier.monotonicMilliseconds() >= deadline { try flush() }
        if let due = verifier.pendingDue, due <= 0 { try verifier.finish() }
      case .end:
        return try end()
      case .failed(let e):
        try flush()
        try verifier.finish()
        throw .io("cannot read standard input: \(Errno.describe(e))")
      }
    }
  }

  /// One batch line as a request, or the reason it is not one. `env` is the environment of a
  /// line without its own.
  static func item(_ bytes: ArraySlice<UInt8>, catalog: Set<String>, env defaultEnv: KeyEnvironment) -> Verifier.Item {
    // The fast path reads a flat object of strings; anything else goes through the full parser.
    let members: [(String, String?)]
    if let flat = bytes.withUnsafeBufferPointer({ JSON.parseFlatStrings($0) }) {
      members = flat
    } else {
      switch generalMembers(bytes) {
      case .success(let m): members = m
      case .failure(let reason): return .bad(.badRequest(reason.description))
      }
    }
    var key: String?
    var company: String?
    var scope: String?
    var ip: String?
    var endpoint: String?
    var env: String?
    for (name, value) in members {
      switch name {
      case "key": key = value
      case "company": company = value
      case "scope": scope = value
      case "ip": ip = value
      case "endpoint": endpoint = value
      case "env": env = value
      default: break
      }
    }
    guard let key else { return .bad(.badRequest("key is missing")) }
    guard let company else { return .bad(.badRequest("company is missing")) }
    guard let scope else { return .bad(.badRequest("scope is missing")) }
    return request(
      key: key, company: company, scope: scope, ip: ip, endpoint: endpoint, env: env, catalog: catalog,
      defaultEnv: defaultEnv)
  }

  /// A request's fields, checked as every way in (a batch line, an HTTP request) checks them: the
  /// request, or the `bad_request` decision saying which field is wrong.
  static func request(
    key: String, company: String, scope: String, ip: String?, endpoint: String?, env: String?, catalog: Set<String>,
    defaultEnv: KeyEnvironment
  ) -> Verifier.Item {
    guard (try? Fields.company(company)) != nil else { return .bad(.badRequest("company is not a company id")) }
    guard catalog.contains(scope) else { return .bad(.badRequest("scope is not in the scope catalog")) }
    var address: IPAddress?
    if let ip {
      guard let a = try? IPAddress.parse(ip) else { return .bad(.badRequest("ip is not an IP address")) }
      address = a
    }
    if let endpoint, (try? Fields.endpoint(endpoint)) == nil {
      return .bad(.badRequest("endpoint is not 1 to 200 printable characters without a key"))
    }
    var environment = defaultEnv
    if let env {
      guard let e = KeyEnvironment(rawValue: env) else { return .bad(.badRequest("env is not live or test")) }
      environment = e
    }
    return .request(
      VerifyRequest(presented: key, company: company, scope: scope, ip: address, endpoint: endpoint, env: environment))
  }

  /// The request fields of a line that is a JSON object with other members too, or why not.
  static func generalMembers(_ bytes: ArraySlice<UInt8>) -> Result<[(String, String?)], ValueError> {
    guard let json = try? JSON.parse(String(decoding: bytes, as: UTF8.self)), case .object(let all) = json else {
      return .failure(ValueError("the line is not a JSON object"))
    }
    var members = [(String, String?)]()
    for (name, value) in all where ["key", "company", "scope", "ip", "endpoint", "env"].contains(name) {
      switch value {
      case .string(let s): members.append((name, s))
      case .null: members.append((name, nil))
      default: return .failure(ValueError("\(name) is not a string"))
      }
    }
    return .success(members)
  }
}

/// Set by a signal handler to end `verify --batch` gracefully.
nonisolated(unsafe) var stopRequested: sig_atomic_t = 0
