import Testing

@testable import IVKeysCore

/// The parse error's reason, or nil when `text` parses.
private func rangeError(_ text: String) -> String? {
  do {
    _ = try IPRange.parse(text)
    return nil
  } catch {
    return error.reason
  }
}

private func ip(_ text: String) throws -> IPAddress { try IPAddress.parse(text) }

@Suite("IP addresses and CIDR ranges")
struct IPRangeTests {
  // MARK: - Accepted

  @Test(
    "accepted entries and their canonical text",
    arguments: [
      ("10.0.0.0/8", "10.0.0.0/8"),
      ("192.168.1.1", "192.168.1.1"),
      ("0.0.0.0/0", "0.0.0.0/0"),
      ("255.255.255.255/32", "255.255.255.255/32"),
      ("172.16.0.0/12", "172.16.0.0/12"),
      ("::1", "::1"),
      ("::", "::"),
      ("::/0", "::/0"),
      ("2001:db8::/32", "2001:db8::/32"),
      ("2001:0db8:0000::/32", "2001:db8::/32"),
      ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
      ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
      ("fe80::/10", "fe80::/10"),
      ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
    ])
  func accepted(input: String, canonical: String) throws {
    let range = try IPRange.parse(input)
    #expect(range.description == canonical)
  }

  @Test("a bare address is a single-address range of full width")
  func bareAddressPrefix() throws {
    let v4 = try IPRange.parse("192.168.1.1")
    #expect(v4.prefix == 32)
    #expect(v4.address.bytes == [192, 168, 1, 1])
    #expect(v4.address.isIPv4)
    let v6 = try IPRange.parse("::1")
    #expect(v6.prefix == 128)
    #expect(v6.address.bytes == [UInt8](repeating: 0, count: 15) + [1])
    #expect(!v6.address.isIPv4)
    let net = try IPRange.parse("10.0.0.0/8")
    #expect(net.prefix == 8)
    #expect(net.address.bytes == [10, 0, 0, 0])
  }

  @Test("IPv4-mapped IPv6 bytes")
  func mappedBytes() throws {
    let a = try ip("::ffff:10.0.0.1")
    #expect(a.bytes == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1])
    #expect(a.unmapped.bytes == [10, 0, 0, 1])
    #expect(try ip("2001:db8::1").unmapped == ip("2001:db8::1"))
  }

  // MARK: - Refused

  @Test(
    "strict parsing refuses guesses",
    arguments: [
      "010.0.0.1",  // leading zero: octal or decimal?
      "10.0.0.01",
      "00.0.0.0",
      "127.1",  // short form
      "127.0.1",
      "1.2.3",
      "1.2.3.4.5",
      "1.2.3.256",
      "256.0.0.0",
      "1.2.3.4/33",
      "1.2.3.4/-1",
      "1.2.3.4/",
      "1.2.3.4/08",
      "10.0.0.0/08",
      "1.2.3.4/32/32",
      "1.2.3.4/ 32",
      "2001:db8::/129",
      "2001:db8::/0032",
      "",
      " 1.2.3.4",
      "1.2.3.4 ",
      "1.2.3.-4",
      "+1.2.3.4",
      "1..2.3",
      "0x7f.0.0.1",
      "1.2.3.4a",
      "fe80::1%eth0",
      "fe80::1%1",
      "2001:db8:::1",
      "1:2:3:4:5:6:7:8:9",
      "2001:db8::g",
      "::ffff:010.0.0.1",
      "/8",
      "localhost",
    ])
  func refused(input: String) {
    #expect(rangeError(input) != nil, "\(input) was accepted")
  }

  @Test("host bits set is an error that suggests the network")
  func hostBitsSet() throws {
    let reason = try #require(rangeError("10.0.0.1/8"))
    #expect(reason.contains("10.0.0.0/8"), "\(reason)")
    let reason2 = try #require(rangeError("192.168.1.77/24"))
    #expect(reason2.contains("192.168.1.0/24"), "\(reason2)")
    let reason6 = try #require(rangeError("2001:db8::1/32"))
    #expect(reason6.contains("2001:db8::/32"), "\(reason6)")
    #expect(rangeError("10.0.0.1/32") == nil)
    // 10 = 0b00001010: /7 leaves only zero host bits, /6 leaves the 2s bit set.
    #expect(rangeError("10.0.0.0/7") == nil)
    #expect(rangeError("10.0.0.0/6") != nil)
  }

  @Test("short forms name the problem")
  func shortFormMessage() throws {
    let reason = try #require(rangeError("127.1"))
    #expect(reason.contains("four octets"), "\(reason)")
  }

  // MARK: - contains

  @Test("IPv4 ranges contain their addresses and nothing else")
  func containsIPv4() throws {
    let ten = try IPRange.parse("10.0.0.0/8")
    #expect(ten.contains(try ip("10.1.2.3")))
    #expect(ten.contains(try ip("10.0.0.0")))
    #expect(ten.contains(try ip("10.255.255.255")))
    #expect(!ten.contains(try ip("11.0.0.0")))
    #expect(!ten.contains(try ip("9.255.255.255")))

    let slash20 = try IPRange.parse("172.16.16.0/20")
    #expect(slash20.contains(try ip("172.16.31.255")))
    #expect(!slash20.contains(try ip("172.16.32.0")))
    #expect(!slash20.contains(try ip("172.16.15.255")))

    let single = try IPRange.parse("192.168.1.1")
    #expect(single.contains(try ip("192.168.1.1")))
    #expect(!single.contains(try ip("192.168.1.2")))
  }

  @Test("IPv6 ranges contain their addresses and nothing else")
  func containsIPv6() throws {
    let doc = try IPRange.parse("2001:db8::/32")
    #expect(doc.contains(try ip("2001:db8::1")))
    #expect(doc.contains(try ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")))
    #expect(!doc.contains(try ip("2001:db9::1")))
    #expect(!doc.contains(try ip("::1")))

    let linkLocal = try IPRange.parse("fe80::/10")
    #expect(linkLocal.contains(try ip("febf::1")))
    #expect(!linkLocal.contains(try ip("fec0::1")))

    let loopback = try IPRange.parse("::1")
    #expect(loopback.contains(try ip("::1")))
    #expect(!loopback.contains(try ip("::2")))
  }

  @Test("an IPv4 entry matches the IPv4-mapped IPv6 form of its addresses")
  func ipv4EntryMatchesMapped() throws {
    let ten = try IPRange.parse("10.0.0.0/8")
    #expect(ten.contains(try ip("::ffff:10.0.0.1")))
    #expect(!ten.contains(try ip("::ffff:11.0.0.1")))
    #expect(try IPRange.parse("10.0.0.1").contains(try ip("::ffff:10.0.0.1")))
    // Not mapped (IPv4-compatible / other prefixes) does not count.
    #expect(!ten.contains(try ip("::10.0.0.1")))
    #expect(!ten.contains(try ip("64:ff9b::10.0.0.1")))
  }

  @Test("an IPv4 client matches an IPv4-mapped IPv6 entry, ::ffff:a.b.c.d/n with n ≥ 96")
  func ipv4ClientMatchesMappedEntry() throws {
    let mapped = try IPRange.parse("::ffff:10.0.0.0/104")
    #expect(mapped.description == "::ffff:10.0.0.0/104")
    #expect(mapped.contains(try ip("10.1.2.3")))
    #expect(mapped.contains(try ip("10.255.255.255")))
    #expect(mapped.contains(try ip("::ffff:10.1.2.3")))
    #expect(!mapped.contains(try ip("11.0.0.0")))
    #expect(!mapped.contains(try ip("9.255.255.255")))
    #expect(!mapped.contains(try ip("::10.1.2.3")), "IPv4-compatible is not mapped")

    let one = try IPRange.parse("::ffff:192.0.2.7")
    #expect(one.contains(try ip("192.0.2.7")))
    #expect(!one.contains(try ip("192.0.2.8")))

    let everyIPv4 = try IPRange.parse("::ffff:0.0.0.0/96")
    #expect(everyIPv4.contains(try ip("1.2.3.4")))
    #expect(!everyIPv4.contains(try ip("2001:db8::1")))

    // The mapped space is ::ffff:0:0/96; an entry outside it never matches an IPv4 client, nor
    // does one wider than it (the IPv6 families are not IPv4's).
    #expect(!(try IPRange.parse("::/96")).contains(try ip("0.0.0.1")))
    #expect(!(try IPRange.parse("::fffe:0:0/95")).contains(try ip("1.2.3.4")))
    #expect(!(try IPRange.parse("64:ff9b::/96")).contains(try ip("1.2.3.4")))
  }

  @Test("and the reverse: an IPv4-mapped client matches an IPv4 entry")
  func mappedClientMatchesIPv4Entry() throws {
    let ten = try IPRange.parse("10.0.0.0/8")
    #expect(ten.contains(try ip("::ffff:10.1.2.3")))
    #expect(!ten.contains(try ip("::ffff:11.1.2.3")))
    #expect(try ip("10.1.2.3").mapped == ip("::ffff:10.1.2.3"))
    #expect(try ip("::ffff:10.1.2.3").unmapped == ip("10.1.2.3"))
    #expect(try ip("::ffff:10.1.2.3").isMapped && !ip("10.1.2.3").isMapped && !ip("::1").isMapped)
    #expect(try ip("2001:db8::1").mapped == ip("2001:db8::1"))
  }

  @Test("ranges that admit every address of a family are named")
  func admitsEveryAddress() throws {
    #expect(try IPRange.parse("0.0.0.0/0").admitsEveryAddressOf == "IPv4")
    #expect(try IPRange.parse("::/0").admitsEveryAddressOf == "IPv6")
    #expect(try IPRange.parse("::ffff:0.0.0.0/96").admitsEveryAddressOf == "IPv4")
    for narrower in ["0.0.0.0/1", "10.0.0.0/8", "::/1", "::ffff:0.0.0.0/97", "::/96", "0.0.0.0", "::"] {
      #expect(try IPRange.parse(narrower).admitsEveryAddressOf == nil, "\(narrower)")
    }
  }

  @Test("/0 matches every address of its family and none of the other")
  func zeroPrefix() throws {
    let all4 = try IPRange.parse("0.0.0.0/0")
    for a in ["0.0.0.0", "1.2.3.4", "127.0.0.1", "255.255.255.255", "::ffff:8.8.8.8"] {
      #expect(all4.contains(try ip(a)), "\(a)")
    }
    #expect(!all4.contains(try ip("2001:db8::1")))
    #expect(!all4.contains(try ip("::1")))

    let all6 = try IPRange.parse("::/0")
    for a in ["::", "::1", "2001:db8::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"] {
      #expect(all6.contains(try ip(a)), "\(a)")
    }
    #expect(!all6.contains(try ip("1.2.3.4")))
  }

  @Test("equal ranges written differently compare equal")
  func equality() throws {
    #expect(try IPRange.parse("2001:0db8:0000::/32") == IPRange.parse("2001:db8::/32"))
    #expect(try IPAddress.parse("2001:DB8::1") == IPAddress.parse("2001:db8:0:0:0:0:0:1"))
  }
}
