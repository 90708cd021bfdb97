import COpenSSL

/// Row seals: what makes the state a decision reads as trustworthy as the audit log's history.
///
/// A sealed row carries `seal` = HMAC-SHA256 under the current secret version's seal key
/// (`SecretVersion.sealKey`, its own label) over `SealMessage`: a fixed tag, the row's table and
/// primary key, then each sealed column in a fixed order, typed as stored. Someone who can write
/// the vault but lacks the secret can change no sealed column, move a row to another primary key
/// or table, or change a value's stored type without the seal failing. Columns no decision reads
/// (a key's name, metadata, tags, contact, created_at/by, usage counters, rate windows) are not
/// sealed: the audit log proves who set them.
///
/// Both engines compute the same message from the same values, so a seal survives a copy
/// between them.

/// A sealed column's value, as stored.
public enum SealValue: Sendable {
  case null
  case int(Int64)
  case text(String)
  case blob([UInt8])
  /// A floating-point value: only a hand-edited row holds one in a sealed column.
  case real(Double)
}

/// The canonical encoding of one row for its seal: the table and primary key, then each value
/// with a type tag and, for text and blobs, its length as an unsigned LEB128 varint, so no two
/// different rows encode alike. Compact on purpose: a seal costs one SHA-256 block per 64 bytes,
/// and `list` and `create` seal or check one per key (a key row is about 250 bytes).
struct SealMessage {
  private(set) var bytes: [UInt8]

  /// A message for the row of `table` whose primary key is `primaryKey`.
  init(table: String, primaryKey: String) {
    bytes = []
    bytes.reserveCapacity(320)
    append(.text(table))
    append(.text(primaryKey))
  }

  /// Starts the message over for another row, keeping the buffer (a listing seals a row a key).
  mutating func restart(table: String, primaryKey: UnsafeRawBufferPointer) {
    bytes.removeAll(keepingCapacity: true)
    append(.text(table))
    appendBytes(tag: 3, primaryKey)
  }

  mutating func append(_ value: SealValue) {
    switch value {
    case .null: bytes.append(0)
    case .int(let v): appendFixed(tag: 1, UInt64(bitPattern: v))
    case .real(let d): appendFixed(tag: 2, d.bitPattern)
    case .text(var s): s.withUTF8 { appendBytes(tag: 3, UnsafeRawBufferPointer($0)) }
    case .blob(let b): b.withUnsafeBytes { appendBytes(tag: 4, $0) }
    }
  }

  /// A text (tag 3) or blob (tag 4) value from its bytes: tag, length, bytes.
  mutating func appendBytes(tag: UInt8, _ value: UnsafeRawBufferPointer) {
    bytes.append(tag)
    var n = UInt64(value.count)
    while n >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: n) | 0x80)
      n >>= 7
    }
    bytes.append(UInt8(n))
    // A typed buffer: Array's contiguous fast path (a raw buffer goes element by element).
    bytes.append(
      contentsOf: UnsafeBufferPointer(start: value.baseAddress?.assumingMemoryBound(to: UInt8.self), count: value.count)
    )
  }

  mutating func text(_ s: String?) { append(s.map { .text($0) } ?? .null) }

  /// A tag and 8 bytes, most significant first.
  private mutating func appendFixed(tag: UInt8, _ v: UInt64) {
    bytes.append(tag)
    withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0.bindMemory(to: UInt8.self)) }
  }
}

/// Seals rows and checks seals with one secret version's seal key.
public struct RowSealer: @unchecked Sendable {
  let key: HMACKey
  /// The secret version whose seal key this is.
  let version: Int

  /// The seal of a row.
  func seal(_ message: SealMessage) -> [UInt8] { key.mac(message.bytes) }

  /// Whether `stored` is the row's seal (constant-time).
  func verify(_ message: SealMessage, _ stored: [UInt8]?) -> Bool {
    guard let stored else { return false }
    return Crypto.constantTimeEqual(seal(message), stored)
  }

  /// The same against a seal in a buffer (a column as the engine holds it), with no copy.
  func verify(_ message: SealMessage, stored: UnsafeRawBufferPointer) -> Bool {
    guard stored.count == 32, let base = stored.baseAddress else { return false }
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { out in
      message.bytes.withUnsafeBytes { key.mac($0, into: out.baseAddress!) }
      return CRYPTO_memcmp(out.baseAddress, base, 32) == 0
    }
  }
}

/// The tables whose rows are sealed, by the name seals use (the same on every engine).
enum SealedTable: String, CaseIterable {
  case keys, admins, scopes, meta
  case secretVersions = "secret_versions"
  case workingHours = "working_hours"
}

/// A sealed row that does not match its seal: what `doctor` names.
public struct BrokenSeal: Sendable, Equatable {
  /// The table, by its sealed name (`keys`, `admins`, `scopes`, `meta`).
  public let table: String
  /// The row's primary key (a key id, a user, a scope, a meta name).
  public let primaryKey: String
}
