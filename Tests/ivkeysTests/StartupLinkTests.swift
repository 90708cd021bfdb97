import Foundation
import Testing

/// Start-up is a feature: `ivkeys` must not load PostgreSQL's client library (and the two dozen
/// libraries it needs) unless a PostgreSQL vault is named.
@Suite("start-up")
struct StartupLinkTests {
  @Test func theBinaryDoesNotLinkLibpq() throws {
    let s = try Sandbox()
    let r = s.exec("/usr/bin/ldd", [Sandbox.binary])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("libc.so.6"), "ldd listed the libraries: \(r.stdout)")
    #expect(!r.stdout.contains("libpq"), "\(r.stdout)")
  }
}
