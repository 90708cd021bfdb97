import IVKeysCore

/// `audit export --format csv`: entries as RFC 4180 records.
extension AuditRecord {
  /// The CSV header row (RFC 4180).
  static let csvHeader = "seq,at,event,actor,os_user,key_id,company,ip,detail,prev_hash,hash"

  /// The entry as one RFC 4180 record with its CRLF; each field is a `CSVCell`, an absent value
  /// an empty field.
  func writeCSV(to out: inout [UInt8]) {
    for (i, field) in [String(seq), at, event, actor, osUser, keyID, company, ip, detail, prevHash, hash].enumerated() {
      if i > 0 { out.append(UInt8(ascii: ",")) }
      if let field { CSVCell.append(field, to: &out) }
    }
    out.append(0x0d)
    out.append(0x0a)
  }
}

/// One CSV cell as ivkeys writes it, for a spreadsheet as much as for a parser.
enum CSVCell {
  /// The first characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
  /// Injection": `=`, `+`, `-`, `@`, tab and carriage return). Such a cell gets a leading `'`,
  /// which spreadsheets show as text and do not evaluate.
  static let formulaStarts: Set<UInt8> = [
    UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0d,
  ]

  /// Appends `value` as one cell: a cell that would start a formula is neutralized with `'`;
  /// bidirectional controls are written as visible text (`\u{202e}`, `Text.escapeBidi`); a cell
  /// holding a comma, a double quote, CR or LF is quoted, each double quote doubled (RFC 4180).
  static func append(_ value: String, to out: inout [UInt8]) {
    let s = Text.escapeBidi(value)
    let neutralize = s.utf8.first.map { formulaStarts.contains($0) } ?? false
    let needsQuotes = s.utf8.contains {
      $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0a || $0 == 0x0d
    }
    if needsQuotes { out.append(UInt8(ascii: "\"")) }
    if neutralize { out.append(UInt8(ascii: "'")) }
    for b in s.utf8 {
      if needsQuotes && b == UInt8(ascii: "\"") { out.append(b) }
      out.append(b)
    }
    if needsQuotes { out.append(UInt8(ascii: "\"")) }
  }
}
