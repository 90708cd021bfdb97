/// One object of a vault's schema, as an engine describes it.
struct SchemaObject: Equatable {
  let type: String
  let name: String
  let table: String
  let sql: String?

  /// SHA-256 over `objects` with the same unambiguous encoding as a seal (each field typed and
  /// length-prefixed), after the catalog's name: the schema's fingerprint on either engine.
  static func fingerprint(_ objects: [SchemaObject], catalog: String) -> String {
    var text = SealMessage(table: catalog, primaryKey: "")
    for object in objects {
      text.append(.text(object.type))
      text.append(.text(object.name))
      text.append(.text(object.table))
      text.text(object.sql)
    }
    return Crypto.hex(Crypto.sha256(text.bytes))
  }

  /// Whether the fingerprint at the end of a recorded setting (`<cookie> <sha>`, `pg <cookie>
  /// <sha>`) is `current`, compared in constant time.
  static func matches(recorded: String, current: String) -> Bool {
    let hash = recorded.split(separator: " ").last.map(String.init) ?? ""
    return Crypto.constantTimeEqual(Array(hash.utf8), Array(current.utf8))
  }

  /// Each object added, dropped or changed in `actual` against `expected`, objects named by
  /// `name`, in name order.
  static func differences(
    actual: [SchemaObject], expected: [SchemaObject], name: (SchemaObject) -> String = { "\($0.type) \($0.name)" }
  ) -> [String] {
    let want = Dictionary(expected.map { (name($0), $0) }, uniquingKeysWith: { a, _ in a })
    let have = Dictionary(actual.map { (name($0), $0) }, uniquingKeysWith: { a, _ in a })
    var out = [String]()
    for (n, object) in have.sorted(by: { $0.key < $1.key }) {
      if let e = want[n] {
        if e.sql != object.sql || e.table != object.table { out.append("\(n) was changed") }
      } else {
        out.append("\(n) was added")
      }
    }
    for n in want.keys.sorted() where have[n] == nil { out.append("\(n) was dropped") }
    return out
  }
}
