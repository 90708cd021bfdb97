/// The presented credential: a bare key, `Bearer <key>` or a whole `Authorization:` line.
public enum PresentedKey {
  /// The key text, or why there is none. Surrounding whitespace is ignored; the header name and
  /// the scheme are case-insensitive (RFC 9110); any scheme but Bearer is refused.
  public enum Extraction: Equatable {
    case key(String)
    case invalid(String)
  }

  public static func extract(_ text: String) -> Extraction {
    var text = text
    return text.withUTF8 { extract(bytes: $0) }
  }

  /// The same over UTF-8 bytes: a gateway calls this once per request, so no Characters.
  static func extract(bytes b: UnsafeBufferPointer<UInt8>) -> Extraction {
    func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d }
    var lo = 0
    var hi = b.count
    func trim() {
      while lo < hi && isSpace(b[lo]) { lo += 1 }
      while hi > lo && isSpace(b[hi - 1]) { hi -= 1 }
    }
    func lowercased(_ r: Range<Int>) -> [UInt8] { b[r].map { $0 >= 0x41 && $0 <= 0x5a ? $0 + 0x20 : $0 } }
    func text(_ r: Range<Int>) -> String { Text.escapeControl(String(decoding: b[r].prefix(20), as: UTF8.self)) }
    trim()
    if lo == hi { return .invalid("no key was presented") }
    let bearer = Array("bearer".utf8)
    if let colon = b[lo..<hi].firstIndex(of: UInt8(ascii: ":")), lowercased(lo..<colon) == Array("authorization".utf8) {
      lo = colon + 1
      trim()
      guard lo < hi else { return .invalid("the Authorization header is empty") }
      guard let space = b[lo..<hi].firstIndex(where: isSpace) else {
        return .invalid("the Authorization header has no Bearer token")
      }
      guard lowercased(lo..<space) == bearer else {
        return .invalid("the Authorization scheme is \(text(lo..<space)), not Bearer")
      }
      lo = space
      trim()
    } else if let space = b[lo..<hi].firstIndex(where: isSpace) {
      if hi - lo >= 3 && b[lo] == UInt8(ascii: "s") && b[lo + 1] == UInt8(ascii: "k") && b[lo + 2] == UInt8(ascii: "_")
      {
        return .invalid("expected a single key")
      }
      guard lowercased(lo..<space) == bearer else {
        return .invalid("the Authorization scheme is \(text(lo..<space)), not Bearer")
      }
      lo = space
      trim()
    }
    if b[lo..<hi].contains(where: isSpace) { return .invalid("expected a single key") }
    return .key(String(decoding: b[lo..<hi], as: UTF8.self))
  }
}
