import Foundation
import Testing

@testable import IVKeysCore

/// `ivkeys scan` on keys written in other forms than the plain key: in base64, in UTF-16 files.
@Suite("scan: other forms")
struct ScanFormsTests {
  @Test func aKeyInAKubernetesSecretIsReportedAsBase64() throws {
    let f = try ScanTests.Fixture()
    let encoded = Data(f.live.key.utf8).base64EncodedString()
    try f.write("k8s/secret.yaml", "apiVersion: v1\nkind: Secret\ndata:\n  API_KEY: \(encoded)\n")
    let r = f.s.run("scan", f.repo + "/k8s")
    #expect(r.status == 3, "\(r.stderr)")
    #expect(
      ScanTests.rows(r) == [
        ["\(f.repo)/k8s/secret.yaml:4:12", f.live.id, "live", "active", "base64", "sk_live_\(f.live.id)_…"]
      ])
    let j = f.s.run("scan", "--json", f.repo + "/k8s")
    let list = try #require(try j.json() as? [[String: Any]])
    #expect(list.map { $0["form"] as? String } == ["base64"])
    ScanTests.expectNoSecret(r, [f.live.key])
    let secretText = String(encoded.dropFirst(60).prefix(40))
    #expect(!r.stdout.contains(secretText) && !j.stdout.contains(secretText))
  }

  @Test func aUTF16FileInATreeIsDecodedAndScanned() throws {
    let f = try ScanTests.Fixture()
    var bytes: [UInt8] = [0xff, 0xfe]
    for u in "Windows\r\nKEY=\(f.live.key)\r\n".utf16 { bytes += [UInt8(u & 0xff), UInt8(u >> 8)] }
    try FileManager.default.createDirectory(atPath: f.repo + "/win", withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: f.repo + "/win/settings.ini"))
    let r = f.s.run("scan", f.repo + "/win")
    #expect(r.status == 3, "\(r.stderr)")
    #expect(
      ScanTests.rows(r) == [
        ["\(f.repo)/win/settings.ini:2:5", f.live.id, "live", "active", "exact", "sk_live_\(f.live.id)_…"]
      ])
    #expect(!r.stderr.contains("binary"))
    ScanTests.expectNoSecret(r, [f.live.key])
  }
}
