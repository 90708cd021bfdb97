import IVKeysCore

/// `ivkeys report`: the credential report, one row per key, streamed from the vault in every
/// format (the table reads the rows twice, widths then text), so memory stays flat.
enum ReportCommand {
  /// What `report` writes.
  enum Format: String {
    case table, json, csv, quiet
  }

  /// `--format table|json|csv` is the command's own option (as `audit export`'s is); the global
  /// `--json` and `-q` still apply (the table of global conflicts refuses them beside --format).
  static func format(_ inv: Invocation) throws(IVKeysError) -> Format {
    if inv.flag(.quiet) { return .quiet }
    if inv.flag(.json) { return .json }
    return try inv.parse(.format) { (s) throws(ValueError) -> Format in
      guard let f = Format(rawValue: s), f != .quiet else { throw ValueError("expected table, json or csv") }
      return f
    } ?? .table
  }

  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let format = try format(inv)
    let filter = try ListCommand.commonFilter(inv)
    let vault = try ctx.openVault(.read)
    // One instant for the whole report: every row's ages are counted to it, in both table passes.
    let t = vault.now()
    vault.now = { t }
    let out = ctx.stdout
    switch format {
    case .quiet:
      try vault.credentialReport(filter) { r in out.line(r.id) }
    case .json:
      var array = JSONArrayStream(out)
      try vault.credentialReport(filter) { r in array.append { w in r.writeJSON(to: &w) } }
      array.close()
    case .csv:
      out.write(CredentialReportRow.csvHeader + "\r\n")
      var buffer = [UInt8]()
      buffer.reserveCapacity(512)
      try vault.credentialReport(filter) { r in
        buffer.removeAll(keepingCapacity: true)
        r.writeCSV(to: &buffer)
        out.write(bytes: buffer)
      }
    case .table:
      var table = Table(headers: CredentialReportRow.tableHeaders, useColor: ctx.useColor, width: ctx.tableWidth)
      var count = 0
      try vault.credentialReport(filter) { r in
        table.measure(r.cells)
        count += 1
      }
      guard count > 0 else {
        ctx.note("no keys match")
        return 0
      }
      out.line(table.header())
      try vault.credentialReport(filter) { r in out.line(table.render(r.cells)) }
    }
    try out.flushChecked("the report")
    return 0
  }
}
