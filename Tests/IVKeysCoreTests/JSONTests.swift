import Foundation
import Testing

@testable import IVKeysCore

/// `depth` arrays nested inside each other, innermost `inner`.
private func nested(_ depth: Int, _ inner: String = "") -> String {
  String(repeating: "[", count: depth) + inner + String(repeating: "]", count: depth)
}

private func writeString(_ s: String) -> String {
  var w = JSONWriter()
  w.string(s)
  return w.string
}

@Suite("JSON")
struct JSONTests {
  // MARK: - Parsing

  @Test("parses every kind of value")
  func parsesValues() throws {
    let doc = try JSON.parse(
      #" { "a" : 1 , "b" : [ true , false , null ] , "c" : "x" , "d" : -2.5e3 , "e" : {} , "f" : [] } "#)
    #expect(doc["a"] == .int(1))
    #expect(doc["b"] == .array([.bool(true), .bool(false), .null]))
    #expect(doc["c"] == .string("x"))
    #expect(doc["d"] == .number(-2500))
    #expect(doc["e"] == .object([]))
    #expect(doc["f"] == .array([]))
    #expect(doc["missing"] == nil)
    #expect(try JSON.parse("0") == .int(0))
    #expect(try JSON.parse("-0") == .int(0))
    #expect(try JSON.parse("9007199254740993") == .int(9_007_199_254_740_993), "large integers keep precision")
    #expect(try JSON.parse("0.5") == .number(0.5))
    #expect(try JSON.parse("1E2") == .number(100))
    #expect(try JSON.parse("\t\r\n null \n") == .null)
  }

  @Test("object members keep their order")
  func memberOrder() throws {
    let doc = try JSON.parse(#"{"z":1,"a":2,"m":3}"#)
    guard case .object(let members) = doc else {
      Issue.record("not an object: \(doc)")
      return
    }
    #expect(members.map(\.0) == ["z", "a", "m"])
    #expect(doc.encoded == #"{"z":1,"a":2,"m":3}"#)
  }

  @Test("string escapes")
  func stringEscapes() throws {
    #expect(try JSON.parse(#""a\"b""#) == .string("a\"b"))
    #expect(try JSON.parse(#""a\\b""#) == .string("a\\b"))
    #expect(try JSON.parse(#""a\/b""#) == .string("a/b"))
    #expect(try JSON.parse(#""a\nb\tc\rd\be\ff""#) == .string("a\nb\tc\rd\u{08}e\u{0c}f"))
    #expect(try JSON.parse(#""\u0001""#) == .string("\u{01}"))
    #expect(try JSON.parse(#""\u0000""#) == .string("\u{00}"))
    #expect(try JSON.parse(#""caf\u00e9""#) == .string("café"))
    #expect(try JSON.parse(#""\u00E9\u20AC""#) == .string("é€"))
    #expect(try JSON.parse(#""plain \u00e9 and more""#) == .string("plain é and more"))
  }

  @Test("surrogate pairs make one scalar; lone surrogates are refused")
  func surrogates() throws {
    #expect(try JSON.parse(#""\ud83d\ude00""#) == .string("😀"))
    #expect(try JSON.parse(#""\uD834\uDD1E""#) == .string("\u{1D11E}"))
    #expect(try JSON.parse(#""x\ud83d\ude00y""#) == .string("x😀y"))
    #expect(throws: ValueError.self) { try JSON.parse(#""\ud83d""#) }
    #expect(throws: ValueError.self) { try JSON.parse(#""\ud83dx""#) }
    #expect(throws: ValueError.self) { try JSON.parse(#""\ude00""#) }
    #expect(throws: ValueError.self) { try JSON.parse(#""\ud83d\u0041""#) }
  }

  @Test("raw UTF-8 in strings is kept")
  func rawUTF8() throws {
    #expect(try JSON.parse("\"héllo 😀 中文\"") == .string("héllo 😀 中文"))
  }

  @Test(
    "malformed documents are refused",
    arguments: [
      "",
      " ",
      "[1,]",
      "[1,,2]",
      "[,1]",
      #"{"a":1,}"#,
      #"{"a" 1}"#,
      #"{a:1}"#,
      #"{"a":1 "b":2}"#,
      "[1 2]",
      "[1",
      "{",
      #"{"a":"#,
      #""abc"#,
      #""abc\"#,
      #""abc\""#,
      #""\x41""#,
      #""\'""#,
      #""\u12""#,
      #""\u12G4""#,
      "\"a\nb\"",
      "\"a\u{01}b\"",
      "'a'",
      "tru",
      "nul",
      "True",
      "NaN",
      "Infinity",
      "01",
      "1.",
      ".5",
      "-",
      "1e",
      "+1",
      "0x10",
      "1 2",
      "{} {}",
      "null x",
    ])
  func refused(text: String) {
    #expect(throws: ValueError.self, "\(text)") { try JSON.parse(text) }
  }

  @Test("nesting: 64 levels are accepted, deeper documents are refused")
  func nesting() throws {
    #expect(try JSON.parse(nested(32, "1")) != .null)
    #expect(try JSON.parse(nested(64)) != .null)
    #expect(throws: ValueError.self) { try JSON.parse(nested(65)) }
    #expect(throws: ValueError.self) { try JSON.parse(nested(100_000)) }
    let deepObject = String(repeating: #"{"a":"#, count: 100) + "1" + String(repeating: "}", count: 100)
    #expect(throws: ValueError.self) { try JSON.parse(deepObject) }
    // An unclosed deep document is refused rather than crashing.
    #expect(throws: ValueError.self) { try JSON.parse(String(repeating: "[", count: 100_000)) }
  }

  @Test("64 levels of arrays around a value are within the documented limit")
  func nestingLimitCountsContainers() throws {
    #expect(throws: Never.self) { try JSON.parse(nested(64, "1")) }
    #expect(throws: Never.self) {
      try JSON.parse(String(repeating: #"{"a":"#, count: 64) + "1" + String(repeating: "}", count: 64))
    }
  }

  // MARK: - Encoding

  @Test("compact encoding of a composite value")
  func encodesComposite() {
    let value = JSON.object([
      ("a", .int(1)),
      ("b", .array([.bool(true), .bool(false), .null])),
      ("c", .string("x")),
      ("d", .number(1.5)),
      ("e", .object([])),
      ("f", .array([])),
      ("g", .int(-42)),
    ])
    #expect(value.encoded == #"{"a":1,"b":[true,false,null],"c":"x","d":1.5,"e":{},"f":[],"g":-42}"#)
    #expect(JSON.number(2).encoded == "2")
    #expect(JSON.number(.nan).encoded == "null")
    #expect(JSON.dictionary(["b": "2", "a": "1"]).encoded == #"{"a":"1","b":"2"}"#)
  }

  @Test("parse(encoded) round-trips")
  func roundTrip() throws {
    let values: [JSON] = [
      .null, .bool(true), .int(0), .int(Int64.max), .int(Int64.min), .number(0.1), .number(-1.25e-7),
      .string(""),
      .string("quote \" backslash \\ slash / newline \n tab \t nul \u{0} bell \u{07} esc \u{1b} del \u{7f}"),
      .string("é 😀 \u{2028} \u{2029}"),
      .array([.int(1), .string("two"), .array([.null]), .object([("k", .string("v"))])]),
      .object([("", .int(1)), ("with \"quote\"", .array([])), ("nested", .object([("x", .bool(false))]))]),
    ]
    for v in values {
      let text = v.encoded
      #expect(try JSON.parse(text) == v, "\(text)")
      #expect(try JSON.parse(text).encoded == text, "encoding is stable")
    }
  }

  @Test("every control character survives a round trip")
  func controlCharactersRoundTrip() throws {
    let all = String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init)))
    let text = writeString(all)
    #expect(!text.utf8.contains { $0 < 0x20 }, "no raw control characters in the output")
    #expect(try JSON.parse(text) == .string(all))
  }

  @Test("JSONWriter escapes strings exactly as python's json.dumps does")
  func writerEscapes() {
    // python3 -c 'import json; print(json.dumps("a\"b\\c\nd\x01e\x1f\t\r"))'
    #expect(writeString("a\"b\\c\nd\u{01}e\u{1f}\t\r") == #""a\"b\\c\nd\u0001e\u001f\t\r""#)
    #expect(writeString("\u{1b}[31m") == #""\u001b[31m""#)
    #expect(writeString("\u{08}\u{0c}") == #""\u0008\u000c""#)
    #expect(writeString("plain") == #""plain""#)
    #expect(writeString("") == #""""#)
    #expect(writeString("é/😀") == "\"é/😀\"")
  }

  @Test("JSONWriter's object builder puts the commas, and writes nulls, optionals and times")
  func writerPieces() {
    var w = JSONWriter()
    w.object { w in
      w.member("id", "abc")
      w.member("n", Int64(-7))
      w.member("none", nil as String?)
      w.member("some", "x" as String?)
      w.member("at", time: 1_700_000_000)
      w.member("never", time: nil)
      w.member("ok", true)
      w.member("list", json: #"["a"]"#)
      w.member("empty", object: { _ in })
      w.member("nested", array: [1, 2]) { w, n in
        w.object { w in w.member("n", n) }
      }
      w.key("run-time name")
      w.int(1)
    }
    #expect(
      w.string
        == #"{"id":"abc","n":-7,"none":null,"some":"x","at":"2023-11-14T22:13:20Z","never":null,"ok":true,"#
        + #""list":["a"],"empty":{},"nested":[{"n":1},{"n":2}],"run-time name":1}"#)
    // Parsed back by an independent parser, the text is valid JSON with every member.
    let parsed = try? JSONSerialization.jsonObject(with: Data(w.string.utf8)) as? [String: Any]
    #expect(parsed?.count == 11)
    w.clear()
    w.array([String]()) { w, s in w.string(s) }
    #expect(w.string == "[]")
    w.clear()
    #expect(w.string == "")
  }

  // MARK: - Accessors

  @Test("accessors")
  func accessors() throws {
    #expect(JSON.strings(["a", "b"]).stringArray == ["a", "b"])
    #expect(JSON.array([.string("a"), .int(1)]).stringArray == nil)
    #expect(JSON.optional(nil).isNull)
    #expect(JSON.optional("x").stringValue == "x")
    #expect(JSON.int(5).int64Value == 5)
    #expect(JSON.number(5).int64Value == 5)
    #expect(JSON.number(5.5).int64Value == nil)
    let pairs = try #require(try JSON.parse(#"{"k":"v","a":"b"}"#).stringPairs)
    #expect(pairs.map(\.0) == ["k", "a"])
    #expect(pairs.map(\.1) == ["v", "b"])
    #expect(try JSON.parse(#"{"k":1}"#).stringPairs == nil)
  }
}
