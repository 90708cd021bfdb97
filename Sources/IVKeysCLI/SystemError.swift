import Glibc

/// The text of an errno value, as `strerror(3)` gives it: "No such file or directory".
/// Read `errno` before anything else can change it: `systemError()` right after the failing call.
func systemError(_ code: Int32 = errno) -> String {
  String(cString: strerror(code))
}
