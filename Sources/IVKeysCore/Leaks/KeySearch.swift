extension LeakScanner {
  // MARK: - The search for keys in the buffer

  /// A key found at a position of the buffer.
  struct Hit {
    let at: Int
    let id: String
    let env: KeyEnvironment
    let form: Form
  }

  /// The keys in `buffer[..<to]`, whole, damaged or in base64, in the order of their positions,
  /// and where `findKeys` and `findBase64Keys` would go on.
  func findAllKeys(from: Int, from64: Int, to end: Int, final: Bool) -> (hits: [Hit], next: Int, next64: Int) {
    var hits = [Hit]()
    let next = findKeys(from: from, to: end, final: final) { hits.append(Hit(at: $0, id: $1, env: $2, form: $3)) }
    let count = hits.count
    let next64 = findBase64Keys(from: from64, to: end, final: final) {
      hits.append(Hit(at: $0, id: $1, env: $2, form: $3))
    }
    if hits.count > count && count > 0 { hits.sort { $0.at < $1.at } }
    return (hits, next, next64)
  }

  /// Calls `found` for each key that starts in `buffer[from..<to]` and ends by `to`, in order,
  /// whole or damaged (`KeyRepair`). Returns the first position not yet examined as a key start:
  /// a key may still start there and end after `to`. `final` says that the text ends at `to`;
  /// otherwise a start is examined only when 92 bytes follow it, enough to see where a damaged
  /// key of up to 91 characters ends.
  ///
  /// Eight positions a step: three overlapping 8-byte loads compared bytewise give a mask of
  /// the positions where `sk_` starts, and every one of them is tried before the next load (code
  /// is full of `task_`, `mask_`, `disk_`). A quick look at the two `_` a key has at fixed
  /// places rules most of them out before `APIKey.parse` decides.
  func findKeys(
    from: Int, to end: Int, final: Bool, _ found: (Int, String, KeyEnvironment, Form) -> Void
  ) -> Int {
    let lastStart = final ? end - (APIKey.length - 1) : end - (APIKey.length + 2)
    guard from <= lastStart else { return max(from, lastStart + 1) }
    let b = UnsafePointer(buffer)
    let raw = UnsafeRawPointer(b)
    var next = from  // the first position a key may start at (past the last key found)

    @inline(__always) func tryKey(_ q: Int) {
      guard q >= next, b[q + 7] == UInt8(ascii: "_") else { return }
      if q + APIKey.length <= end && b[q + 40] == UInt8(ascii: "_") {
        let candidate = UnsafeBufferPointer(start: b + q, count: APIKey.length)
        if case .success(let key) = APIKey.parse(bytes: candidate) {
          let id = String(decoding: UnsafeBufferPointer(start: b + q + 8, count: APIKey.idLength), as: UTF8.self)
          found(q, id, key.env, .exact)
          next = q + APIKey.length
          return
        }
      }
      if let (key, length) = KeyRepair.find(b + q, available: end - q) {
        found(q, key.id, key.env, .damaged)
        next = q + length
      }
    }

    // Whole words while every lane is a possible start (k + 7 <= lastStart) and the loads stay
    // inside the buffer; the rest one position at a time.
    var k = from
    while k + 7 <= lastStart {
      var m =
        Self.matches(raw.loadUnaligned(fromByteOffset: k, as: UInt64.self), UInt8(ascii: "s"))
        & Self.matches(raw.loadUnaligned(fromByteOffset: k + 1, as: UInt64.self), UInt8(ascii: "k"))
        & Self.matches(raw.loadUnaligned(fromByteOffset: k + 2, as: UInt64.self), UInt8(ascii: "_"))
      while m != 0 {
        tryKey(k + m.trailingZeroBitCount / 8)
        m &= m - 1
      }
      k += 8
    }
    while k <= lastStart {
      if b[k] == UInt8(ascii: "s") && b[k + 1] == UInt8(ascii: "k") && b[k + 2] == UInt8(ascii: "_") { tryKey(k) }
      k += 1
    }
    return max(next, lastStart + 1)
  }
}
