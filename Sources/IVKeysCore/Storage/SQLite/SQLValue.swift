/// A value bound to a statement parameter.
enum SQLValue: Sendable {
  case null
  case int(Int64)
  case text(String)
  case blob([UInt8])
}

extension SQLValue {
  static func optional(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
  static func optional(_ i: Int64?) -> SQLValue { i.map { .int($0) } ?? .null }
}
