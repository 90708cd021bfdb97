import Foundation
import Testing

@testable import IVKeysCore

@Suite("concurrency and crashes")
struct RobustnessTests {
  @Test func eightConcurrentCreatorsAllSucceed() throws {
    let s = try Sandbox()
    var running = [(Process, URL, URL)]()
    for i in 0..<8 {
      running.append(
        try s.start(["create", "--company", "c\(i)", "--name", "p\(i)", "--scope", "jobs:read", "--count", "100", "-q"])
      )
    }
    for (p, out, err) in running {
      p.waitUntilExit()
      let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
      let stdout = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
      #expect(p.terminationStatus == 0, "\(stderr)")
      #expect(!stderr.contains("locked") && !stderr.contains("busy"))
      #expect(stdout.split(separator: "\n").count == 100)
    }
    #expect(s.keyCount == 800)
    #expect(try s.count("SELECT count(*) FROM audit WHERE event = 'key.created'") == 800)
    // The chain has no gaps and no forks: each entry points at the one before it.
    #expect(
      try s.count("SELECT count(*) FROM audit a JOIN audit b ON b.seq = a.seq + 1 WHERE b.prev_hash != a.hash") == 0)
    #expect(try s.count("SELECT max(seq) - count(*) FROM audit") == 0)
  }
}
