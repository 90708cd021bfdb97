import IVKeysCore

/// The fuzz target for the scanner's decoders (base64, UTF-16, key repair): the first byte of an
/// input picks how the rest is written before `ScannerCheck.problem` compares the scanner with
/// its brute-force oracles, so that random data reaches the decoders as often as plain text.
public enum ScannerFormsCheck {
  /// The text an input stands for: by its first byte less `0` (0x30, so that seeds read
  /// `0…`, `1…`) modulo 5, the rest as it is, in standard base64, in URL-safe base64, in UTF-16 LE
  /// or in UTF-16 BE with a byte order mark.
  public static func text(_ input: [UInt8]) -> [UInt8] {
    guard let mode = input.first else { return [] }
    let rest = Array(input.dropFirst())
    switch (mode &- UInt8(ascii: "0")) % 5 {
    case 1: return base64(rest, urlSafe: false)
    case 2: return base64(rest, urlSafe: true)
    case 3: return [0xff, 0xfe] + rest.flatMap { [$0, 0] }
    case 4: return [0xfe, 0xff] + rest.flatMap { [0, $0] }
    default: return rest
    }
  }

  /// A description of the first property the input breaks, or nil.
  public static func problem(in input: [UInt8]) -> String? { ScannerCheck.problem(in: text(input)) }

  /// `bytes` in base64 with `=` padding.
  public static func base64(_ bytes: [UInt8], urlSafe: Bool) -> [UInt8] {
    let alphabet = Array(
      ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + (urlSafe ? "-_" : "+/")).utf8)
    var out = [UInt8]()
    var i = 0
    while i < bytes.count {
      let n = min(3, bytes.count - i)
      var v = 0
      for k in 0..<3 { v = v << 8 | (k < n ? Int(bytes[i + k]) : 0) }
      for k in 0..<4 { out.append(k <= n ? alphabet[v >> (18 - 6 * k) & 63] : UInt8(ascii: "=")) }
      i += 3
    }
    return out
  }
}
