import Glibc

/// Local time in the system's zoneinfo zones (`/usr/share/zoneinfo`, or `$TZDIR`), with the C
/// library's own rules, daylight saving time included. The C library converts in one zone at a
/// time (`TZ`), so a clock switches `TZ` for a conversion and puts it back; answers are kept per
/// zone and hour.
public struct ZoneClock {
  /// A local minute: weekday (0 Sunday … 6 Saturday) and minutes since midnight.
  public struct LocalMinute: Sendable, Equatable {
    public var weekday: Int
    public var minute: Int
  }

  private struct HourKey: Hashable {
    var zone: String
    var hour: Int64
  }

  private var cache: [HourKey: [LocalMinute]] = [:]

  public init() {}

  /// The folder zone files are read from.
  static var directory: String {
    if let d = getenv("TZDIR"), d.pointee != 0 { return String(cString: d) }
    return "/usr/share/zoneinfo"
  }

  /// Checks a zone name against the system's zoneinfo: `UTC`, `Europe/Berlin`, … A name the C
  /// library does not find would silently mean UTC, so an unknown one is an error.
  public static func validate(_ name: String) throws(ValueError) -> String {
    let allowed = name.utf8.allSatisfy { b in
      (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == UInt8(ascii: "/")
        || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || b == UInt8(ascii: "+")
    }
    guard !name.isEmpty, name.utf8.count <= 100, allowed, !name.hasPrefix("/"),
      !name.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0.isEmpty || $0 == ".." })
    else {
      throw ValueError("not a time zone name (use a zoneinfo name such as Europe/Berlin, America/New_York or UTC)")
    }
    let path = directory + "/" + name
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw ValueError("unknown time zone (no \(path); names are as in the system's zoneinfo, e.g. Europe/Berlin)")
    }
    defer { close(fd) }
    var magic = [UInt8](repeating: 0, count: 4)
    let n = magic.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4) }
    guard n == 4, magic == Array("TZif".utf8) else { throw ValueError("\(path) is not a zoneinfo file") }
    return name
  }

  /// Each minute of the clock hour starting at `hour * 3600` (UTC), in local time. When the
  /// zone's offset is the same at both ends of the hour the minutes are consecutive; otherwise
  /// each is converted.
  public mutating func localMinutes(zone: String, hour: Int64) -> [LocalMinute] {
    let key = HourKey(zone: zone, hour: hour)
    if let cached = cache[key] { return cached }
    let start = hour * 3600
    var out = [LocalMinute]()
    out.reserveCapacity(60)
    Self.inZone(zone) {
      let first = Self.local(start)
      let last = Self.local(start + 3599)
      if first.offset == last.offset {
        for i in 0..<60 {
          let m = first.minute + i
          out.append(LocalMinute(weekday: (first.weekday + m / 1440) % 7, minute: m % 1440))
        }
      } else {
        for i in 0..<60 {
          let l = Self.local(start + Int64(i) * 60)
          out.append(LocalMinute(weekday: l.weekday, minute: l.minute))
        }
      }
    }
    cache[key] = out
    return out
  }

  /// The local weekday, minute of the day and UTC offset of a time, in the current `TZ`.
  private static func local(_ t: Int64) -> (weekday: Int, minute: Int, offset: Int) {
    var time = time_t(t)
    var parts = tm()
    localtime_r(&time, &parts)
    return (Int(parts.tm_wday), Int(parts.tm_hour) * 60 + Int(parts.tm_min), Int(parts.tm_gmtoff))
  }

  /// Serializes conversions: `TZ` is one per process.
  private nonisolated(unsafe) static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
    let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(m, nil)
    return m
  }()

  /// Runs `body` with `TZ` naming the zone's file, then puts `TZ` back. An unset `TZ` comes back
  /// as `:/etc/localtime`, which the C library reads the same way: the variable is added to the
  /// environment once and only replaced afterwards, never removed, so the environment's array is
  /// not reallocated under another thread reading it.
  private static func inZone(_ zone: String, _ body: () -> Void) {
    pthread_mutex_lock(lock)
    defer { pthread_mutex_unlock(lock) }
    let previous = getenv("TZ").map { String(cString: $0) } ?? ":/etc/localtime"
    setenv("TZ", ":" + directory + "/" + zone, 1)
    tzset()
    body()
    setenv("TZ", previous, 1)
    tzset()
  }
}
