import Glibc

/// An IPv4 or IPv6 address, 4 or 16 bytes in network order.
public struct IPAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
  public let bytes: [UInt8]

  public var isIPv4: Bool { bytes.count == 4 }

  /// Parses an address strictly: IPv4 as four decimal octets without leading zeros (`127.1`,
  /// `010.0.0.1` and `1.2.3.256` are errors); IPv6 as RFC 4291 text, without a zone (`%eth0`).
  public static func parse(_ text: String) throws(ValueError) -> IPAddress {
    if text.contains(":") {
      guard !text.contains("%") else { throw ValueError("zone indices (%…) are not allowed") }
      guard text.utf8.count <= 45 else { throw ValueError("not an IPv6 address") }
      var out = in6_addr()
      let ok = text.withCString { inet_pton(AF_INET6, $0, &out) }
      guard ok == 1 else { throw ValueError("not an IPv6 address") }
      let bytes = withUnsafeBytes(of: &out) { Array($0) }
      return IPAddress(bytes: bytes)
    }
    return IPAddress(bytes: try parseIPv4(text))
  }

  private static func parseIPv4(_ text: String) throws(ValueError) -> [UInt8] {
    let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    guard parts.count == 4 else {
      throw ValueError(
        parts.count < 4
          ? "an IPv4 address has four octets (short forms like 127.1 are not accepted)"
          : "an IPv4 address has four octets")
    }
    var bytes = [UInt8]()
    for p in parts {
      guard !p.isEmpty, p.count <= 3, p.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
        throw ValueError("an IPv4 octet is a decimal number from 0 to 255")
      }
      guard !(p.count > 1 && p.first == UInt8(ascii: "0")) else {
        throw ValueError("octet with a leading zero (ambiguous: octal or decimal?)")
      }
      let v = p.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
      guard v <= 255 else { throw ValueError("an IPv4 octet is a decimal number from 0 to 255") }
      bytes.append(UInt8(v))
    }
    return bytes
  }

  /// Canonical text: dotted quad, or RFC 5952 IPv6 via `inet_ntop`.
  public var description: String {
    if isIPv4 {
      // Dotted quad written digit by digit: this runs for every decision with an address.
      var text = [UInt8]()
      text.reserveCapacity(15)
      for (i, b) in bytes.enumerated() {
        if i > 0 { text.append(UInt8(ascii: ".")) }
        if b >= 100 { text.append(48 + b / 100) }
        if b >= 10 { text.append(48 + b / 10 % 10) }
        text.append(48 + b % 10)
      }
      return String(decoding: text, as: UTF8.self)
    }
    var addr = in6_addr()
    withUnsafeMutableBytes(of: &addr) { $0.copyBytes(from: bytes) }
    var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    guard inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
    return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Whether this is an IPv4-mapped IPv6 address, `::ffff:a.b.c.d` (RFC 4291, 2.5.5.2).
  public var isMapped: Bool {
    bytes.count == 16 && bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff
  }

  /// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as its IPv4 address; others unchanged.
  public var unmapped: IPAddress { isMapped ? IPAddress(bytes: Array(bytes[12..<16])) : self }

  /// The text usage and alerts record an address under: an IPv4-mapped IPv6 address as its IPv4
  /// address (the same client, however the gateway wrote it), others canonical.
  public var monitoringText: String { unmapped.description }

  /// An IPv4 address as its IPv4-mapped IPv6 address; others unchanged.
  public var mapped: IPAddress {
    isIPv4 ? IPAddress(bytes: [UInt8](repeating: 0, count: 10) + [0xff, 0xff] + bytes) : self
  }
}

/// An allowlist entry: one address, or a CIDR range whose host bits are zero.
public struct IPRange: Equatable, Hashable, Sendable, CustomStringConvertible {
  public let address: IPAddress
  /// The prefix length; 32 or 128 for a single address.
  public let prefix: Int
  /// Whether the entry was written as a bare address (printed without `/N`).
  public let isSingle: Bool

  /// Parses `ADDR` or `ADDR/N` strictly: a prefix past the address width, a prefix with a
  /// leading zero and a range with host bits set (`10.0.0.1/8`) are errors.
  public static func parse(_ text: String) throws(ValueError) -> IPRange {
    guard !text.isEmpty else { throw ValueError("empty address") }
    let pieces = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
    let address = try IPAddress.parse(String(pieces[0]))
    let width = address.bytes.count * 8
    guard pieces.count == 2 else { return IPRange(address: address, prefix: width, isSingle: true) }
    let p = pieces[1]
    guard !p.isEmpty, p.count <= 3, p.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
      !(p.count > 1 && p.first == "0"), let prefix = Int(p)
    else { throw ValueError("a prefix length is a decimal number without leading zeros") }
    guard prefix <= width else { throw ValueError("prefix /\(prefix) is longer than the \(width)-bit address") }
    for bit in prefix..<width where address.bytes[bit / 8] & (0x80 >> UInt8(bit % 8)) != 0 {
      let network = IPRange.masked(address, prefix)
      throw ValueError("host bits are set; did you mean \(network)/\(prefix)?")
    }
    return IPRange(address: address, prefix: prefix, isSingle: false)
  }

  private static func masked(_ a: IPAddress, _ prefix: Int) -> IPAddress {
    var b = a.bytes
    for bit in prefix..<(b.count * 8) { b[bit / 8] &= ~(0x80 >> UInt8(bit % 8)) }
    return IPAddress(bytes: b)
  }

  /// Whether `ip` falls in this range. An IPv4 address and its IPv4-mapped IPv6 form
  /// (`::ffff:a.b.c.d`) are one client: a mapped address matches IPv4 entries, and an IPv4
  /// address matches entries within the mapped space, `::ffff:a.b.c.d/n` with n ≥ 96. Wider
  /// IPv6 entries (`::/0`) stay IPv6's alone.
  public func contains(_ ip: IPAddress) -> Bool {
    let candidate: IPAddress
    if address.isIPv4 {
      candidate = ip.unmapped
    } else if ip.isIPv4 && prefix >= 96 && address.isMapped {
      candidate = ip.mapped
    } else {
      candidate = ip
    }
    let mine = address
    guard candidate.bytes.count == mine.bytes.count else { return false }
    var bits = prefix
    var i = 0
    while bits >= 8 {
      if candidate.bytes[i] != mine.bytes[i] { return false }
      bits -= 8
      i += 1
    }
    if bits > 0 {
      let mask = UInt8(0xff) << UInt8(8 - bits)
      if candidate.bytes[i] & mask != mine.bytes[i] & mask { return false }
    }
    return true
  }

  /// The family whose every address this range admits: "IPv4" for `0.0.0.0/0` and
  /// `::ffff:0.0.0.0/96`, "IPv6" for `::/0`; nil for a range that leaves some out.
  public var admitsEveryAddressOf: String? {
    if prefix == 0 { return address.isIPv4 ? "IPv4" : "IPv6" }
    if prefix == 96 && address.isMapped { return "IPv4" }
    return nil
  }

  /// Canonical text: `10.0.0.0/8`, `2001:db8::/32`, or a bare address.
  public var description: String { isSingle ? address.description : "\(address)/\(prefix)" }
}
