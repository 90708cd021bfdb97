import Glibc

/// Walks a directory tree depth first, in a fixed order, and hands out the regular files in it.
///
/// - Entries are sorted by the bytes of their names (as `LC_ALL=C ls` sorts), so two runs over
///   the same tree visit files in the same order.
/// - Entries named in `skipping` (by default `.git`) are left out, whatever they are.
/// - Symbolic links to directories are not followed (no loops, no walking out of the tree);
///   a symbolic link to a regular file is visited under the link's own path.
/// - FIFOs, sockets and devices are left out: reading them could block or never end.
///
/// Paths are kept as bytes: a file name need not be UTF-8, and a name decoded to `String` and
/// back would no longer open the file.
public struct DirectoryWalker {
  /// Names that are never entered or read.
  public var skipping: Set<[UInt8]> = [Array(".git".utf8)]

  public init() {}

  /// Calls `file` with the path of each regular file under `root`, and `failure` with a path
  /// and an `errno` value for each directory that could not be read. `root` is entered even
  /// when it is a symbolic link: the user named it.
  public func walk(_ root: [UInt8], file: ([UInt8]) -> Void, failure: ([UInt8], Int32) -> Void) {
    var names = [[UInt8]]()
    var types = [UInt8]()
    guard read(root, into: &names, types: &types, failure: failure) else { return }
    // Depth first, siblings in name order: a subdirectory's files come before the next sibling's.
    // The listing is read whole and the directory closed before descending, so the walk holds
    // one directory descriptor at a time however deep the tree (recursion depth is bounded by
    // PATH_MAX: a deeper path fails to open and is reported).
    for i in names.indices.sorted(by: { names[$0].lexicographicallyPrecedes(names[$1]) }) {
      let path = Self.join(root, names[i])
      switch kind(of: path, dirent: types[i]) {
      case .file: file(path)
      case .directory: walk(path, file: file, failure: failure)
      case .other: break
      case .unexaminable(let e): failure(path, e)
      }
    }
  }

  /// What a directory entry is, as far as the walk cares.
  enum Kind {
    case file, directory, other
    /// It could not be examined (`errno`): a link whose target is out of reach, say. A link to
    /// nothing (ENOENT) is `other`: there is nothing to read.
    case unexaminable(Int32)
  }

  /// Reads the names in `dir` (without `.`, `..` and skipped names) and closes it again, so
  /// the walk holds one directory descriptor at a time however deep the tree.
  private func read(
    _ dir: [UInt8], into names: inout [[UInt8]], types: inout [UInt8], failure: ([UInt8], Int32) -> Void
  ) -> Bool {
    let (opened, e) = Self.withCString(dir) { (opendir($0), errno) }
    guard let d = opened else {
      failure(dir, e)
      return false
    }
    defer { closedir(d) }
    while true {
      errno = 0
      guard let entry = readdir(d) else {
        if errno != 0 { failure(dir, errno) }
        break
      }
      let name: [UInt8] = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
        let bytes = raw.bindMemory(to: UInt8.self)
        let n = bytes.firstIndex(of: 0) ?? bytes.count
        return Array(bytes[0..<n])
      }
      if name == [0x2e] || name == [0x2e, 0x2e] || skipping.contains(name) { continue }
      names.append(name)
      types.append(entry.pointee.d_type)
    }
    return true
  }

  /// The kind of `path`, from the directory entry's type when the file system gives one.
  private func kind(of path: [UInt8], dirent type: UInt8) -> Kind {
    switch Int32(type) {
    case Int32(DT_REG): return .file
    case Int32(DT_DIR): return .directory
    case Int32(DT_LNK): return target(of: path)
    case Int32(DT_UNKNOWN):
      // Some file systems (XFS without ftype, some FUSE mounts) leave the type unknown.
      let (type, e) = Self.examine(path, follow: false)
      guard let t = type else { return e == ENOENT ? .other : .unexaminable(e) }
      if t == S_IFREG { return .file }
      if t == S_IFDIR { return .directory }
      if t == S_IFLNK { return target(of: path) }
      return .other
    default: return .other
    }
  }

  /// A symbolic link is read when it leads to a regular file; links to directories are not
  /// followed (no loops), and a link that cannot be followed for another reason than leading
  /// nowhere is reported.
  private func target(of link: [UInt8]) -> Kind {
    let (type, e) = Self.examine(link, follow: true)
    guard let t = type else { return e == ENOENT ? .other : .unexaminable(e) }
    return t == S_IFREG ? .file : .other
  }

  // MARK: - Paths as bytes

  /// `dir/name`, without doubling a slash the user wrote at the end of `dir`.
  static func join(_ dir: [UInt8], _ name: [UInt8]) -> [UInt8] {
    var path = dir
    if path.last != UInt8(ascii: "/") { path.append(UInt8(ascii: "/")) }
    path.append(contentsOf: name)
    return path
  }

  /// Calls `body` with `path` as a NUL-terminated C string.
  public static func withCString<T>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
    var c = path
    c.append(0)
    return c.withUnsafeBufferPointer { p in
      p.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
    }
  }

  /// The file type bits of `path`, or nil and the `errno` of the failure.
  static func examine(_ path: [UInt8], follow: Bool) -> (type: mode_t?, error: Int32) {
    var st = stat()
    let (rc, e) = withCString(path) { (follow ? stat($0, &st) : lstat($0, &st), errno) }
    return rc == 0 ? (st.st_mode & S_IFMT, 0) : (nil, e)
  }
}
