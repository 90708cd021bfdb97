import Glibc

extension LeakScanner {
  /// Files from this size up are scanned through a read-only mapping instead of `read(2)`:
  /// no copy into the buffer, and lines counted only up to a key. Below it, a read is cheaper
  /// than setting up the mapping.
  public static let mappingThreshold = 1 << 20

  /// Scans the regular file open at `fd` (`size` bytes, read from its start) through a
  /// read-only mapping: the whole file is one buffer, searched as read text's last chunk is.
  /// Returns nil, having read nothing, when a mapping does not suit it (small, not at its
  /// start, UTF-16, or the mapping failed): the caller reads it instead.
  ///
  /// A page that cannot be read (the file was cut short meanwhile, or a read error) would
  /// fault (SIGBUS); `MappingFaults` maps zeros there instead, the rest is scanned, and the
  /// scan ends `.failed(EIO)`: a gate must not pass on a file it did not read whole. One
  /// mapped scan runs at a time in a process (the handler knows one mapping).
  func scanMapped(fd: Int32, size: Int, name: String, detectDiff: Bool) -> Outcome? {
    guard size >= Self.mappingThreshold, lseek(fd, 0, SEEK_CUR) == 0 else { return nil }
    guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else { return nil }
    defer { munmap(p, size) }
    _ = madvise(p, size, MADV_SEQUENTIAL)
    // Armed before the first byte is read: the file may be cut short already.
    MappingFaults.arm(p, size)
    defer { MappingFaults.disarm() }
    afterMapping?()
    let bytes = p.assumingMemoryBound(to: UInt8.self)
    guard Self.utf16ByteOrder(bytes, size) == nil, !MappingFaults.faulted else { return nil }
    // The mapping stands in for the buffer. Nothing writes to it: the input is at its end
    // from the start, so it is never moved, refilled or grown.
    let saved = (buffer, capacity)
    defer { (buffer, capacity) = saved }
    buffer = UnsafeMutablePointer(mutating: bytes)
    capacity = size
    var input = Input(end: size, eof: true, error: nil)
    statistics.bytes += Int64(size)
    onProgress?(statistics)
    let none: Source = { _, _ in 0 }
    if detectDiff && Self.looksLikeDiff(UnsafeBufferPointer(start: bytes, count: size)) {
      scanDiff(&input, none)
    } else {
      scanText(name: name, &input, none, window: Self.defaultChunkSize)
    }
    statistics.files += 1
    return MappingFaults.faulted ? .failed(EIO) : .scanned
  }
}

/// The SIGBUS handler for `LeakScanner.scanMapped`: a fault inside the armed mapping (the file
/// was cut short, or a page could not be read) gets a page of zeros mapped over it, so the scan
/// goes on and reports the file as not read whole; any other SIGBUS goes to the handler that
/// was there before (or the default, which ends the process), as it would have.
enum MappingFaults {
  nonisolated(unsafe) static var start: UInt = 0
  nonisolated(unsafe) static var end: UInt = 0
  nonisolated(unsafe) static var pageSize: UInt = 4096
  nonisolated(unsafe) static var faulted = false
  nonisolated(unsafe) static var installed = false
  nonisolated(unsafe) static var previous = sigaction()
  /// Held from `arm` to `disarm`: one armed mapping at a time, whatever the threads.
  nonisolated(unsafe) static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
    let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(m, nil)
    return m
  }()

  static func arm(_ p: UnsafeMutableRawPointer, _ size: Int) {
    pthread_mutex_lock(lock)
    pageSize = UInt(max(4096, sysconf(Int32(_SC_PAGESIZE))))
    faulted = false
    start = UInt(bitPattern: p)
    end = start + UInt(size)
    guard !installed else { return }
    installed = true
    var action = sigaction()
    action.__sigaction_handler.sa_sigaction = handler
    action.sa_flags = SA_SIGINFO
    sigemptyset(&action.sa_mask)
    sigaction(SIGBUS, &action, &previous)
  }

  static func disarm() {
    start = 0
    end = 0
    pthread_mutex_unlock(lock)
  }

  static let handler: @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void = {
    _, info, _ in
    let address = UInt(bitPattern: info?.pointee._sifields._sigfault.si_addr)
    if address >= MappingFaults.start && address < MappingFaults.end {
      let page = address & ~(MappingFaults.pageSize - 1)
      let zeros = mmap(
        UnsafeMutableRawPointer(bitPattern: page), Int(MappingFaults.pageSize), PROT_READ,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
      if zeros != MAP_FAILED {
        MappingFaults.faulted = true
        return
      }
    }
    // Not ours: the handler from before (the default: the process ends), which the faulting
    // instruction meets again on return.
    sigaction(SIGBUS, &MappingFaults.previous, nil)
    MappingFaults.installed = false
  }
}
