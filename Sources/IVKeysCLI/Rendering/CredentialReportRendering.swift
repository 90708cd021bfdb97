import IVKeysCore

/// The credential report as CSV records and table rows (its JSON is in `ReportJSON.swift`).
extension CredentialReportRow {
  /// The CSV header row (RFC 4180): the report's columns.
  static let csvHeader = columns.joined(separator: ",")

  /// The table's headers, one a column.
  static let tableHeaders = [
    "ID", "COMPANY", "ENV", "TYPE", "STATUS", "CREATED", "AGE", "EXPIRES", "LAST USED", "LAST IP", "REQUESTS",
    "ERRORS", "ERROR RATE", "ROTATION DUE", "IDLE", "SECRET",
  ]

  /// Errors over requests as JSON writes the number (`0.25`), or nil.
  var errorRateText: String? {
    guard let errorRate else { return nil }
    var w = JSONWriter(capacity: 24)
    w.value(.number(errorRate))
    return w.string
  }

  /// The row as one RFC 4180 record with its CRLF, each field written by `CSVCell` (the same
  /// escaping as `audit export --format csv`); an absent value is an empty field.
  func writeCSV(to out: inout [UInt8]) {
    let fields: [String?] = [
      id, company, env.rawValue, type.rawValue, status, Time.rfc3339(createdAt), String(ageDays),
      expiresAt.map(Time.rfc3339), lastUsedAt.map(Time.rfc3339), lastIP, String(requests), String(errors),
      errorRateText, rotationDueAt.map(Time.rfc3339), String(idleDays), String(secretVersion),
    ]
    for (i, field) in fields.enumerated() {
      if i > 0 { out.append(UInt8(ascii: ",")) }
      if let field { CSVCell.append(field, to: &out) }
    }
    out.append(0x0d)
    out.append(0x0a)
  }

  /// The row as table cells: dates as days, ages as `12d`, the error rate as a percentage.
  var cells: [Cell] {
    func day(_ t: Timestamp?) -> Cell { Cell(t.map(Time.day) ?? "-") }
    return [
      Cell(id), Cell(company), Cell(env.rawValue), Cell(type.rawValue), Cell(status), day(createdAt),
      Cell("\(ageDays)d"), day(expiresAt), day(lastUsedAt), Cell(lastIP ?? "-"), Cell(String(requests)),
      Cell(String(errors)), Cell(errorRate.map(UsageCommand.percent) ?? "-"), day(rotationDueAt),
      Cell("\(idleDays)d"), Cell(String(secretVersion)),
    ]
  }
}
