import IVKeysCore

/// The properties the leak scanner must keep on any input, for its fuzz target and the test that
/// replays the fuzz seeds: it finds exactly the keys a slow byte-by-byte search finds, at the
/// same lines and columns, whatever the chunk size.
public enum ScannerCheck {
  /// The findings of a scan of `input`, read in `chunk`-byte pieces.
  public static func findings(
    in input: [UInt8], chunk: Int = LeakScanner.defaultChunkSize, diff: Bool = false
  ) -> [LeakScanner.Finding] {
    let scanner = LeakScanner(chunkSize: chunk)
    var offset = 0
    _ = scanner.scan(name: "t", detectDiff: diff, skipBinary: false) { p, count in
      let n = min(count, input.count - offset)
      for i in 0..<n { p[i] = input[offset + i] }
      offset += n
      return n
    }
    return scanner.findings
  }

  /// A description of the first property `text` breaks, or nil.
  public static func problem(in input: [UInt8]) -> String? {
    func run(chunk: Int, diff: Bool) -> [LeakScanner.Finding] { findings(in: input, chunk: chunk, diff: diff) }
    let small = run(chunk: 2 * APIKey.length, diff: false)
    guard small == run(chunk: LeakScanner.defaultChunkSize, diff: false) else {
      return "chunk size changed the findings"
    }
    // Text with a UTF-16 byte order mark is expected to be read as Swift decodes it.
    let text = decodedUTF16(input) ?? input
    // The slow, plain way: try every `sk_`; where no whole key starts, try every single edit of
    // a damaged one (`bruteForceRepair`); decode base64 from every position
    // (`bruteForceBase64`); then count lines and columns byte by byte.
    var found = [(at: Int, key: APIKey, form: LeakScanner.Form)]()
    var next = 0
    for i in text.indices where i >= next && text[i] == UInt8(ascii: "s") {
      if i + APIKey.length <= text.count,
        case .success(let key) = text[i..<(i + APIKey.length)].withUnsafeBufferPointer({ APIKey.parse(bytes: $0) })
      {
        found.append((i, key, .exact))
        next = i + APIKey.length
      } else if let (key, length) = bruteForceRepair(text, at: i) {
        found.append((i, key, .damaged))
        next = i + length
      }
    }
    found += bruteForceBase64(text).map { ($0.at, $0.key, .base64) }
    found.sort { $0.at < $1.at }
    var expected = [LeakScanner.Finding]()
    var line = 1
    var lineStart = 0
    var counted = 0
    for f in found {
      for i in counted..<f.at where text[i] == UInt8(ascii: "\n") {
        line += 1
        lineStart = i + 1
      }
      counted = f.at
      expected.append(
        LeakScanner.Finding(
          file: "t", line: line, column: f.at - lineStart + 1, keyID: f.key.id, env: f.key.env, form: f.form))
    }
    guard small == expected else { return "found \(small), expected \(expected)" }
    // As a diff: no crash, and every id found is one that occurs in the input.
    for f in run(chunk: 2 * APIKey.length, diff: true) {
      if f.form == .base64 {
        guard bruteForceBase64(text).contains(where: { $0.key.id == f.keyID }) else {
          return "diff finding with an id not in the input's base64: \(f)"
        }
        continue
      }
      if f.form == .damaged {
        // A damaged key's id is the repaired one: some run in the input must repair to it.
        guard text.indices.contains(where: { bruteForceRepair(text, at: $0)?.0.id == f.keyID }) else {
          return "diff finding with an id no run in the input repairs to: \(f)"
        }
        continue
      }
      let id = Array(f.keyID.utf8)
      guard text.count >= id.count,
        (0...(text.count - id.count)).contains(where: { text[$0..<($0 + id.count)].elementsEqual(id) })
      else { return "diff finding with an id not in the input: \(f)" }
    }
    return nil
  }

  /// The damaged key at `text[i...]` found the slow way: the run of base62 digits and `_` after
  /// an intact `sk_live_` or `sk_test_`, if it is 89 to 91 long, with every possible single
  /// substitution, insertion and deletion after the prefix parsed; a key when exactly one
  /// distinct key comes out.
  public static func bruteForceRepair(_ text: [UInt8], at i: Int) -> (APIKey, Int)? {
    let prefixes = [Array("sk_live_".utf8), Array("sk_test_".utf8)]
    guard prefixes.contains(where: { text[i...].starts(with: $0) }) else { return nil }
    let keyByte = { (c: UInt8) in Base62.value(of: c) != nil || c == UInt8(ascii: "_") }
    var end = i + 8
    while end < text.count && keyByte(text[end]) { end += 1 }
    let run = Array(text[i..<end])
    guard (89...91).contains(run.count) else { return nil }
    let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_".utf8)
    var keys = Set<String>()
    func consider(_ c: [UInt8]) {
      if case .success(let k) = APIKey.parse(String(decoding: c, as: UTF8.self)) { keys.insert(k.string) }
    }
    for p in 8...run.count {
      if p < run.count {
        var d = run
        d.remove(at: p)
        consider(d)
      }
      for a in alphabet {
        var ins = run
        ins.insert(a, at: p)
        consider(ins)
        if p < run.count {
          var sub = run
          sub[p] = a
          consider(sub)
        }
      }
    }
    guard keys.count == 1, let only = keys.first, case .success(let key) = APIKey.parse(only) else { return nil }
    return (key, run.count)
  }

  /// Keys in base64 found the slow way: from every position, up to 124 characters of either
  /// alphabet decoded (padding ends it), and a key tried at byte 0, 1 and 2 of what comes out;
  /// each reported where the first character decided by the key alone is (0, 2 or 3 characters
  /// after the group start at alignment 0, 1, 2).
  public static func bruteForceBase64(_ text: [UInt8]) -> [(at: Int, key: APIKey)] {
    let standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    let urlSafe = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    var value = [Int?](repeating: nil, count: 256)
    for (v, c) in standard.enumerated() { value[Int(c)] = v }
    for (v, c) in urlSafe.enumerated() { value[Int(c)] = v }
    var out = [(at: Int, key: APIKey)]()
    for start in text.indices where value[Int(text[start])] != nil {
      var bits = [Bool]()
      for c in text[start..<min(text.count, start + 124)] {
        guard let v = value[Int(c)] else { break }
        for k in stride(from: 5, through: 0, by: -1) { bits.append(v >> k & 1 == 1) }
      }
      let bytes = stride(from: 0, to: bits.count - 7, by: 8).map { i in
        bits[i..<(i + 8)].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
      }
      for a in 0..<3 where bytes.count >= a + APIKey.length {
        let candidate = String(decoding: bytes[a..<(a + APIKey.length)], as: UTF8.self)
        if case .success(let key) = APIKey.parse(candidate) { out.append((start + [0, 2, 3][a], key)) }
      }
    }
    return out
  }

  /// `bytes` after a UTF-16 byte order mark, decoded by Swift's own decoder into UTF-8 (an odd
  /// last byte dropped); nil without a mark.
  public static func decodedUTF16(_ bytes: [UInt8]) -> [UInt8]? {
    guard bytes.count >= 2, bytes[0] ^ bytes[1] == 0x01, bytes[0] & 0xfe == 0xfe else { return nil }
    let bigEndian = bytes[0] == 0xfe
    let units = stride(from: 2, to: bytes.count - 1, by: 2).map { i -> UInt16 in
      let (high, low) = bigEndian ? (bytes[i], bytes[i + 1]) : (bytes[i + 1], bytes[i])
      return UInt16(high) << 8 | UInt16(low)
    }
    return Array(String(decoding: units, as: UTF16.self).utf8)
  }
}
