import IVKeysCore

/// `ivkeys list`: streams keys from the vault. JSON and ids go out row by row; the table reads
/// the rows twice (widths, then text) so memory stays flat however large the vault.
enum ListCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    var filter = try commonFilter(inv)
    filter.type = try KeyOptions.type(inv)
    filter.tag = try inv.parse(.tag, Fields.tag)
    let scopes = try KeyOptions.scopes(inv, .scope)
    guard scopes.count <= 1 else {
      throw .invalidValue(
        option: "--scope", value: inv.value(.scope) ?? "", reason: "list filters on one scope at a time")
    }
    filter.scope = scopes.first
    filter.expiringWithin = try inv.parse(.expiringWithin, Time.parseDuration)
    filter.unusedFor = try inv.parse(.unusedFor, positiveDuration)
    filter.sort = try inv.parse(.sort, KeySort.parse)
    let vault = try ctx.openVault(.read)
    let out = ctx.stdout
    switch ctx.format {
    case .quiet:
      try vault.listKeys(filter) { k in out.line(k.id) }
    case .json:
      var array = JSONArrayStream(out)
      try vault.listKeys(filter) { k in array.append { w in k.writeJSON(to: &w) } }
      array.close()
    case .table:
      var table = Table(headers: KeyRendering.headers, useColor: ctx.useColor, width: ctx.tableWidth)
      var count = 0
      try vault.listKeys(filter) { k in
        table.measure(KeyRendering.row(k))
        count += 1
      }
      guard count > 0 else {
        ctx.note("no keys match")
        return 0
      }
      out.line(table.header())
      try vault.listKeys(filter) { k in out.line(table.render(KeyRendering.row(k))) }
    }
    return 0
  }

  /// The filters `list` and `report` share: `--company`, `--status`, `--env`.
  static func commonFilter(_ inv: Invocation) throws(IVKeysError) -> KeyFilter {
    var filter = KeyFilter()
    filter.company = try inv.parse(.company, Fields.company)
    filter.status = try inv.parse(.status) { (s) throws(ValueError) -> KeyStatus in
      guard let st = KeyStatus(rawValue: s) else {
        throw ValueError("expected one of \(KeyStatus.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      return st
    }
    filter.env = try KeyOptions.env(inv)
    return filter
  }

  /// A duration longer than 0 (`--unused-for`, `sweep --idle`).
  static func positiveDuration(_ s: String) throws(ValueError) -> Int64 {
    let d = try Time.parseDuration(s)
    guard d > 0 else { throw ValueError("must be longer than 0") }
    return d
  }
}
