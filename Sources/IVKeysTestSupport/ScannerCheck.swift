import IVKeysCore

/// The properties the leak scanner must keep on any input, for its fuzz target and the test that
/// replays the fuzz seeds: it finds exactly the keys a slow byte-by-byte search finds, at the
/// same lines and columns, whatever the chunk size.
public enum ScannerCheck {
  /// A description of the first property `text` breaks, or nil.
  public static func problem(in text: [UInt8]) -> String? {
    func run(chunk: Int, diff: Bool) -> [LeakScanner.Finding] {
      let scanner = LeakScanner(chunkSize: chunk)
      var offset = 0
      _ = scanner.scan(name: "t", detectDiff: diff, skipBinary: false) { p, count in
        let n = min(count, text.count - offset)
        for i in 0..<n { p[i] = text[offset + i] }
        offset += n
        return n
      }
      return scanner.findings
    }
    let small = run(chunk: 2 * APIKey.length, diff: false)
    guard small == run(chunk: LeakScanner.defaultChunkSize, diff: false) else {
      return "chunk size changed the findings"
    }
    // The slow, plain way: try every `sk_`, counting lines and columns byte by byte.
    var expected = [LeakScanner.Finding]()
    var line = 1
    var lineStart = 0
    for i in text.indices {
      if text[i] == UInt8(ascii: "\n") {
        line += 1
        lineStart = i + 1
      } else if text[i] == UInt8(ascii: "s"), i + APIKey.length <= text.count,
        case .success(let key) = text[i..<(i + APIKey.length)].withUnsafeBufferPointer({ APIKey.parse(bytes: $0) })
      {
        expected.append(
          LeakScanner.Finding(file: "t", line: line, column: i - lineStart + 1, keyID: key.id, env: key.env))
      }
    }
    guard small == expected else { return "found \(small), expected \(expected)" }
    // As a diff: no crash, and every id found is one that occurs in the input.
    for f in run(chunk: 2 * APIKey.length, diff: true) {
      let id = Array(f.keyID.utf8)
      guard text.count >= id.count,
        (0...(text.count - id.count)).contains(where: { text[$0..<($0 + id.count)].elementsEqual(id) })
      else { return "diff finding with an id not in the input: \(f)" }
    }
    return nil
  }
}
