import Foundation
import Testing

@testable import IVKeysCore

@Suite("Text")
struct TextTests {
  @Test("terminal escapes become visible text")
  func escapesESC() {
    let hostile = "prod key\u{1b}[2J\u{1b}[31mOWNED"
    let shown = Text.escapeControl(hostile)
    #expect(shown == "prod key\\x1b[2J\\x1b[31mOWNED")
    #expect(!shown.unicodeScalars.contains { $0.value == 0x1b })
    #expect(!Text.hasControl(shown))
  }

  @Test("each kind of control character is escaped")
  func escapesEachKind() {
    #expect(Text.escapeControl("a\nb") == "a\\nb")
    #expect(Text.escapeControl("a\tb") == "a\\tb")
    #expect(Text.escapeControl("a\rb") == "a\\rb")
    #expect(Text.escapeControl("\u{0}") == "\\x00")
    #expect(Text.escapeControl("\u{7}") == "\\x07")
    #expect(Text.escapeControl("\u{7f}") == "\\x7f")
    #expect(Text.escapeControl("\u{9b}31m") == "\\u{9b}31m", "C1 CSI")
    #expect(Text.escapeControl("a\u{2028}b") == "a\\u{2028}b")
    // Every C0 and C1 control character and DEL is gone after escaping.
    let all = String(
      String.UnicodeScalarView(
        ((0..<0x20).map { $0 } + [0x7f] + (0x80...0x9f).map { $0 }).compactMap(Unicode.Scalar.init)))
    #expect(Text.hasControl(all))
    #expect(!Text.hasControl(Text.escapeControl(all)))
  }

  @Test("plain text is left alone")
  func plainTextUnchanged() {
    for s in ["", "hello", "Billing sync (prod) — v2", "héllo 😀 中文"] {
      #expect(Text.escapeControl(s) == s)
      #expect(!Text.hasControl(s))
    }
  }

  @Test("a backslash is doubled, so typed text never looks like an escape; bidi overrides are escaped")
  func backslashAndBidi() {
    #expect(Text.escapeControl("back\\slash") == "back\\\\slash")
    #expect(Text.escapeControl("\\x1b") != Text.escapeControl("\u{1b}"))
    #expect(Text.escapeControl("abc\u{202e}fed") == "abc\\u{202e}fed")
    #expect(Text.escapeControl("\u{2066}x\u{2069}") == "\\u{2066}x\\u{2069}")
  }

  @Test("keys in text are found by checksum and masked in messages")
  func keysInText() throws {
    let key = try APIKey.generate(env: .live)
    #expect(Text.containsKey("leaked: \(key.string) yesterday"))
    #expect(!Text.containsKey("sk_live_" + String(repeating: "a", count: 82)))
    let masked = Text.redactKeys("bad value ' \(key.string)x'")
    #expect(!masked.contains(String(key.string.dropFirst(41))))
    #expect(masked.contains("sk_live_\(key.id)_…"))
    // A damaged key (no valid checksum) is masked too: its secret digits are still secret.
    let damaged = String(key.string.dropLast(3))
    #expect(!Text.redactKeys(damaged).contains(String(damaged.dropFirst(41))))
    #expect(Text.redactKeys("sk_live_short and sk_prod_x") == "sk_live_short and sk_prod_x")
  }

  /// Every byte of `s` as `%XX`.
  static func percentEncodedWhole(_ s: String) -> String {
    s.utf8.map { "%" + String($0, radix: 16, uppercase: true) }.joined()
  }

  @Test("the key-in-text guard finds a key in every form", arguments: [KeyEnvironment.live, .test])
  func holdsKeyInEveryForm(env: KeyEnvironment) throws {
    let key = try APIKey.generate(env: env).string
    let body = String(key.dropFirst(8))  // <id>_<secret><check>
    let bare = body.replacingOccurrences(of: "_", with: "")  // 81 base62 characters
    #expect(bare.count == 81)
    let forms = [
      key, "leaked: \(key)!", body, "body=\(body).", bare, "x \(bare) y", key.uppercased(), key.lowercased(),
      "Sk_LiVe_" + body, "SK_TEST_" + body.uppercased(),
      key.replacingOccurrences(of: "_", with: "%5F"), key.replacingOccurrences(of: "_", with: "%5f"),
      "https://x.example/?k=" + key.replacingOccurrences(of: "_", with: "%255F"), Self.percentEncodedWhole(key),
      Self.percentEncodedWhole(bare), Self.percentEncodedWhole(Self.percentEncodedWhole(body)),
      String(key.dropLast(3)),  // damaged: its prefix still says what it is
    ]
    for f in forms { #expect(Text.holdsKey(f), "\(f)") }
  }

  @Test("the key-in-text guard leaves ordinary text alone")
  func holdsKeyOrdinaryText() throws {
    let key = try APIKey.generate(env: .live).string
    let body = String(key.dropFirst(8))
    // A body with one character changed fails its checksum and starts like nothing.
    var changed = Array(body.utf8)
    changed[40] = changed[40] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
    let ordinary = [
      "", "prod key", "sk_live_short", "SK_LIVE_short", "sk_prod_" + String(body.prefix(60)),
      String(repeating: "a", count: 200),
      String(decoding: changed, as: UTF8.self), "100%", "%5F%5F%zz%", "50% off %41", String(body.prefix(80)),
      "k=" + String(repeating: "%41", count: 100),
    ]
    for o in ordinary { #expect(!Text.holdsKey(o), "\(o)") }
  }

  @Test("a key in another case is masked in messages")
  func redactsAnyCase() throws {
    let key = try APIKey.generate(env: .test).string.uppercased()
    let masked = Text.redactKeys("bad: \(key)")
    #expect(!masked.contains(String(key.dropFirst(41))))
    #expect(masked.hasPrefix("bad: SK_TEST_"))
    #expect(Text.looksLikeKey(key))
  }

  @Test("edit distance")
  func editDistance() {
    #expect(Text.editDistance("kitten", "sitting") == 3)
    #expect(Text.editDistance("", "abc") == 3)
    #expect(Text.editDistance("abc", "") == 3)
    #expect(Text.editDistance("same", "same") == 0)
    #expect(Text.editDistance("lst", "list") == 1)
  }

  @Test("did-you-mean suggestions")
  func suggestion() {
    #expect(Text.suggestion(for: "lst", among: ["list", "show"]) == "list")
    #expect(Text.suggestion(for: "shw", among: ["list", "show"]) == "show")
    #expect(Text.suggestion(for: "revok", among: ["resume", "revoke", "rotate"]) == "revoke")
    #expect(Text.suggestion(for: "rot", among: ["resume", "revoke", "rotate"]) == "rotate", "prefix first")
    #expect(Text.suggestion(for: "xyzzy", among: ["list", "show"]) == nil)
    #expect(Text.suggestion(for: "completely-different", among: ["list", "show"]) == nil)
    #expect(Text.suggestion(for: "list", among: []) == nil)
  }
}
