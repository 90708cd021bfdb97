/// When a key is expected to be used, in local time: days of the week, each with a span of the
/// day (`Mon-Fri 08:00-18:00`), several spans separated by `;` (`Mon-Fri 08:00-18:00; Sat
/// 09:00-13:00`). A span whose end is before its start runs past midnight into the next day
/// (`Mon-Fri 22:00-06:00`). `after_hours` alerts fire for requests outside them.
public struct WorkingHours: Sendable, Equatable, CustomStringConvertible {
  /// One span: the days it starts on (0 Sunday … 6 Saturday) and its minutes of the day.
  public struct Span: Sendable, Equatable {
    public var days: [Int]
    public var start: Int
    public var end: Int
  }

  public let spans: [Span]

  static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

  /// Parses working hours text. Days are `Mon`…`Sun` (any case, or spelled out), as a day, a
  /// range (`Mon-Fri`, `Fri-Mon` wraps) or a list (`Mon,Wed,Fri`); times are `HH:MM`, the end
  /// may be `24:00`.
  public static func parse(_ text: String) throws(ValueError) -> WorkingHours {
    let segments = text.split(separator: ";", omittingEmptySubsequences: false)
    var spans = [Span]()
    for segment in segments {
      let words = segment.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard words.count == 2 else {
        throw ValueError(
          "expected DAYS HH:MM-HH:MM, spans separated by ';' (for example \"Mon-Fri 08:00-18:00\"), not \"\(Text.escapeControl(String(segment)))\""
        )
      }
      let days = try parseDays(String(words[0]))
      let times = words[1].split(separator: "-", omittingEmptySubsequences: false)
      guard times.count == 2 else { throw ValueError("expected a time span HH:MM-HH:MM, not \"\(words[1])\"") }
      let start = try parseTime(String(times[0]), allowEnd: false)
      let end = try parseTime(String(times[1]), allowEnd: true)
      guard start != end else { throw ValueError("the span \(words[1]) is empty: its start and end are the same") }
      spans.append(Span(days: days, start: start, end: end))
    }
    return WorkingHours(spans: spans)
  }

  private static func parseDays(_ text: String) throws(ValueError) -> [Int] {
    var days = [Int]()
    for item in text.split(separator: ",", omittingEmptySubsequences: false) {
      let ends = item.split(separator: "-", omittingEmptySubsequences: false)
      guard ends.count == 1 || ends.count == 2 else { throw ValueError("\"\(item)\" is not a day or a range of days") }
      let first = try day(String(ends[0]))
      let last = ends.count == 2 ? try day(String(ends[1])) : first
      var d = first
      while true {
        if !days.contains(d) { days.append(d) }
        if d == last { break }
        d = (d + 1) % 7
      }
    }
    return days.sorted()
  }

  private static func day(_ text: String) throws(ValueError) -> Int {
    let full = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
    let lower = text.lowercased()
    if let i = dayNames.firstIndex(where: { $0.lowercased() == lower }) ?? full.firstIndex(of: lower) { return i }
    throw ValueError("\"\(Text.escapeControl(text))\" is not a day: use Mon, Tue, Wed, Thu, Fri, Sat or Sun")
  }

  /// Minutes since midnight of `HH:MM` (two-digit hour and minute).
  private static func parseTime(_ text: String, allowEnd: Bool) throws(ValueError) -> Int {
    let u = Array(text.utf8)
    func digit(_ b: UInt8) -> Int? { b >= 48 && b <= 57 ? Int(b - 48) : nil }
    guard u.count == 5, u[2] == UInt8(ascii: ":"), let h1 = digit(u[0]), let h2 = digit(u[1]), let m1 = digit(u[3]),
      let m2 = digit(u[4])
    else { throw ValueError("\"\(Text.escapeControl(text))\" is not a time HH:MM") }
    let h = h1 * 10 + h2
    let m = m1 * 10 + m2
    guard m < 60, h < 24 || (allowEnd && h == 24 && m == 0) else {
      throw ValueError("\"\(text)\" is not a time of day (00:00 to 23:59\(allowEnd ? ", or 24:00 as an end" : ""))")
    }
    return h * 60 + m
  }

  /// The canonical text: days as ranges where they run (`Mon-Fri`), times as `HH:MM`.
  public var description: String {
    spans.map { span in
      "\(Self.describeDays(span.days)) \(Self.clock(span.start))-\(Self.clock(span.end))"
    }.joined(separator: "; ")
  }

  static func clock(_ minutes: Int) -> String {
    let h = minutes / 60
    let m = minutes % 60
    return (h < 10 ? "0\(h)" : "\(h)") + ":" + (m < 10 ? "0\(m)" : "\(m)")
  }

  /// Days in Monday-first order, runs of three or more as ranges.
  static func describeDays(_ days: [Int]) -> String {
    let order = [1, 2, 3, 4, 5, 6, 0]
    let present = order.map { days.contains($0) }
    var parts = [String]()
    var i = 0
    while i < 7 {
      guard present[i] else {
        i += 1
        continue
      }
      var j = i
      while j + 1 < 7 && present[j + 1] { j += 1 }
      let first = dayNames[order[i]]
      let last = dayNames[order[j]]
      if j - i >= 2 {
        parts.append("\(first)-\(last)")
      } else {
        parts.append(first)
        if j > i { parts.append(last) }
      }
      i = j + 1
    }
    return parts.joined(separator: ",")
  }

  /// Whether a local time (weekday 0 Sunday … 6 Saturday, minutes since midnight) is working time.
  public func contains(weekday: Int, minute: Int) -> Bool {
    for span in spans {
      if span.start < span.end {
        if span.days.contains(weekday) && minute >= span.start && minute < span.end { return true }
      } else {
        // Past midnight: from the start to the end of its day, then on into the next one.
        if span.days.contains(weekday) && minute >= span.start { return true }
        if span.days.contains((weekday + 6) % 7) && minute < span.end { return true }
      }
    }
    return false
  }
}

/// Working hours in a time zone: which clock hours (UTC) lie wholly outside them.
public struct WorkSchedule: Sendable, Equatable {
  public let hours: WorkingHours
  /// A zoneinfo name (`Europe/Berlin`, `UTC`).
  public let zone: String

  public init(hours: WorkingHours, zone: String) {
    self.hours = hours
    self.zone = zone
  }

  /// Whether no minute of the clock hour starting at `hour * 3600` (UTC) falls in working hours.
  /// An hour that is working time for part of it is not after hours: a bucket counts requests
  /// by the hour, so only an hour with no working minute in it is certainly after hours.
  public func isAfterHours(hour: Int64, clock: inout ZoneClock) -> Bool {
    let minutes = clock.localMinutes(zone: zone, hour: hour)
    for m in minutes where hours.contains(weekday: m.weekday, minute: m.minute) { return false }
    return true
  }
}
