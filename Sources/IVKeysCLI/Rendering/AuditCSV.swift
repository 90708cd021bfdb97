import IVKeysCore

/// `audit export --format csv`: entries as RFC 4180 records.
extension AuditRecord {
  /// The CSV header row (RFC 4180).
  static let csvHeader = "seq,at,event,actor,os_user,key_id,company,ip,detail,prev_hash,hash"

  /// The entry as one RFC 4180 record with its CRLF: fields holding a comma, a quote, CR or LF
  /// are quoted, quotes doubled; an absent value is an empty field.
  func writeCSV(to out: inout [UInt8]) {
    func field(_ s: String?, last: Bool = false) {
      if let s {
        let needsQuotes = s.utf8.contains {
          $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0a || $0 == 0x0d
        }
        if needsQuotes {
          out.append(UInt8(ascii: "\""))
          for b in s.utf8 {
            if b == UInt8(ascii: "\"") { out.append(b) }
            out.append(b)
          }
          out.append(UInt8(ascii: "\""))
        } else {
          out.append(contentsOf: s.utf8)
        }
      }
      if last {
        out.append(0x0d)
        out.append(0x0a)
      } else {
        out.append(UInt8(ascii: ","))
      }
    }
    field(String(seq))
    field(at)
    field(event)
    field(actor)
    field(osUser)
    field(keyID)
    field(company)
    field(ip)
    field(detail)
    field(prevHash)
    field(hash, last: true)
  }
}
