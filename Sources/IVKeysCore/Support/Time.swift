import Glibc

/// Seconds since the Unix epoch, UTC. ivkeys keeps every time at one-second resolution.
public typealias Timestamp = Int64

/// Dates, times and durations as the command line writes them.
public enum Time {
  /// The current time from the system clock.
  public static func now() -> Timestamp {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Timestamp(ts.tv_sec)
  }

  /// Milliseconds since the Unix epoch from the system clock.
  public static func nowMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
  }

  // MARK: - Civil dates (Howard Hinnant's algorithms, proleptic Gregorian)

  static func daysFromCivil(_ y: Int64, _ m: Int64, _ d: Int64) -> Int64 {
    let y = m <= 2 ? y - 1 : y
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
  }

  static func civilFromDays(_ z: Int64) -> (y: Int64, m: Int64, d: Int64) {
    let z = z + 719468
    let era = (z >= 0 ? z : z - 146096) / 146097
    let doe = z - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
  }

  static func daysInMonth(_ y: Int64, _ m: Int64) -> Int64 {
    switch m {
    case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  // MARK: - RFC 3339

  /// `2026-11-29T00:52:51Z`.
  /// A time clamped to years 0000–9999, the years RFC 3339 writes: only a hand-edited vault
  /// holds one outside them, and printing it must not overflow.
  static func printable(_ t: Timestamp) -> Timestamp { min(max(t, -62_167_219_200), 253_402_300_799) }

  public static func rfc3339(_ t: Timestamp) -> String {
    let t = printable(t)
    let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
    let secs = t - days * 86400
    let (y, m, d) = civilFromDays(days)
    return
      "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secs / 3600, 2)):\(pad(secs % 3600 / 60, 2)):\(pad(secs % 60, 2))Z"
  }

  /// Appends `2026-11-29T00:52:51Z` to a byte buffer without building a String.
  public static func appendRFC3339(_ t: Timestamp, to out: inout [UInt8]) {
    let t = printable(t)
    let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
    let secs = t - days * 86400
    let (y, m, d) = civilFromDays(days)
    func digits(_ v: Int64, _ width: Int) {
      var div: Int64 = 1
      for _ in 1..<width { div *= 10 }
      var v = v
      while div > 0 {
        out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: (v / div) % 10))
        v %= div
        div /= 10
      }
    }
    digits(y, 4)
    out.append(UInt8(ascii: "-"))
    digits(m, 2)
    out.append(UInt8(ascii: "-"))
    digits(d, 2)
    out.append(UInt8(ascii: "T"))
    digits(secs / 3600, 2)
    out.append(UInt8(ascii: ":"))
    digits(secs % 3600 / 60, 2)
    out.append(UInt8(ascii: ":"))
    digits(secs % 60, 2)
    out.append(UInt8(ascii: "Z"))
  }

  /// `2026-11-29`.
  public static func day(_ t: Timestamp) -> String { String(rfc3339(t).prefix(10)) }

  private static func pad(_ v: Int64, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
  }

  /// Parses `YYYY-MM-DD` (midnight UTC) or an RFC 3339 date-time with `Z` or a numeric offset.
  /// Fractional seconds are accepted and truncated; leap seconds (`:60`) are refused.
  public static func parseDate(_ text: String) throws(ValueError) -> Timestamp {
    let b = Array(text.utf8)
    func number(_ range: Range<Int>) -> Int64? {
      guard range.upperBound <= b.count else { return nil }
      var v: Int64 = 0
      for i in range {
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) else { return nil }
        v = v * 10 + Int64(b[i] - UInt8(ascii: "0"))
      }
      return v
    }
    let expected = ValueError("expected a date YYYY-MM-DD or an RFC 3339 time like 2026-12-31T23:59:59Z")
    guard b.count >= 10, let y = number(0..<4), b[4] == UInt8(ascii: "-"), let m = number(5..<7),
      b[7] == UInt8(ascii: "-"), let d = number(8..<10)
    else { throw expected }
    guard (1...12).contains(m) else { throw ValueError("month \(m) is out of range") }
    guard d >= 1 && d <= daysInMonth(y, m) else { throw ValueError("day \(d) is out of range for that month") }
    var t = daysFromCivil(y, m, d) * 86400
    if b.count == 10 { return try inRange(t) }
    guard b.count >= 20, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"), let hh = number(11..<13),
      b[13] == UInt8(ascii: ":"), let mm = number(14..<16), b[16] == UInt8(ascii: ":"), let ss = number(17..<19)
    else { throw expected }
    guard hh < 24, mm < 60, ss < 60 else { throw ValueError("time of day is out of range") }
    t += hh * 3600 + mm * 60 + ss
    var i = 19
    if b[i] == UInt8(ascii: ".") {
      i += 1
      let start = i
      while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { i += 1 }
      guard i > start else { throw expected }
    }
    guard i < b.count else { throw ValueError("an RFC 3339 time needs a zone: Z or +HH:MM") }
    if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
      guard i + 1 == b.count else { throw expected }
      return try inRange(t)
    }
    guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), i + 6 == b.count, let oh = number(i + 1..<i + 3),
      b[i + 3] == UInt8(ascii: ":"), let om = number(i + 4..<i + 6), oh < 24, om < 60
    else { throw ValueError("an RFC 3339 time needs a zone: Z or +HH:MM") }
    let offset = oh * 3600 + om * 60
    return try inRange(b[i] == UInt8(ascii: "+") ? t - offset : t + offset)
  }

  /// The first and last second ivkeys writes in four-digit years: 0001-01-01 to 9999-12-31.
  static let supported: ClosedRange<Timestamp> =
    daysFromCivil(1, 1, 1) * 86400...daysFromCivil(9999, 12, 31) * 86400 + 86399

  private static func inRange(_ t: Timestamp) throws(ValueError) -> Timestamp {
    guard supported.contains(t) else { throw ValueError("dates run from 0001-01-01 to 9999-12-31") }
    return t
  }

  // MARK: - Durations

  /// Parses `30s`, `15m`, `12h`, `7d`, `2w` (one number, one unit) or a bare `0`.
  /// Returns seconds. Anything over 100 years is refused.
  public static func parseDuration(_ text: String) throws(ValueError) -> Int64 {
    if text == "0" { return 0 }
    let b = Array(text.utf8)
    let expected = ValueError("expected a number and a unit: 30s, 15m, 12h, 7d or 2w")
    guard b.count >= 2, let unit = b.last else { throw expected }
    let multiplier: Int64
    switch unit {
    case UInt8(ascii: "s"): multiplier = 1
    case UInt8(ascii: "m"): multiplier = 60
    case UInt8(ascii: "h"): multiplier = 3600
    case UInt8(ascii: "d"): multiplier = 86400
    case UInt8(ascii: "w"): multiplier = 604800
    default: throw expected
    }
    let digits = b.dropLast()
    guard digits.count <= 12, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
      throw expected
    }
    var value: Int64 = 0
    for c in digits { value = value * 10 + Int64(c - UInt8(ascii: "0")) }
    let seconds = value * multiplier
    guard seconds <= 100 * 366 * 86400 else { throw ValueError("durations longer than 100 years are not supported") }
    return seconds
  }

  /// A short human form of a span of seconds: `3d 4h`, `45m`, `12s`.
  public static func describe(seconds: Int64) -> String {
    let s = abs(seconds)
    let parts: [(Int64, String)] = [(86400, "d"), (3600, "h"), (60, "m"), (1, "s")]
    var out = [String]()
    var rest = s
    for (size, unit) in parts where rest >= size {
      out.append("\(rest / size)\(unit)")
      rest %= size
      if out.count == 2 { break }
    }
    return out.isEmpty ? "0s" : out.joined(separator: " ")
  }
}
