import Glibc

/// Reads lines from a file descriptor, waiting at most a given time for the next one.
struct LineReader {
  /// The longest line kept; a longer one is reported as `tooLong` and skipped, so a stream
  /// without newlines cannot grow memory without bound.
  static let maximumLength = 1 << 20

  enum Event {
    case line(ArraySlice<UInt8>)
    case tooLong
    case timeout
    case end
    case failed(Int32)
  }

  let fd: Int32
  private var buffer = [UInt8]()
  private var start = 0
  private var eof = false
  private var skipping = false

  init(fd: Int32) {
    self.fd = fd
    buffer.reserveCapacity(1 << 16)
  }

  /// The next complete line already read, without reading more.
  mutating func bufferedLine() -> ArraySlice<UInt8>? {
    while let nl = buffer[start...].firstIndex(of: 0x0a) {
      let line = buffer[start..<nl]
      start = nl + 1
      if skipping {
        skipping = false
        continue
      }
      return line
    }
    return nil
  }

  /// Whether another line can be had without waiting: one is buffered or input is readable.
  mutating func inputWaiting() -> Bool {
    if eof || buffer[start...].contains(0x0a) { return true }
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, 0) > 0
  }

  /// The next line without its newline; `timeout` when none arrived in time (-1 waits forever)
  /// or a signal interrupted the wait.
  mutating func next(timeoutMilliseconds: Int32) -> Event {
    while true {
      if let line = bufferedLine() { return line.count > LineReader.maximumLength ? .tooLong : .line(line) }
      if buffer.count - start > LineReader.maximumLength {
        buffer.removeAll(keepingCapacity: true)
        start = 0
        if !skipping {
          skipping = true
          return .tooLong
        }
      }
      if eof {
        if start < buffer.count && !skipping {
          let line = buffer[start...]
          start = buffer.count
          return line.count > LineReader.maximumLength ? .tooLong : .line(line)
        }
        return .end
      }
      if start > 0 {
        buffer.removeSubrange(0..<start)
        start = 0
      }
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&p, 1, timeoutMilliseconds)
      if ready < 0 {
        if errno == EINTR { return .timeout }
        return .failed(errno)
      }
      if ready == 0 { return .timeout }
      let old = buffer.count
      buffer.append(contentsOf: repeatElement(0, count: 1 << 16))
      let n = buffer[old...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        buffer.removeSubrange(old...)
        if errno == EINTR { return .timeout }
        if errno == EAGAIN { continue }
        return .failed(errno)
      }
      buffer.removeSubrange((old + n)...)
      if n == 0 { eof = true }
    }
  }
}
