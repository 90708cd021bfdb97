import CSQLite

/// The current row of a statement; valid only inside the closure that receives it.
struct Row: StoredRow {
  let handle: OpaquePointer

  func isNull(_ i: Int32) -> Bool { sqlite3_column_type(handle, i) == SQLITE_NULL }
  func int(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }
  func optionalInt(_ i: Int32) -> Int64? { isNull(i) ? nil : int(i) }
  func text(_ i: Int32) -> String {
    guard let p = sqlite3_column_text(handle, i) else { return "" }
    let n = Int(sqlite3_column_bytes(handle, i))
    return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
  }
  func optionalText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }
  func blob(_ i: Int32) -> [UInt8] {
    let n = Int(sqlite3_column_bytes(handle, i))
    guard n > 0, let p = sqlite3_column_blob(handle, i) else { return [] }
    return Array(UnsafeRawBufferPointer(start: p, count: n))
  }
  func optionalBlob(_ i: Int32) -> [UInt8]? { isNull(i) ? nil : blob(i) }
  /// Raw UTF-8 bytes of a text column, without copying into a String.
  func withText<T>(_ i: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
    let p = sqlite3_column_text(handle, i)
    let n = Int(sqlite3_column_bytes(handle, i))
    return body(UnsafeBufferPointer(start: p, count: p == nil ? 0 : n))
  }
}

/// A row as either engine gives it: what code shared by the engines reads.
protocol StoredRow {
  func isNull(_ i: Int32) -> Bool
  func int(_ i: Int32) -> Int64
  func optionalInt(_ i: Int32) -> Int64?
  func text(_ i: Int32) -> String
  func optionalText(_ i: Int32) -> String?
  func blob(_ i: Int32) -> [UInt8]
  func optionalBlob(_ i: Int32) -> [UInt8]?
}
