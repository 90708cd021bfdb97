/// Fixed rate-limit windows, cached across groups and shared with other processes through the
/// store (written with every group).
struct RateWindows {
  private var windows: [String: (window: RateWindow, dirty: Bool)] = [:]

  mutating func removeAll() { windows.removeAll(keepingCapacity: true) }

  /// Counts one request against the key's fixed window (aligned to the window size: whole
  /// seconds, minutes or hours of UTC). Returns nil when it fits, else the seconds until the
  /// window ends (at least 1). A read error is thrown, never taken for an empty window.
  mutating func consume(_ id: String, _ limit: RateLimit, now: Timestamp, store: any VaultStore)
    throws(IVKeysError) -> Int64?
  {
    let size = Int64(limit.window)
    let start = now - ((now % size) + size) % size
    var w: (window: RateWindow, dirty: Bool)
    if let cached = windows[id] {
      w = cached
    } else {
      w = (try store.rateWindow(keyID: id) ?? RateWindow(start: start, count: 0), false)
    }
    if w.window.start != start { w = (RateWindow(start: start, count: 0), true) }
    if w.window.count >= Int64(limit.count) {
      windows[id] = w
      return max(1, start + size - now)
    }
    w.window.count += 1
    w.dirty = true
    windows[id] = w
    return nil
  }

  /// Writes the windows changed since the last write, in the open transaction.
  mutating func save(to store: any VaultStore) throws(IVKeysError) {
    for (id, w) in windows where w.dirty {
      try store.saveRateWindow(keyID: id, w.window)
      windows[id] = (w.window, false)
    }
  }
}
