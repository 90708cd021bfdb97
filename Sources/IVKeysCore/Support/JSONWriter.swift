/// Writes compact JSON into a byte buffer: the one serializer ivkeys has, fast enough to stream
/// a vault's worth of keys. Objects and arrays are written through `object` and `array`, which
/// put the commas; a member is one `member` call:
///
///     w.object { w in
///       w.member("id", k.id)
///       w.member("expires_at", time: k.expiresAt)
///     }
public struct JSONWriter {
  public var bytes: [UInt8] = []
  /// How many objects are open, and for each of the innermost 64 whether it has a member yet
  /// (bit `depth - 1`): the builder's comma state, kept in two integers so that a member costs
  /// no allocation and no uniqueness check (`list --json` writes millions of them).
  private var depth = 0
  private var hasMember: UInt64 = 0

  public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

  /// The text written so far.
  public var string: String { String(decoding: bytes, as: UTF8.self) }

  public mutating func clear() { bytes.removeAll(keepingCapacity: true) }

  /// Appends bytes as they are (already JSON, or punctuation).
  public mutating func raw(_ s: StaticString) {
    s.withUTF8Buffer { bytes.append(contentsOf: $0) }
  }

  /// Appends a string that is already valid JSON text.
  public mutating func rawText(_ s: String) { bytes.append(contentsOf: s.utf8) }

  public mutating func null() { raw("null") }

  public mutating func int(_ v: Int64) { bytes.append(contentsOf: String(v).utf8) }

  /// Appends `s` as a JSON string literal, escaping quotes, backslashes, control characters and
  /// bidirectional controls (`Text.isBidiControl`, as `\u202e`): a name holding U+202E cannot
  /// reorder what a person reads in the output, and a parser reads back the same string.
  public mutating func string(_ s: String) {
    var s = s
    s.withUTF8 { string(utf8: $0) }
  }

  /// The same from UTF-8 bytes.
  public mutating func string(utf8 u: UnsafeBufferPointer<UInt8>) {
    bytes.append(UInt8(ascii: "\""))
    var runStart = 0
    for i in 0..<u.count {
      let c = u[i]
      guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c == 0xe2 || c == 0xd8 else { continue }
      if c >= 0x80 {
        guard let (scalar, length) = Text.bidiControl(in: u, at: i) else { continue }
        if i > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<i])) }
        runStart = i + length
        unicodeEscape(scalar)
        continue
      }
      if i > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<i])) }
      runStart = i + 1
      switch c {
      case UInt8(ascii: "\""): raw("\\\"")
      case UInt8(ascii: "\\"): raw("\\\\")
      case 0x0a: raw("\\n")
      case 0x0d: raw("\\r")
      case 0x09: raw("\\t")
      default: unicodeEscape(UInt32(c))
      }
    }
    if u.count > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<u.count])) }
    bytes.append(UInt8(ascii: "\""))
  }

  /// `\uXXXX` for a code point of the Basic Multilingual Plane, lowercase hex.
  private mutating func unicodeEscape(_ v: UInt32) {
    let hex: StaticString = "0123456789abcdef"
    raw("\\u")
    for shift in stride(from: 12, through: 0, by: -4) {
      bytes.append(hex.utf8Start[Int((v >> UInt32(shift)) & 0xf)])
    }
  }

  /// Appends JSON text that is already valid (a list column as the vault stores it), with any
  /// bidirectional control written as `\u202e`. In valid JSON such a character can only be inside
  /// a string, where the escape means the same character.
  public mutating func jsonText(_ s: String) {
    var s = s
    s.withUTF8 { u in
      var runStart = 0
      for i in 0..<u.count where u[i] == 0xe2 || u[i] == 0xd8 {
        guard let (scalar, length) = Text.bidiControl(in: u, at: i) else { continue }
        if i > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<i])) }
        runStart = i + length
        unicodeEscape(scalar)
      }
      if u.count > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<u.count])) }
    }
  }

  /// A string or null.
  public mutating func optional(_ s: String?) {
    if let s { string(s) } else { null() }
  }

  /// A time as an RFC 3339 string, or null.
  public mutating func time(_ t: Timestamp?) {
    guard let t else { return null() }
    bytes.append(UInt8(ascii: "\""))
    Time.appendRFC3339(t, to: &bytes)
    bytes.append(UInt8(ascii: "\""))
  }

  // MARK: - Objects and arrays

  /// Writes one object; `body` adds its members with `member`, which puts the commas.
  public mutating func object(_ body: (inout JSONWriter) -> Void) {
    bytes.append(UInt8(ascii: "{"))
    depth += 1
    hasMember &= ~innermostBit
    body(&self)
    depth -= 1
    bytes.append(UInt8(ascii: "}"))
  }

  /// Writes an array with one element per item of `items`, each written by `element`.
  public mutating func array<S: Sequence>(_ items: S, _ element: (inout JSONWriter, S.Element) -> Void) {
    bytes.append(UInt8(ascii: "["))
    var first = true
    for item in items {
      if !first { bytes.append(UInt8(ascii: ",")) }
      first = false
      element(&self, item)
    }
    bytes.append(UInt8(ascii: "]"))
  }

  /// The bit of the innermost open object in `hasMember`.
  private var innermostBit: UInt64 { depth == 0 ? 0 : 1 << UInt64((depth - 1) & 63) }

  /// A comma unless this is the innermost object's first member.
  private mutating func separateMember() {
    let bit = innermostBit
    if hasMember & bit != 0 { bytes.append(UInt8(ascii: ",")) }
    hasMember |= bit
  }

  /// Starts a member of the object being written: a comma unless it is the first, then
  /// `"name":`. The value follows; `member` does both.
  public mutating func key(_ name: StaticString) {
    separateMember()
    bytes.append(UInt8(ascii: "\""))
    raw(name)
    raw("\":")
  }

  /// A member whose name is only known at run time (a metadata key, say), escaped as a string.
  public mutating func key(_ name: String) {
    separateMember()
    string(name)
    bytes.append(UInt8(ascii: ":"))
  }

  public mutating func member(_ name: StaticString, _ value: String) {
    key(name)
    string(value)
  }

  /// A string, or null.
  public mutating func member(_ name: StaticString, _ value: String?) {
    key(name)
    optional(value)
  }

  public mutating func member(_ name: StaticString, _ value: Int64) {
    key(name)
    int(value)
  }

  public mutating func member(_ name: StaticString, _ value: Int) { member(name, Int64(value)) }

  /// A number, or null.
  public mutating func member(_ name: StaticString, _ value: Int64?) {
    key(name)
    if let value { int(value) } else { null() }
  }

  public mutating func member(_ name: StaticString, _ value: Double) {
    key(name)
    self.value(.number(value))
  }

  public mutating func member(_ name: StaticString, _ value: Bool) {
    key(name)
    raw(value ? "true" : "false")
  }

  /// A time as an RFC 3339 string, or null.
  public mutating func member(_ name: StaticString, time: Timestamp?) {
    key(name)
    self.time(time)
  }

  /// A list of strings.
  public mutating func member(_ name: StaticString, strings: [String]) {
    key(name)
    array(strings) { w, s in w.string(s) }
  }

  /// A value that is already JSON text (a list column as the vault stores it); see `jsonText`.
  public mutating func member(_ name: StaticString, json text: String) {
    key(name)
    jsonText(text)
  }

  /// Any JSON value.
  public mutating func member(_ name: StaticString, _ value: JSON) {
    key(name)
    self.value(value)
  }

  /// A nested object.
  public mutating func member(_ name: StaticString, object body: (inout JSONWriter) -> Void) {
    key(name)
    object(body)
  }

  /// A nested array.
  public mutating func member<S: Sequence>(
    _ name: StaticString, array items: S, _ element: (inout JSONWriter, S.Element) -> Void
  ) {
    key(name)
    array(items, element)
  }

  /// Any JSON value.
  public mutating func value(_ v: JSON) {
    switch v {
    case .null: null()
    case .bool(let b): if b { raw("true") } else { raw("false") }
    case .int(let i): int(i)
    case .number(let d):
      if !d.isFinite { null() } else if d.rounded() == d && abs(d) < 1e15 { int(Int64(d)) } else { rawText("\(d)") }
    case .string(let s): string(s)
    case .array(let a):
      bytes.append(UInt8(ascii: "["))
      for (i, e) in a.enumerated() {
        if i > 0 { bytes.append(UInt8(ascii: ",")) }
        value(e)
      }
      bytes.append(UInt8(ascii: "]"))
    case .object(let m):
      bytes.append(UInt8(ascii: "{"))
      for (i, (k, e)) in m.enumerated() {
        if i > 0 { bytes.append(UInt8(ascii: ",")) }
        string(k)
        bytes.append(UInt8(ascii: ":"))
        value(e)
      }
      bytes.append(UInt8(ascii: "}"))
    }
  }
}
