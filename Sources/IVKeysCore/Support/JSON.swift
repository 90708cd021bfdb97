/// A JSON value, for the small documents ivkeys stores (lists, metadata, audit details) and reads.
public enum JSON: Equatable, Sendable {
  case null
  case bool(Bool)
  case number(Double)
  case int(Int64)
  case string(String)
  case array([JSON])
  /// Members in the order given; serialization keeps that order.
  case object([(String, JSON)])

  public static func == (a: JSON, b: JSON) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.number(let x), .number(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.int(let x), .number(let y)), (.number(let y), .int(let x)): return Double(x) == y
    case (.string(let x), .string(let y)): return x == y
    case (.array(let x), .array(let y)): return x == y
    case (.object(let x), .object(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }

  /// A string array.
  public static func strings(_ list: [String]) -> JSON { .array(list.map { .string($0) }) }

  /// A string or null.
  public static func optional(_ s: String?) -> JSON { s.map { .string($0) } ?? .null }

  /// A string-to-string object, keys sorted so the encoding is canonical.
  public static func dictionary(_ d: [String: String]) -> JSON {
    .object(d.keys.sorted().map { ($0, .string(d[$0]!)) })
  }

  // MARK: - Accessors

  public subscript(key: String) -> JSON? {
    if case .object(let members) = self { return members.first(where: { $0.0 == key })?.1 }
    return nil
  }

  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }
  public var arrayValue: [JSON]? {
    if case .array(let a) = self { return a }
    return nil
  }
  public var isNull: Bool {
    if case .null = self { return true }
    return false
  }
  public var int64Value: Int64? {
    switch self {
    case .int(let i): return i
    case .number(let d): return d.rounded() == d && abs(d) < 9e15 ? Int64(d) : nil
    default: return nil
    }
  }

  /// The array's strings; nil unless every element is a string.
  public var stringArray: [String]? {
    guard case .array(let a) = self else { return nil }
    var out = [String]()
    out.reserveCapacity(a.count)
    for v in a {
      guard case .string(let s) = v else { return nil }
      out.append(s)
    }
    return out
  }

  /// The object's string members in order; nil unless every value is a string.
  public var stringPairs: [(String, String)]? {
    guard case .object(let m) = self else { return nil }
    var out = [(String, String)]()
    for (k, v) in m {
      guard case .string(let s) = v else { return nil }
      out.append((k, s))
    }
    return out
  }

  // MARK: - Encoding

  /// Compact JSON text.
  public var encoded: String {
    var w = JSONWriter()
    w.value(self)
    return w.string
  }

  // MARK: - Decoding

  /// Parses a complete JSON document (RFC 8259). Nesting deeper than 64 levels is refused.
  public static func parse(_ text: String) throws(ValueError) -> JSON {
    var text = text
    let result = text.withUTF8 { (buffer) -> Result<JSON, ValueError> in
      var parser = Parser(bytes: buffer)
      do throws(ValueError) {
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == buffer.count else { throw ValueError("unexpected text after the JSON value") }
        return .success(value)
      } catch {
        return .failure(error)
      }
    }
    return try result.get()
  }

  /// A flat object whose values are all strings or null, as `verify --batch` lines are: the
  /// members in order, or nil for anything else (the caller then parses generically to say why).
  /// Strings are decoded exactly as `parse` decodes them.
  public static func parseFlatStrings(_ bytes: UnsafeBufferPointer<UInt8>) -> [(String, String?)]? {
    var p = Parser(bytes: bytes)
    var members = [(String, String?)]()
    members.reserveCapacity(6)
    do throws(ValueError) {
      p.skipWhitespace()
      guard p.index < bytes.count, bytes[p.index] == UInt8(ascii: "{") else { return nil }
      p.index += 1
      p.skipWhitespace()
      if p.index < bytes.count, bytes[p.index] == UInt8(ascii: "}") {
        p.index += 1
      } else {
        while true {
          p.skipWhitespace()
          guard p.index < bytes.count, bytes[p.index] == UInt8(ascii: "\"") else { return nil }
          let key = try p.parseString()
          p.skipWhitespace()
          guard p.index < bytes.count, bytes[p.index] == UInt8(ascii: ":") else { return nil }
          p.index += 1
          p.skipWhitespace()
          guard p.index < bytes.count else { return nil }
          if bytes[p.index] == UInt8(ascii: "\"") {
            members.append((key, try p.parseString()))
          } else if bytes[p.index] == UInt8(ascii: "n") {
            _ = try p.expect("null", .null)
            members.append((key, nil))
          } else {
            return nil
          }
          p.skipWhitespace()
          guard p.index < bytes.count else { return nil }
          if bytes[p.index] == UInt8(ascii: ",") {
            p.index += 1
            continue
          }
          if bytes[p.index] == UInt8(ascii: "}") {
            p.index += 1
            break
          }
          return nil
        }
      }
      p.skipWhitespace()
      return p.index == bytes.count ? members : nil
    } catch {
      return nil
    }
  }

  private struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    mutating func skipWhitespace() {
      while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
    }

    mutating func expect(_ literal: StaticString, _ value: JSON) throws(ValueError) -> JSON {
      let n = literal.utf8CodeUnitCount
      guard index + n <= bytes.count else { throw ValueError("truncated JSON") }
      for i in 0..<n where bytes[index + i] != literal.utf8Start[i] { throw ValueError("invalid JSON literal") }
      index += n
      return value
    }

    mutating func parseValue(depth: Int) throws(ValueError) -> JSON {
      guard index < bytes.count else { throw ValueError("truncated JSON") }
      switch bytes[index] {
      case UInt8(ascii: "n"): return try expect("null", .null)
      case UInt8(ascii: "t"): return try expect("true", .bool(true))
      case UInt8(ascii: "f"): return try expect("false", .bool(false))
      case UInt8(ascii: "\""): return .string(try parseString())
      case UInt8(ascii: "["):
        guard depth < 64 else { throw ValueError("JSON nested too deeply") }
        index += 1
        var items = [JSON]()
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
          index += 1
          return .array(items)
        }
        while true {
          skipWhitespace()
          items.append(try parseValue(depth: depth + 1))
          skipWhitespace()
          guard index < bytes.count else { throw ValueError("truncated JSON") }
          if bytes[index] == UInt8(ascii: ",") {
            index += 1
            continue
          }
          if bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
          }
          throw ValueError("expected ',' or ']' in JSON array")
        }
      case UInt8(ascii: "{"):
        guard depth < 64 else { throw ValueError("JSON nested too deeply") }
        index += 1
        var members = [(String, JSON)]()
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
          index += 1
          return .object(members)
        }
        while true {
          skipWhitespace()
          guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
            throw ValueError("expected a member name in JSON object")
          }
          let key = try parseString()
          skipWhitespace()
          guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
            throw ValueError("expected ':' in JSON object")
          }
          index += 1
          skipWhitespace()
          members.append((key, try parseValue(depth: depth + 1)))
          skipWhitespace()
          guard index < bytes.count else { throw ValueError("truncated JSON") }
          if bytes[index] == UInt8(ascii: ",") {
            index += 1
            continue
          }
          if bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
          }
          throw ValueError("expected ',' or '}' in JSON object")
        }
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return try parseNumber()
      default:
        throw ValueError("unexpected character in JSON")
      }
    }

    mutating func parseNumber() throws(ValueError) -> JSON {
      let start = index
      var isInteger = true
      if bytes[index] == UInt8(ascii: "-") { index += 1 }
      guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
        throw ValueError("invalid JSON number")
      }
      if bytes[index] == UInt8(ascii: "0") {
        index += 1
      } else {
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
      }
      if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
        isInteger = false
        index += 1
        let digits = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        guard index > digits else { throw ValueError("invalid JSON number") }
      }
      if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
        isInteger = false
        index += 1
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
        let digits = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        guard index > digits else { throw ValueError("invalid JSON number") }
      }
      let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
      if isInteger, let i = Int64(text) { return .int(i) }
      guard let d = Double(text) else { throw ValueError("invalid JSON number") }
      return .number(d)
    }

    mutating func parseHex4() throws(ValueError) -> UInt32 {
      guard index + 4 <= bytes.count else { throw ValueError("truncated \\u escape in JSON") }
      var v: UInt32 = 0
      for _ in 0..<4 {
        let c = bytes[index]
        let d: UInt32
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
        default: throw ValueError("invalid \\u escape in JSON")
        }
        v = v << 4 | d
        index += 1
      }
      return v
    }

    mutating func parseString() throws(ValueError) -> String {
      index += 1  // opening quote
      let start = index
      // Fast path: no escapes.
      while index < bytes.count {
        let c = bytes[index]
        if c == UInt8(ascii: "\"") {
          let s = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
          index += 1
          guard let s else { throw ValueError("invalid UTF-8 in JSON string") }
          return s
        }
        if c == UInt8(ascii: "\\") || c < 0x20 { break }
        index += 1
      }
      var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<index]))
      while index < bytes.count {
        let c = bytes[index]
        if c == UInt8(ascii: "\"") {
          index += 1
          guard let s = String(validating: out, as: UTF8.self) else { throw ValueError("invalid UTF-8 in JSON string") }
          return s
        }
        if c < 0x20 { throw ValueError("control character in JSON string") }
        if c != UInt8(ascii: "\\") {
          out.append(c)
          index += 1
          continue
        }
        index += 1
        guard index < bytes.count else { break }
        let e = bytes[index]
        index += 1
        switch e {
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0c)
        case UInt8(ascii: "n"): out.append(0x0a)
        case UInt8(ascii: "r"): out.append(0x0d)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
          var scalar = try parseHex4()
          if (0xD800...0xDBFF).contains(scalar) {
            guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
            else {
              throw ValueError("unpaired surrogate in JSON string")
            }
            index += 2
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw ValueError("unpaired surrogate in JSON string") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          }
          guard let u = Unicode.Scalar(scalar) else { throw ValueError("invalid \\u escape in JSON string") }
          out.append(contentsOf: String(u).utf8)
        default: throw ValueError("invalid escape in JSON string")
        }
      }
      throw ValueError("unterminated JSON string")
    }
  }
}
