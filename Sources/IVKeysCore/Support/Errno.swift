import Glibc

/// The system's words for an error number.
public enum Errno {
  /// `strerror(code)`: "No such file or directory" for ENOENT.
  public static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

  /// The words for the current `errno`.
  public static var current: String { describe(errno) }
}
