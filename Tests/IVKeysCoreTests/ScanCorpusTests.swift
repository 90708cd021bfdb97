import Foundation
import Testing

@testable import IVKeysCore

/// A few megabytes of generated text with keys planted in every form and decoys around them: the
/// scan must find exactly the planted keys, in their forms, and nothing else.
@Suite("scan corpus")
struct ScanCorpusTests {
  static let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

  /// `n` random base62 characters.
  static func random(_ n: Int, _ rng: inout some RandomNumberGenerator) -> String {
    String((0..<n).map { _ in digits.randomElement(using: &rng)! })
  }

  /// A base62 character other than `c`.
  static func other(_ c: Character) -> Character { c == "7" ? "Q" : "7" }

  /// What a scan of `text` found, as (line, key id, form).
  static func scan(_ text: [UInt8]) -> [String] {
    let scanner = LeakScanner()
    var offset = 0
    _ = scanner.scan(name: "corpus", detectDiff: false, skipBinary: false) { p, count in
      let n = min(count, text.count - offset)
      text.withUnsafeBufferPointer { p.update(from: $0.baseAddress! + offset, count: n) }
      offset += n
      return n
    }
    return scanner.findings.map { "\($0.line) \($0.keyID) \($0.form.rawValue)" }
  }

  @Test func findsExactlyThePlantedKeys() throws {
    var rng = SystemRandomNumberGenerator()
    let filler = [
      "let task_id = mask_value(disk_size)", "# sk_ is the prefix of a secret key", "ask_live_questions()",
      "data: aGVsbG8gd29ybGQ=", "{\"integrity\": \"sha512-\(Self.random(86, &rng))==\"}", "sk_test_", "",
    ]
    var lines = [String]()
    var planted = [String]()
    func plant(_ line: String, _ key: APIKey?, _ form: LeakScanner.Form) {
      lines.append(line)
      if let key { planted.append("\(lines.count) \(key.id) \(form.rawValue)") }
    }
    var size = 0
    var i = 0
    while size < 3_000_000 {
      for _ in 0..<100 {
        let l = filler.randomElement(using: &rng)! + " " + Self.random(Int.random(in: 0..<60, using: &rng), &rng)
        lines.append(l)
        size += l.utf8.count + 1
      }
      let key = try APIKey.generate(env: i % 2 == 0 ? .live : .test)
      var chars = Array(key.string)
      let at = Int.random(in: 8..<90, using: &rng)
      let data = [UInt8](repeating: 0x3e, count: i % 3) + Array(key.string.utf8)
      switch i % 7 {
      case 0: plant("API_KEY=\"\(key.string)\"", key, .exact)
      case 1:
        chars[at] = Self.other(chars[at])
        plant("typo: \(String(chars))", key, .damaged)
      case 2:
        chars.remove(at: at)
        plant("cut: '\(String(chars))'", key, .damaged)
      case 3:
        chars.insert(Self.other(chars[at]), at: at)
        plant("extra: \(String(chars)) ", key, .damaged)
      case 4: plant("  API_KEY: \(Data(data).base64EncodedString())", key, .base64)
      case 5:
        let url = Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-")
          .replacingOccurrences(of: "/", with: "_")
        plant("url=\(url)", key, .base64)
      default:
        // Decoys: random key shapes of each length, a key two edits off (also in base64), and
        // Stripe keys of other lengths.
        for n in 89...91 {
          plant("sk_\(i % 2 == 0 ? "live" : "test")_\(Self.random(32, &rng))_\(Self.random(n - 41, &rng))", nil, .exact)
        }
        chars[at] = Self.other(chars[at])
        let b = at < 60 ? at + 20 : at - 30
        chars[b] = Self.other(chars[b])
        plant("twice: \(String(chars))", nil, .exact)
        plant("b64: \(Data(String(chars).utf8).base64EncodedString())", nil, .exact)
        plant("STRIPE=sk_live_51\(Self.random(Int.random(in: 80...105, using: &rng), &rng))", nil, .exact)
        plant("sk_live_\(Self.random(82, &rng))", nil, .exact)
      }
      i += 1
    }
    let text = Array(lines.joined(separator: "\n").utf8)
    #expect(planted.count > 300)
    #expect(Self.scan(text) == planted)
    // The same in UTF-16: the same findings on the same lines.
    var utf16: [UInt8] = [0xff, 0xfe]
    utf16.reserveCapacity(2 * text.count + 2)
    for u in String(decoding: text, as: UTF8.self).utf16 { utf16 += [UInt8(u & 0xff), UInt8(u >> 8)] }
    #expect(Self.scan(utf16) == planted)
  }
}
