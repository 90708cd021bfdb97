import Foundation
import IVKeysTestSupport
import Testing

@testable import IVKeysCLI
@testable import IVKeysCore

/// The fuzz targets' checks, run on every seed and every saved crash input in `make test`, so a
/// crash once found stays fixed and the checks themselves keep compiling.
@Suite("fuzz regressions")
struct FuzzRegressionTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static func inputs(_ target: String) -> [Data] {
    ["Fuzz/seeds", "Fuzz/regressions"].flatMap { folder -> [Data] in
      let dir = root.appendingPathComponent("\(folder)/\(target)")
      let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
      return names.sorted().compactMap { try? Data(contentsOf: dir.appendingPathComponent($0)) }
    }
  }

  @Test func keyFormat() throws {
    var inputs = Self.inputs("KeyFormat")
    let key = try APIKey.generate(env: .live)
    inputs += [Data(key.string.utf8), Data("Authorization: Bearer \(key.string)\r\n".utf8)]
    for data in inputs {
      data.withUnsafeBytes { raw in
        let bytes = raw.bindMemory(to: UInt8.self)
        if case .success(let k) = APIKey.parse(bytes: bytes) {
          #expect(k.string.utf8.count == APIKey.length)
          if case .success(let again) = APIKey.parse(k.string) {
            #expect(again.id == k.id)
          } else {
            Issue.record("unstable parse")
          }
        }
      }
      _ = Text.redactKeys(String(decoding: data, as: UTF8.self))
      _ = PresentedKey.extract(String(decoding: data, as: UTF8.self))
    }
  }

  @Test func ipRange() {
    let inputs = Self.inputs("IPRange")
    #expect(!inputs.isEmpty)
    for data in inputs {
      let text = String(decoding: data, as: UTF8.self)
      if let range = try? IPRange.parse(text) {
        #expect((try? IPRange.parse(range.description)) == range, "\(text)")
        #expect(range.contains(range.address))
      }
    }
  }

  @Test func timeParsing() {
    for data in Self.inputs("TimeParsing") {
      let text = String(decoding: data, as: UTF8.self)
      if let seconds = try? Time.parseDuration(text) { #expect(seconds >= 0) }
      if let t = try? Time.parseDate(text) { #expect((try? Time.parseDate(Time.rfc3339(t))) == t, "\(text)") }
      _ = try? RateLimit.parse(text)
      _ = try? JSON.parse(text)
    }
  }

  @Test func scanner() throws {
    var inputs = Self.inputs("Scanner")
    #expect(!inputs.isEmpty)
    let key = try APIKey.generate(env: .test)
    inputs += [
      Data("a\nAPI_KEY=\"\(key.string)\" # and \(key.string)\n".utf8),
      Data("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old=\(key.string)\n+new=\(key.string)\n".utf8),
      Data((String(repeating: "x", count: 150) + key.string + "\n").utf8),
    ]
    for data in inputs {
      #expect(ScannerCheck.problem(in: Array(data)) == nil)
    }
  }

  @Test func scannerForms() throws {
    var inputs = Self.inputs("ScannerForms")
    #expect(!inputs.isEmpty)
    let key = try APIKey.generate(env: .live)
    inputs += [Data("0k=\(key.string)\nd=\(key.string.dropLast())\n".utf8)]
    inputs += (1...4).map { m in Data("\(m)KEY=\(key.string)\n".utf8) }
    for data in inputs {
      #expect(ScannerFormsCheck.problem(in: Array(data)) == nil)
    }
    // The generated inputs do reach the decoders: each holds the key in its form.
    for m in 1...4 {
      let text = ScannerFormsCheck.text(Array("\(m)KEY=\(key.string)\n".utf8))
      let findings = ScannerCheck.findings(in: text)
      #expect(findings.map(\.keyID) == [key.id], "mode \(m)")
      #expect(findings.map(\.form) == [m <= 2 ? .base64 : .exact], "mode \(m)")
    }
  }

  @Test func arguments() {
    let inputs = Self.inputs("Arguments")
    #expect(!inputs.isEmpty)
    for data in inputs {
      let args = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
      if let inv = try? Parser.parse(args), let spec = inv.spec {
        for name in inv.values.keys {
          #expect(
            spec.option(named: name) != nil || globalOptions.contains { $0.name == name },
            "stray option \(name.rawValue)")
        }
        _ = Help.command(inv.path)
      }
    }
  }
}
