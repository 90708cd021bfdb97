import Foundation
import Testing

@Suite("concurrency and crashes")
struct RobustnessTests {
  @Test func eightConcurrentCreatorsAllSucceed() throws {
    let s = try Sandbox()
    var running = [(Process, URL, URL)]()
    for i in 0..<8 {
      running.append(try s.start(["create", "--company", "c\(i)", "--name", "p\(i)", "--scope", "jobs:read", "--count", "100", "-q"]))
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
    #expect(try s.count("SELECT count(*) FROM audit a JOIN audit b ON b.seq = a.seq + 1 WHERE b.prev_hash != a.hash") == 0)
    #expect(try s.count("SELECT max(seq) - count(*) FROM audit") == 0)
  }

  @Test func sigkillDuringABulkCreateLeavesAllOrNothing() throws {
    let s = try Sandbox()
    let (p, _, _) = try s.start(["create", "--company", "acme", "--name", "bulk", "--scope", "jobs:read", "--count", "300000", "-q"])
    // Wait until it is writing inside its transaction (the WAL grows past 1 MiB), then kill it
    // at a random moment after that.
    let wal = s.vault + "-wal"
    var waited = 0
    while ((try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0) < 1 << 20 && p.isRunning && waited < 60_000 {
      usleep(10_000)
      waited += 10
    }
    #expect(p.isRunning, "the batch finished before it could be killed")
    usleep(UInt32.random(in: 0...500_000))
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    let db = try s.database()
    #expect(try db.scalarText("PRAGMA integrity_check") == "ok")
    let keys = s.keyCount
    #expect(keys == 0 || keys == 300_000, "partial batch: \(keys) keys")
    #expect(try s.count("SELECT count(*) FROM audit WHERE event = 'key.created'") == keys)
    // The vault still works afterwards.
    #expect(s.run("create", "--company", "acme", "--name", "after", "--scope", "jobs:read", "-q").status == 0)
  }
}
