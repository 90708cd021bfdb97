import Testing

@testable import IVKeysCore

// Epoch values below were computed with python3 (datetime.fromisoformat(...).timestamp()) and
// `date -u -d 2026-12-31 +%s`, not with the code under test.

@Suite("Durations")
struct DurationTests {
  @Test(
    "each unit in seconds",
    arguments: [
      ("30s", Int64(30)),
      ("15m", Int64(900)),
      ("12h", Int64(43_200)),
      ("7d", Int64(604_800)),
      ("2w", Int64(1_209_600)),
      ("1s", Int64(1)),
      ("90d", Int64(7_776_000)),
      ("0s", Int64(0)),
      ("3650d", Int64(315_360_000)),
    ])
  func units(text: String, seconds: Int64) throws {
    #expect(try Time.parseDuration(text) == seconds)
  }

  @Test("a bare 0 is zero (rotate --grace 0)")
  func bareZero() throws {
    #expect(try Time.parseDuration("0") == 0)
  }

  @Test(
    "malformed durations are refused",
    arguments: [
      "", "7", "d", "1.5h", "-1d", "+1d", "7days", " 7d", "7d ", "1h30m", "7 d", "1y", "1M", "0x10s", "٣d",
    ])
  func refused(text: String) {
    #expect(throws: ValueError.self, "\(text)") { try Time.parseDuration(text) }
  }

  @Test("more than 100 years is refused; big but sane values are not")
  func hundredYears() throws {
    #expect(throws: ValueError.self) { try Time.parseDuration("40000d") }
    #expect(throws: ValueError.self) { try Time.parseDuration("5300w") }
    #expect(throws: ValueError.self) { try Time.parseDuration("999999999999s") }
    #expect(throws: ValueError.self) { try Time.parseDuration("99999999999999999999d") }
    #expect(try Time.parseDuration("36500d") == 36500 * 86400)
  }

  @Test("describe gives the two largest units")
  func describe() {
    #expect(Time.describe(seconds: 0) == "0s")
    #expect(Time.describe(seconds: 12) == "12s")
    #expect(Time.describe(seconds: 45 * 60) == "45m")
    #expect(Time.describe(seconds: 3 * 86400 + 4 * 3600 + 5 * 60 + 6) == "3d 4h")
    #expect(Time.describe(seconds: 3600 + 1) == "1h 1s")
    #expect(Time.describe(seconds: -90) == "1m 30s")
  }
}

@Suite("Dates")
struct DateTests {
  @Test("YYYY-MM-DD is midnight UTC")
  func plainDate() throws {
    #expect(try Time.parseDate("2026-12-31") == 1_798_675_200)
    #expect(try Time.parseDate("1970-01-01") == 0)
    #expect(try Time.parseDate("1969-12-31") == -86400)
    #expect(try Time.parseDate("2000-02-29") == 951_782_400)
  }

  @Test("RFC 3339 with Z, with an offset, with fractional seconds")
  func rfc3339Input() throws {
    #expect(try Time.parseDate("2026-06-15T12:34:56Z") == 1_781_526_896)
    #expect(try Time.parseDate("2026-06-15t12:34:56z") == 1_781_526_896)
    #expect(try Time.parseDate("2026-06-15T12:34:56+00:00") == 1_781_526_896)
    // 12:34:56 at +02:00 is 10:34:56 UTC.
    #expect(try Time.parseDate("2026-06-15T12:34:56+02:00") == 1_781_519_696)
    // 12:34:56 at -05:30 is 18:04:56 UTC.
    #expect(try Time.parseDate("2026-06-15T12:34:56-05:30") == 1_781_546_696)
    // Fractions are truncated to the second.
    #expect(try Time.parseDate("2026-06-15T12:34:56.999Z") == 1_781_526_896)
    #expect(try Time.parseDate("2026-06-15T12:34:56.5+02:00") == 1_781_519_696)
    #expect(try Time.parseDate("2026-12-31T00:00:00Z") == 1_798_675_200)
  }

  @Test("leap years follow the Gregorian rules")
  func leapYears() throws {
    #expect(try Time.parseDate("2024-02-29") == 1_709_164_800)
    #expect(throws: ValueError.self) { try Time.parseDate("2025-02-29") }
    #expect(throws: ValueError.self) { try Time.parseDate("1900-02-29") }
    #expect(try Time.parseDate("2000-02-29") == 951_782_400)
  }

  @Test(
    "invalid dates and times are refused",
    arguments: [
      "2026-02-30",
      "2026-04-31",
      "2026-13-01",
      "2026-00-10",
      "2026-01-00",
      "2026-1-01",
      "2026-01-1",
      "26-01-01",
      "2026/01/01",
      "2026-01-01x",
      "2026-01-01 ",
      " 2026-01-01",
      "",
      "tomorrow",
      "2026-06-15T24:00:00Z",
      "2026-06-15T12:60:00Z",
      "2026-06-15T12:00:60Z",
      "2026-06-15T12:34:56",
      "2026-06-15T12:34",
      "2026-06-15T12:34Z",
      "2026-06-15 12:34:56Z",
      "2026-06-15T12:34:56Zjunk",
      "2026-06-15T12:34:56Z ",
      "2026-06-15T12:34:56+02:00junk",
      "2026-06-15T12:34:56+0200",
      "2026-06-15T12:34:56+2:00",
      "2026-06-15T12:34:56+24:00",
      "2026-06-15T12:34:56.Z",
      "2026-06-15T12:34:56.123",
      "2026-06-15T1:34:56Z",
    ])
  func refused(text: String) {
    #expect(throws: ValueError.self, "\(text)") { try Time.parseDate(text) }
  }

  @Test(
    "rfc3339 formats literal timestamps",
    arguments: [
      (Timestamp(0), "1970-01-01T00:00:00Z"),
      (Timestamp(1_700_000_000), "2023-11-14T22:13:20Z"),
      (Timestamp(951_782_400), "2000-02-29T00:00:00Z"),
      (Timestamp(1_798_675_200), "2026-12-31T00:00:00Z"),
      (Timestamp(4_102_444_799), "2099-12-31T23:59:59Z"),
      (Timestamp(-1), "1969-12-31T23:59:59Z"),
    ])
  func formats(t: Timestamp, text: String) {
    #expect(Time.rfc3339(t) == text)
    var bytes: [UInt8] = Array("x".utf8)
    Time.appendRFC3339(t, to: &bytes)
    #expect(String(decoding: bytes, as: UTF8.self) == "x" + text, "appends after existing bytes")
  }

  @Test("appendRFC3339 agrees with rfc3339, and parseDate reads both back")
  func formattersAgreeAndRoundTrip() throws {
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<2000 {
      // 1900 to 2200.
      let t = Timestamp.random(in: -2_208_988_800...7_258_118_400, using: &rng)
      var bytes = [UInt8]()
      Time.appendRFC3339(t, to: &bytes)
      let s = Time.rfc3339(t)
      #expect(String(decoding: bytes, as: UTF8.self) == s)
      #expect(s.utf8.count == 20)
      #expect(try Time.parseDate(s) == t)
    }
  }

  @Test("day gives the date part")
  func day() {
    #expect(Time.day(1_700_000_000) == "2023-11-14")
  }
}
