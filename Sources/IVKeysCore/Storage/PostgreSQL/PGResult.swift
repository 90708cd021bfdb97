import Glibc

/// The rows of a statement, in text format, freed when released.
public final class PGResult {
  let lib: LibPQ
  let handle: OpaquePointer
  /// How many rows it holds.
  public let count: Int32

  init(lib: LibPQ, handle: OpaquePointer) {
    self.lib = lib
    self.handle = handle
    count = lib.ntuples(handle)
  }

  deinit { lib.clear(handle) }

  /// The rows a command changed.
  var changes: Int { PGConnection.changes(lib, handle) }

  /// Each row.
  var rows: [PGRow] { (0..<count).map { PGRow(result: self, index: $0) } }
  var first: PGRow? { count > 0 ? PGRow(result: self, index: 0) : nil }
  /// Every value as text (nil for NULL), row by row.
  var values: [[String?]] {
    let columns = lib.nfields(handle)
    return rows.map { row in (0..<columns).map { row.optionalText($0) } }
  }
}

/// One row of a `PGResult`. Columns are read as the engine's types are written: `bigint` as
/// Int64, `bytea` from its hex form, `text` as is.
struct PGRow: StoredRow {
  let result: PGResult
  let index: Int32

  func isNull(_ c: Int32) -> Bool { result.lib.getisnull(result.handle, index, c) != 0 }

  func withBytes<T>(_ c: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
    guard let p = result.lib.getvalue(result.handle, index, c) else {
      return body(UnsafeBufferPointer(start: nil, count: 0))
    }
    let n = Int(result.lib.getlength(result.handle, index, c))
    return p.withMemoryRebound(to: UInt8.self, capacity: max(n, 1)) { body(UnsafeBufferPointer(start: $0, count: n)) }
  }

  func text(_ c: Int32) -> String { withBytes(c) { String(decoding: $0, as: UTF8.self) } }
  func optionalText(_ c: Int32) -> String? { isNull(c) ? nil : text(c) }

  func int(_ c: Int32) -> Int64 {
    guard let p = result.lib.getvalue(result.handle, index, c) else { return 0 }
    return strtoll(p, nil, 10)
  }
  func optionalInt(_ c: Int32) -> Int64? { isNull(c) ? nil : int(c) }
  func bool(_ c: Int32) -> Bool { withBytes(c) { $0.first == UInt8(ascii: "t") } }

  /// A `bytea` column, from its hex output (`\x0a1b…`).
  func blob(_ c: Int32) -> [UInt8] {
    withBytes(c) { s in
      guard s.count >= 2, s[0] == UInt8(ascii: "\\"), s[1] == UInt8(ascii: "x") else { return [] }
      var out = [UInt8]()
      out.reserveCapacity((s.count - 2) / 2)
      var i = 2
      while i + 1 < s.count {
        out.append(Self.nibble(s[i]) << 4 | Self.nibble(s[i + 1]))
        i += 2
      }
      return out
    }
  }
  func optionalBlob(_ c: Int32) -> [UInt8]? { isNull(c) ? nil : blob(c) }

  private static func nibble(_ c: UInt8) -> UInt8 {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    default: return c &- UInt8(ascii: "A") &+ 10
    }
  }
}

/// Parameters in PostgreSQL's text format.
enum PG {
  static func int(_ v: Int64?) -> String? { v.map { String($0) } }
  static func int(_ v: Int) -> String { String(v) }
  /// A `bytea` in hex form.
  static func bytea(_ b: [UInt8]) -> String { "\\x" + Crypto.hex(b) }
}
