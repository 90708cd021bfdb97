extension LeakScanner {
  // MARK: - UTF-16 text

  /// Whether `b[0..<count]` starts with a UTF-16 byte order mark: true for big-endian (`FE FF`),
  /// false for little-endian (`FF FE`), nil for neither.
  static func utf16ByteOrder(_ b: UnsafePointer<UInt8>, _ count: Int) -> Bool? {
    guard count >= 2 else { return nil }
    if b[0] == 0xfe && b[1] == 0xff { return true }
    if b[0] == 0xff && b[1] == 0xfe { return false }
    return nil
  }

  /// Turns UTF-16 text from a `Source` into UTF-8, so that keys (ASCII, one code unit a
  /// character) are found by the same search and lines and columns count the decoded text.
  /// A lone surrogate becomes U+FFFD, as Swift's `String(decoding:as: UTF16.self)` does; an odd
  /// last byte is dropped.
  final class UTF16Transcoder {
    let bigEndian: Bool
    let source: Source
    /// Raw bytes read and not yet decoded (at most one byte of a code unit is left over).
    var raw: [UInt8]
    /// UTF-8 decoded and not yet handed out, from `out[given...]`.
    var out = [UInt8]()
    var given = 0
    /// A high surrogate waiting for its low half.
    var high: UInt32?
    var eof: Bool
    var error: Int32?

    /// `first` is what was read before the byte order mark was seen, mark included.
    init(bigEndian: Bool, first: [UInt8], eof: Bool, error: Int32?, source: @escaping Source) {
      self.bigEndian = bigEndian
      self.source = source
      raw = Array(first.dropFirst(2))
      self.eof = eof
      self.error = error
    }

    /// The `Source` of the UTF-8 text.
    func read(_ p: UnsafeMutablePointer<UInt8>, _ count: Int) -> Int {
      while given == out.count {
        out.removeAll(keepingCapacity: true)
        given = 0
        decode()
        if out.isEmpty {
          if eof { return error.map { -Int($0) } ?? 0 }
          more()
        }
      }
      let n = min(count, out.count - given)
      out.withUnsafeBufferPointer { p.update(from: $0.baseAddress! + given, count: n) }
      given += n
      return n
    }

    /// Reads up to 64 KiB more from the source.
    private func more() {
      var chunk = [UInt8](repeating: 0, count: 1 << 16)
      let n = chunk.withUnsafeMutableBufferPointer { source($0.baseAddress!, $0.count) }
      if n > 0 {
        raw += chunk[0..<n]
      } else {
        eof = true
        if n < 0 { error = Int32(-n) }
      }
    }

    /// Decodes the whole code units in `raw` into `out`.
    private func decode() {
      let units = raw.count / 2
      for i in 0..<units {
        let a = UInt32(raw[2 * i])
        let b = UInt32(raw[2 * i + 1])
        let u = bigEndian ? a << 8 | b : b << 8 | a
        if let h = high {
          high = nil
          if (0xdc00...0xdfff).contains(u) {
            emit(0x10000 + ((h - 0xd800) << 10) + (u - 0xdc00))
            continue
          }
          emit(0xfffd)
        }
        switch u {
        case 0xd800...0xdbff: high = u
        case 0xdc00...0xdfff: emit(0xfffd)
        default: emit(u)
        }
      }
      raw.removeFirst(units * 2)
      if eof && high != nil {
        high = nil
        emit(0xfffd)
      }
    }

    /// Appends one code point as UTF-8.
    private func emit(_ c: UInt32) {
      switch c {
      case 0..<0x80:
        out.append(UInt8(c))
      case 0x80..<0x800:
        out += [UInt8(0xc0 | c >> 6), UInt8(0x80 | c & 0x3f)]
      case 0x800..<0x10000:
        out += [UInt8(0xe0 | c >> 12), UInt8(0x80 | c >> 6 & 0x3f), UInt8(0x80 | c & 0x3f)]
      default:
        out += [
          UInt8(0xf0 | c >> 18), UInt8(0x80 | c >> 12 & 0x3f), UInt8(0x80 | c >> 6 & 0x3f), UInt8(0x80 | c & 0x3f),
        ]
      }
    }
  }
}
