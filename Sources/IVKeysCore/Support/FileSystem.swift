import Glibc

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

  /// Whether the file starts with SQLite's header string, "SQLite format 3\0".
  public static func isSQLiteFile(_ path: String) -> Bool {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var header = [UInt8](repeating: 0, count: 16)
    let n = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
    return n == 16 && header == Array("SQLite format 3".utf8) + [0]
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
      throw .io("cannot create the directory \(path): \(Errno.current)")
    }
  }

  /// Creates a file with `O_CREAT|O_EXCL` and mode 0600 (whatever the umask), writes
  /// `contents` and syncs it. An existing file is never touched: `exists` is thrown instead.
  /// `what` names the file in errors ("the vault", "the secret file").
  static func createExclusive(_ path: String, contents: [UInt8] = [], what: String, exists: IVKeysError)
    throws(IVKeysError)
  {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
    guard fd >= 0 else {
      let e = errno
      if e == EEXIST { throw exists }
      throw .io("cannot create \(what) \(path): \(Errno.describe(e))")
    }
    defer { close(fd) }
    fchmod(fd, 0o600)
    let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == contents.count, fsync(fd) == 0 else {
      let e = errno
      unlink(path)
      throw .io("cannot write \(what) \(path): \(Errno.describe(e))")
    }
  }
}
