#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The little file handling the vault needs, on POSIX calls.
public enum FileSystem {
  /// Whether anything exists at `path` (without following a final symlink).
  public static func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
  }

  /// The permission bits of `path`, or nil.
  public static func mode(_ path: String) -> mode_t? {
    var st = stat()
    return stat(path, &st) == 0 ? st.st_mode & 0o7777 : nil
  }

  /// The directory part of a path (`.` for a bare name).
  public static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let d = String(path[..<slash])
    return d.isEmpty ? "/" : d
  }

  /// Creates `path` and any missing parents with mode 0700.
  public static func makeDirectories(_ path: String) throws(IVKeysError) {
    if exists(path) { return }
    let parent = directory(of: path)
    if parent != path && parent != "." && parent != "/" { try makeDirectories(parent) }
    if mkdir(path, 0o700) != 0 && errno != EEXIST {
      throw .io("cannot create the directory \(path): \(String(cString: strerror(errno)))")
    }
  }

  /// Creates an empty file with `O_CREAT|O_EXCL`, mode 0600.
  static func createExclusive(_ path: String) throws(IVKeysError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
    guard fd >= 0 else {
      let e = errno
      if e == EEXIST {
        throw .conflict("a vault already exists at \(path); refusing to overwrite it",
          hint: "pass --vault for a new vault elsewhere")
      }
      throw .io("cannot create the vault \(path): \(String(cString: strerror(e)))")
    }
    fchmod(fd, 0o600)
    close(fd)
  }
}
