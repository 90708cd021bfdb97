import Glibc

/// Finds API keys in text that should not hold them: files, directory trees, standard input,
/// and unified diffs (`git diff --cached | ivkeys scan -`), for `ivkeys scan`.
///
/// A key is reported when the 90 bytes at an `sk_` are a whole key by `APIKey.parse`: the
/// format and the CRC32 check digits (form `exact`). So a Stripe secret key (`sk_live_` and about
/// 99 letters and digits, no `_` after the id) and a key-shaped string with a wrong checksum are
/// not reported. Also reported: a key with one character substituted, inserted or deleted that
/// one edit alone repairs (`damaged`, see `KeyRepair`), and a key encoded in base64 (`base64`).
/// A finding carries the key's id and environment, never its secret.
///
/// Text is scanned as raw bytes (UTF-16 with a byte order mark is decoded to UTF-8 first): the
/// search for the start of a key, plain or in base64, looks at 16 bytes a step in one pass
/// (`findAllKeys`), input is read in large chunks of which the
/// last bytes a key may still be in (up to 127, for base64) are carried into the next, and lines
/// are counted only up to where a key is found or where a chunk is dropped (while it is in the
/// cache): a file that fits in one chunk and holds no key is never split into lines. A file of
/// 1 MiB or more is mapped instead of read (`scanMapped`): no copy, and one buffer.
public final class LeakScanner {
  /// One key found.
  public struct Finding: Equatable, Sendable {
    /// The file as the user named it or the walk reached it, `-` for standard input, or the
    /// new path of a file in a diff.
    public let file: String
    /// 1-based; in a diff, the line in the new version of the file.
    public let line: Int
    /// 1-based, counted in bytes from the start of the line (in a diff, without the `+`).
    public let column: Int
    /// The key's public id.
    public let keyID: String
    public let env: KeyEnvironment
    /// How the key was written: whole, or damaged (then `keyID` is the repaired key's).
    public let form: Form
    /// The commit whose change added the line, in a scan of history (`scanHistory`); nil otherwise.
    public let commit: String?

    public init(
      file: String, line: Int, column: Int, keyID: String, env: KeyEnvironment, form: Form = .exact,
      commit: String? = nil
    ) {
      self.commit = commit
      self.file = file
      self.line = line
      self.column = column
      self.keyID = keyID
      self.env = env
      self.form = form
    }

    /// The key with its secret and check digits hidden: `sk_live_<id>_…`.
    public var masked: String { "sk_\(env.rawValue)_\(keyID)_…" }
  }

  /// How a found key was written.
  public enum Form: String, Sendable {
    /// The key itself, checksum and all.
    case exact
    /// One character substituted, inserted or deleted, with one repair that passes the checksum
    /// (see `KeyRepair`).
    case damaged
    /// Encoded in base64, standard or URL-safe (a Kubernetes Secret's `data:`); the location is
    /// that of the first base64 character only the key decides.
    case base64
  }

  /// What the scan has read so far.
  public struct Statistics: Equatable, Sendable {
    /// Text files and streams read (to the end, or to a read error).
    public var files = 0
    /// Bytes of text read.
    public var bytes: Int64 = 0
    /// Input skipped as binary (only when a caller of `scan(name:…)` asks; files and streams
    /// are scanned binary or not).
    public var binaryFiles = 0
    /// Files and directories that could not be read.
    public var unreadable = 0
    /// Commits read, in a scan of history.
    public var commits = 0

    public init() {}
  }

  /// How reading one input ended.
  public enum Outcome: Equatable, Sendable {
    /// Read to the end.
    case scanned
    /// Skipped: a NUL byte in its first `binaryProbeLength` bytes.
    case binary
    /// A read failed with this `errno`; what came before it was scanned.
    case failed(Int32)
  }

  /// Where bytes come from: fills up to `count` bytes at the pointer and returns how many it
  /// wrote, 0 at the end of the input, or a negated `errno` value on failure.
  public typealias Source = (_ into: UnsafeMutablePointer<UInt8>, _ count: Int) -> Int

  /// Git's test for a binary file ("a NUL byte in the first 8000 bytes", `buffer_is_binary`).
  public static let binaryProbeLength = 8000
  /// The read size: small enough that a chunk stays in a core's L2 cache from the read to the
  /// search, large enough that most source files fit in one.
  public static let defaultChunkSize = 1 << 18

  /// Every key found so far, in the order found.
  public internal(set) var findings: [Finding] = []
  public internal(set) var statistics = Statistics()
  /// Told about each file or directory that cannot be read (the scan goes on).
  public var onWarning: (String) -> Void = { _ in }
  /// Told about anything worth a note on stderr (the scan goes on).
  public var onNote: (String) -> Void = { _ in }
  /// Called after each chunk read, for a progress line.
  public var onProgress: ((Statistics) -> Void)?
  /// The directory walk (which names it skips).
  public var walker = DirectoryWalker()
  /// Set while `scanHistory` reads: the input is `git log -p` output.
  var history = false
  /// Called once a file is mapped, before it is scanned (tests cut the file short there).
  var afterMapping: (() -> Void)?

  var buffer: UnsafeMutablePointer<UInt8>
  var capacity: Int

  /// `chunkSize` is how much is read at a time (at least twice a key's length); tests make it
  /// small to put keys across chunk boundaries.
  public init(chunkSize: Int = defaultChunkSize) {
    capacity = max(chunkSize, 2 * APIKey.length)
    buffer = .allocate(capacity: capacity)
  }

  deinit { buffer.deallocate() }

  // MARK: - Paths and streams

  /// Scans what `path` names: a directory is walked (see `DirectoryWalker`), a regular file is
  /// read (binary or not), a pipe (`<(git diff)`) is read like standard input. Anything that
  /// cannot be read is reported through `onWarning` and skipped.
  public func scan(path: String) { scan(path: Array(path.utf8)) }

  /// `scan(path:)` for a path as bytes, which need not be UTF-8 (as argv gives them).
  public func scan(path bytes: [UInt8]) {
    let path = String(decoding: bytes, as: UTF8.self)  // for messages
    var st = stat()
    let (rc, e) = DirectoryWalker.withCString(bytes) { (stat($0, &st), errno) }
    guard rc == 0 else { return cannotRead(path, e) }
    switch st.st_mode & S_IFMT {
    case S_IFDIR:
      walker.walk(
        bytes, file: { scanFile($0) },
        failure: { p, e in cannotRead(String(decoding: p, as: UTF8.self), e) })
    case S_IFREG:
      scanFile(bytes)
    case S_IFIFO:
      let (fd, e) = DirectoryWalker.withCString(bytes) { (open($0, O_RDONLY | O_CLOEXEC), errno) }
      guard fd >= 0 else { return cannotRead(path, e) }
      defer { close(fd) }
      if case .failed(let e) = scanStream(fd: fd, name: path) { cannotRead(path, e) }
    default:
      // Named on purpose, so not read is not scanned: it counts as unreadable.
      statistics.unreadable += 1
      onWarning("skipped '\(Text.escapeControl(path))': not a regular file, a directory or a pipe")
    }
  }

  /// Scans a stream such as standard input, binary or not. A unified diff (it starts with
  /// `diff --git`, `diff -…`, or `--- ` and `+++ ` lines) is read as one: only added lines
  /// count, reported under the new file's path and line number, so a commit that removes a
  /// leaked key is not stopped by it. Anything else is reported under `name`.
  public func scanStream(fd: Int32, name: String = "-") -> Outcome {
    var st = stat()
    if fstat(fd, &st) == 0 && st.st_mode & S_IFMT == S_IFREG,
      let outcome = scanMapped(fd: fd, size: Int(st.st_size), name: name, detectDiff: true)
    {
      return outcome
    }
    return scan(name: name, detectDiff: true, skipBinary: false, source: Self.reader(fd))
  }

  /// Scans the output of `git log -p --format='commit %H'` (see `GitHistory` in the command
  /// layer): each commit's diff as `scanStream` reads a diff, only added lines counting, and
  /// each finding naming its commit. In a merge's combined diff, only lines new to every
  /// parent count: the others came from a parent's commits, where they were found.
  public func scanHistory(fd: Int32, name: String = "-") -> Outcome {
    history = true
    defer { history = false }
    return scan(name: name, detectDiff: true, skipBinary: false, source: Self.reader(fd))
  }

  /// Scans the bytes `source` gives. `detectDiff` reads a unified diff as one (see
  /// `scanStream`); `skipBinary` skips input with a NUL byte in its first 8000 bytes.
  public func scan(name: String, detectDiff: Bool, skipBinary: Bool, source: Source) -> Outcome {
    var input = Input()
    fill(&input, source)
    if let bigEndian = Self.utf16ByteOrder(buffer, input.end) {
      // Read again, decoded to UTF-8 (the bytes counted are those of the UTF-8 text).
      let first = Array(UnsafeBufferPointer(start: buffer, count: input.end))
      statistics.bytes -= Int64(input.end)
      return withoutActuallyEscaping(source) { source in
        let utf16 = UTF16Transcoder(
          bigEndian: bigEndian, first: first, eof: input.eof, error: input.error, source: source)
        return scan(name: name, detectDiff: detectDiff, skipBinary: skipBinary, source: utf16.read)
      }
    }
    if skipBinary, memchr(buffer, 0, min(input.end, Self.binaryProbeLength)) != nil {
      statistics.bytes -= Int64(input.end)
      statistics.binaryFiles += 1
      return .binary
    }
    if history || detectDiff && Self.looksLikeDiff(UnsafeBufferPointer(start: buffer, count: input.end)) {
      scanDiff(&input, source)
    } else {
      scanText(name: name, &input, source)
    }
    statistics.files += 1
    return input.error.map { .failed($0) } ?? .scanned
  }

  /// Reads a regular file found by the walk or named by the user. A binary file (a NUL byte
  /// early on) is scanned too, as the hook's stream is: a key is ASCII inside it, and its line
  /// and column count the file's bytes as they do in text.
  func scanFile(_ path: [UInt8]) {
    let display = String(decoding: path, as: UTF8.self)
    // O_NONBLOCK: a file swapped for a FIFO since it was listed must not hang the scan.
    let (fd, e) = DirectoryWalker.withCString(path) { (open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK), errno) }
    guard fd >= 0 else { return cannotRead(display, e) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { return cannotRead(display, errno) }
    // Swapped for something else since it was listed: not a file to read.
    guard st.st_mode & S_IFMT == S_IFREG else { return }
    if let outcome = scanMapped(fd: fd, size: Int(st.st_size), name: display, detectDiff: false) {
      if case .failed(let e) = outcome { cannotRead(display, e) }
      return
    }
    if case .failed(let e) = scan(name: display, detectDiff: false, skipBinary: false, source: Self.reader(fd)) {
      cannotRead(display, e)
    }
  }

  func cannotRead(_ path: String, _ e: Int32, what: String = "") {
    statistics.unreadable += 1
    let name = what.isEmpty ? "'\(Text.escapeControl(path))'" : "\(what) '\(Text.escapeControl(path))'"
    onWarning("cannot read \(name): \(Errno.describe(e)); skipped")
  }

  /// `read(2)` on `fd` as a `Source`, through EINTR, waiting out EAGAIN on a non-blocking pipe.
  static func reader(_ fd: Int32) -> Source {
    { p, count in
      while true {
        let n = read(fd, p, count)
        if n >= 0 { return n }
        let e = errno
        if e == EINTR { continue }
        if e == EAGAIN || e == EWOULDBLOCK {
          var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
          _ = poll(&pfd, 1, -1)
          continue
        }
        return -Int(e)
      }
    }
  }

  // MARK: - The buffer

  /// The state of one input: `buffer[0..<end]` holds bytes not yet dropped.
  struct Input {
    var end = 0
    var eof = false
    var error: Int32?
  }

  /// Reads until the buffer is full or the input ends: a key is found whole unless it straddles
  /// the end of the buffer, and then it is found in the next fill.
  func fill(_ input: inout Input, _ source: Source) {
    while input.end < capacity && !input.eof {
      let n = source(buffer + input.end, capacity - input.end)
      if n > 0 {
        input.end += n
        statistics.bytes += Int64(n)
      } else {
        input.eof = true
        if n < 0 { input.error = Int32(-n) }
      }
    }
    onProgress?(statistics)
  }

  /// Doubles the buffer, keeping `buffer[0..<end]`: for a diff line longer than the buffer.
  func grow(keeping end: Int) {
    let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
    bigger.update(from: buffer, count: end)
    buffer.deallocate()
    buffer = bigger
    capacity *= 2
  }

  // MARK: - Plain text

  /// Scans text chunk by chunk. After each chunk, the bytes from the first position not yet
  /// examined as a key start (at most the last 127) move to the front and the rest is read.
  ///
  /// With `window` (a mapped file, all of it in the buffer), the same steps walk the buffer in
  /// windows of that size instead of reading chunks: each window's lines are counted while it is
  /// still in the cache, which the search, reading samples, has just brought it into.
  func scanText(name: String, _ input: inout Input, _ source: Source, window: Int? = nil) {
    var base = 0  // the offset in the input of buffer[0]
    var line = 1
    var lineStart = 0
    var counted = 0  // lines before `counted` are counted; lineStart is the line's offset
    var from = 0

    /// Counts lines in `buffer[counted - base ..< upTo]`.
    func countLines(upTo: Int) {
      let a = counted - base
      guard upTo > a else { return }
      let n = Self.countNewlines(buffer + a, upTo - a)
      if n > 0 {
        line += n
        var i = upTo - 1
        while buffer[i] != 0x0a { i -= 1 }
        lineStart = base + i + 1
      }
      counted = base + upTo
    }

    var from64 = 0  // the same for keys in base64, which need a longer window
    var to = window.map { min(input.end, $0) } ?? input.end
    while true {
      let final = window == nil ? input.eof : to == input.end
      let (hits, next, next64) = findAllKeys(from: from, from64: from64, to: to, final: final)
      for hit in hits {
        countLines(upTo: hit.at)
        findings.append(
          Finding(
            file: name, line: line, column: base + hit.at - lineStart + 1, keyID: hit.id, env: hit.env, form: hit.form))
      }
      if final { return }
      // A base64 key's group starts up to 3 characters before its prefix text.
      let keep = max(0, min(to, next, next64 - 3))
      countLines(upTo: keep)
      if let window {
        (from, from64, to) = (next, next64, min(input.end, keep + window))
        continue
      }
      buffer.update(from: buffer + keep, count: input.end - keep)
      base += keep
      input.end -= keep
      from = next - keep
      from64 = next64 - keep
      fill(&input, source)
      to = input.end
    }
  }

  /// The number of `\n` bytes in `b[0..<count]`, 64 bytes a step: each step adds the matches
  /// of four vectors to two sets of 16 byte-wide counters, which are summed every 127 steps,
  /// before they can overflow. About 50 GB/s on a chunk in cache: a chunk's lines are counted
  /// when it is dropped, while it is still there.
  static func countNewlines(_ b: UnsafePointer<UInt8>, _ count: Int) -> Int {
    let raw = UnsafeRawPointer(b)
    let newline = Lanes(repeating: 0x0a)
    @inline(__always) func ones(_ at: Int) -> Lanes {
      Lanes(repeating: 0).replacing(with: 1, where: raw.loadUnaligned(fromByteOffset: at, as: Lanes.self) .== newline)
    }
    var n = 0
    var k = 0
    while k &+ 64 <= count {
      let stop = min(count &- 64, k &+ 126 &* 64)
      var c0 = Lanes(repeating: 0)
      var c1 = Lanes(repeating: 0)
      while k <= stop {
        c0 &+= ones(k) &+ ones(k &+ 16)
        c1 &+= ones(k &+ 32) &+ ones(k &+ 48)
        k &+= 64
      }
      for i in 0..<16 { n &+= Int(c0[i]) &+ Int(c1[i]) }
    }
    while k < count {
      if b[k] == 0x0a { n += 1 }
      k += 1
    }
    return n
  }
}
