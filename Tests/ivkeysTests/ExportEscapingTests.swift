import Foundation
import Testing

@testable import IVKeysCLI
@testable import IVKeysCore

/// Exports a spreadsheet or a person will open: no cell runs as a formula, and no bidirectional
/// control reorders what is read.
@Suite("export escaping")
struct ExportEscapingTests {
  /// A strict RFC 4180 reader: records of fields, CRLF line ends.
  static func parseCSV(_ text: String) -> [[String]] {
    var records = [[String]]()
    var field = ""
    var record = [String]()
    var quoted = false
    var chars = Array(text.unicodeScalars)[...]
    while let c = chars.popFirst() {
      if quoted {
        if c == "\"" {
          if chars.first == "\"" {
            field.unicodeScalars.append("\"")
            chars.removeFirst()
          } else {
            quoted = false
          }
        } else {
          field.unicodeScalars.append(c)
        }
      } else if c == "\"" {
        quoted = true
      } else if c == "," {
        record.append(field)
        field = ""
      } else if c == "\r" && chars.first == "\n" {
        chars.removeFirst()
        record.append(field)
        records.append(record)
        record = []
        field = ""
      } else {
        field.unicodeScalars.append(c)
      }
    }
    return records
  }

  static let bidi: [Unicode.Scalar] = [
    "\u{202A}", "\u{202B}", "\u{202C}", "\u{202D}", "\u{202E}", "\u{2066}", "\u{2067}", "\u{2068}", "\u{2069}",
    "\u{200E}", "\u{200F}", "\u{061C}",
  ]

  @Test func csvCellsThatStartAFormulaAreNeutralized() throws {
    let s = try Sandbox()
    for company in ["=1+2", "+1", "-1", "@SUM(A1)", "plain"] {
      let r = s.run("create", "--company=\(company)", "--name", "n", "--scope", "jobs:read", "-q")
      #expect(r.status == 0, "\(company): \(r.stderr)")
    }
    let csv = s.run("audit", "export", "--format", "csv", "--event", "key.created")
    #expect(csv.status == 0)
    let records = Self.parseCSV(csv.stdout)
    #expect(records.count == 6 && records.allSatisfy { $0.count == 11 })
    #expect(records.dropFirst().map { $0[6] } == ["'=1+2", "'+1", "'-1", "'@SUM(A1)", "plain"])
    // A cell that is quoted too keeps its quote first and its apostrophe inside.
    var out = [UInt8]()
    CSVCell.append("=HYPERLINK(\"http://x\",\"y\")", to: &out)
    #expect(String(decoding: out, as: UTF8.self) == "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"")
    for (cell, written) in [("\tx", "'\tx"), ("\rx", "\"'\rx\""), ("a=b", "a=b"), ("", ""), ("1-2", "1-2")] {
      var o = [UInt8]()
      CSVCell.append(cell, to: &o)
      #expect(String(decoding: o, as: UTF8.self) == written, "\(cell.debugDescription)")
    }
  }

  @Test func bidiControlsAreEscapedInCSVJSONAndTables() throws {
    let s = try Sandbox()
    let name = "invoice\u{202E}fdp.exe"
    let claim = "bot\u{2067}x\u{061C}"
    let r = s.run(
      ["create", "--company", "acme", "--name", name, "--scope", "jobs:read", "--meta", "note=a\u{200F}b", "-q"],
      env: ["IVKEYS_ACTOR": claim])
    #expect(r.status == 0, "\(r.stderr)")
    for args in [
      ["audit", "export", "--format", "csv"], ["audit", "export"], ["audit", "--json"], ["audit"], ["list", "--json"],
      ["list"],
    ] {
      let out = s.run(args)
      #expect(out.status == 0, "\(args)")
      #expect(!out.stdout.unicodeScalars.contains { Self.bidi.contains($0) }, "\(args) prints a bidi control")
    }
    let csv = Self.parseCSV(s.run("audit", "export", "--format", "csv", "--event", "key.created").stdout)
    #expect(csv[1][3].hasSuffix("(claims bot\\u{2067}x\\u{61c})"), "\(csv[1][3])")
    // JSON escapes them as \uXXXX: a parser reads back the very string given.
    let listed = try #require(try s.run("list", "--json").json() as? [[String: Any]])
    #expect(listed.first?["name"] as? String == name)
    #expect((listed.first?["metadata"] as? [String: String])?["note"] == "a\u{200F}b")
    #expect(s.run("list", "--json").stdout.contains("invoice\\u202efdp.exe"))
    let exported = try #require(
      s.run("audit", "export", "--event", "key.created").lines.first.flatMap {
        try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
      })
    #expect((exported["detail"] as? [String: Any])?["name"] as? String == name)
    #expect((exported["actor"] as? String)?.hasSuffix("(claims \(claim))") == true)
  }

  /// A list column an older ivkeys stored with the control as it is (JSON allows it) is escaped
  /// when printed.
  @Test func storedJSONIsEscapedWhenPrinted() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    try s.edit(
      "UPDATE keys SET metadata = ? WHERE id = ?", [.text("{\"note\":\"x\u{202E}y\"}"), .text(k.id)])
    let out = s.run("show", k.id, "--json")
    #expect(out.status == 0)
    #expect(!out.stdout.unicodeScalars.contains("\u{202E}"))
    #expect(out.stdout.contains("\"note\":\"x\\u202ey\""))
    let shown = try #require(try out.json() as? [String: Any])
    #expect((shown["metadata"] as? [String: String])?["note"] == "x\u{202E}y")
  }

  @Test func theJSONWriterEscapesEveryBidiControlAndNothingElse() throws {
    for u in Self.bidi {
      var w = JSONWriter()
      w.string("a\(Character(u))b")
      let hex = String(u.value, radix: 16)
      #expect(w.string == "\"a\\u\(String(repeating: "0", count: 4 - hex.count) + hex)b\"")
      #expect(try JSON.parse(w.string) == .string("a\(Character(u))b"))
    }
    var w = JSONWriter()
    // Neighbours of the controls, and other characters that share their first UTF-8 byte, pass.
    let plain = "\u{2029}\u{2010}\u{2065}\u{206A}\u{200D}\u{2030}\u{061B}\u{0600}é€"
    w.string(plain)
    #expect(w.string == "\"" + plain + "\"")
    var t = JSONWriter()
    t.jsonText("[\"x\u{202E}\",\"\u{2066}\"]")
    #expect(t.string == "[\"x\\u202e\",\"\\u2066\"]")
  }
}
