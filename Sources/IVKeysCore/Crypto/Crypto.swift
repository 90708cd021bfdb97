import COpenSSL

/// The few primitives ivkeys needs: the operating system's CSPRNG, and from OpenSSL's libcrypto
/// HMAC-SHA256 and a constant-time comparison.
public enum Crypto {
  /// `count` bytes from the operating system's CSPRNG: getrandom(2), through `ivkeys_os_random`
  /// in COpenSSL's shim.h, which retries on EINTR and on short reads (see there for why not
  /// RAND_bytes). A failure is never papered over with weaker randomness: it throws, and the
  /// bytes are never handed out.
  public static func randomBytes(_ count: Int) throws(IVKeysError) -> [UInt8] {
    var rc: Int32 = 0
    // Not zeroed first: getrandom fills every byte, or the array is thrown away.
    let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      rc = ivkeys_os_random(buffer.baseAddress, count)
      initialized = count
    }
    guard rc == 1 else { throw .crypto("getrandom failed: the system random number generator is unavailable") }
    return bytes
  }

  /// HMAC-SHA256 of `message` keyed with `key`: 32 bytes.
  public static func hmacSHA256(key: [UInt8], message: some Collection<UInt8>) -> [UInt8] {
    let k = HMACKey(key)
    if let r = message.withContiguousStorageIfAvailable({ k.mac(UnsafeRawBufferPointer($0)) }) { return r }
    return k.mac(Array(message))
  }

  /// HMAC-SHA256 of a string's UTF-8 bytes with a keyed context made once (`HMACKey`).
  public static func hmacSHA256(key: HMACKey, string: String) -> [UInt8] {
    var string = string
    return string.withUTF8 { key.mac(UnsafeRawBufferPointer($0)) }
  }

  /// HMAC-SHA256 of a string's UTF-8 bytes.
  public static func hmacSHA256(key: [UInt8], string: String) -> [UInt8] {
    var string = string
    return string.withUTF8 { hmacSHA256(key: key, message: $0) }
  }

  /// SHA-256 of `bytes`: 32 bytes (`ivkeys_sha256` in shim.h: not EVP). Keyless: for fingerprints of public data (the schema, a
  /// retired secret version's audit entries), never for anything an attacker must not forge alone.
  public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: 32) { out, count in
      bytes.withUnsafeBufferPointer { ivkeys_sha256($0.baseAddress, $0.count, out.baseAddress) }
      count = 32
    }
  }

  /// Compares two byte strings in time that depends only on their length (`CRYPTO_memcmp`).
  public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return a.withUnsafeBytes { pa in
      b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 }
    }
  }

  /// Lowercase hexadecimal.
  public static func hex(_ bytes: some Sequence<UInt8>) -> String {
    var out = [UInt8]()
    out.reserveCapacity(64)
    for b in bytes {
      out.append(hexDigits[Int(b >> 4)])
      out.append(hexDigits[Int(b & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The digits of `hex`, made once rather than per call (it runs once per audit entry).
  private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

  /// Parses lowercase or uppercase hex; nil for anything else.
  public static func unhex(_ text: String) -> [UInt8]? {
    let chars = Array(text.utf8)
    guard chars.count % 2 == 0 else { return nil }
    func value(_ c: UInt8) -> UInt8? {
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
      default: return nil
      }
    }
    var out = [UInt8]()
    out.reserveCapacity(chars.count / 2)
    var i = 0
    while i < chars.count {
      guard let hi = value(chars[i]), let lo = value(chars[i + 1]) else { return nil }
      out.append(hi << 4 | lo)
      i += 2
    }
    return out
  }
}

/// An HMAC-SHA256 key prepared once (RFC 2104 over libcrypto's SHA-256; see COpenSSL's shim.h
/// for why not EVP): each message then costs two SHA-256 finalisations and no allocation.
public final class HMACKey: @unchecked Sendable {
  /// The prepared states, written once by `init` and only read after: several threads may MAC
  /// with one key at once (`SealCheckBatch`).
  private let state: UnsafeMutablePointer<ivkeys_hmac_sha256_key>

  public init(_ key: [UInt8]) {
    state = .allocate(capacity: 1)
    state.initialize(to: ivkeys_hmac_sha256_key())
    key.withUnsafeBufferPointer { ivkeys_hmac_sha256_init(state, $0.baseAddress, $0.count) }
  }

  deinit {
    OPENSSL_cleanse(state, MemoryLayout<ivkeys_hmac_sha256_key>.size)
    state.deallocate()
  }

  /// The 32-byte MAC of `message`.
  public func mac(_ message: UnsafeRawBufferPointer) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: 32) { out, count in
      ivkeys_hmac_sha256(
        state, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count, out.baseAddress)
      count = 32
    }
  }

  /// The MAC of `message` into 32 bytes at `out`.
  public func mac(_ message: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) {
    ivkeys_hmac_sha256(state, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count, out)
  }

  /// The MAC of a byte array.
  public func mac(_ message: [UInt8]) -> [UInt8] { message.withUnsafeBytes { mac($0) } }
}
