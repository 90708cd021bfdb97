import Foundation
import Testing

/// `--vault postgresql://…`: never taken for a file path (which would make a `postgresql:`
/// folder), never with a password on the command line, and a server that cannot be reached is
/// a clear error that leaves nothing behind.
@Suite("vault URLs")
struct VaultURLTests {
  @Test func anUnreachableServerIsAClearErrorAndInitLeavesNothing() throws {
    let s = try Sandbox(initialize: false)
    let work = s.dir.path + "/work"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    let script = "cd \"$1\" && exec \"$0\" init --vault \"$2\""
    let url = "postgresql:///ivkeys?host=\(s.dir.path)/no-server"
    let r = s.exec("/bin/sh", ["-c", script, Sandbox.binary, work, url])
    #expect(r.status == 1, "\(r.stderr)")
    #expect(r.stderr.contains("ivkeys: error: cannot connect to PostgreSQL: "), "\(r.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: work).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: s.secret), "no secret file is left behind")
  }

  @Test func aURLLibpqCannotReadIsAUsageError() throws {
    let s = try Sandbox(initialize: false)
    for url in ["postgresql://db:notaport/ivkeys", "postgresql:///ivkeys?nosuchparameter=1"] {
      let r = s.run("init", "--vault", url)
      #expect(r.status == 2, "\(url): \(r.stderr)")
      #expect(r.stderr.contains("ivkeys: error: the vault's PostgreSQL URL is not valid"), "\(url): \(r.stderr)")
      #expect(!FileManager.default.fileExists(atPath: s.secret))
    }
  }

  @Test func aPasswordOnTheCommandLineIsRefusedAndNeverShown() throws {
    let s = try Sandbox(initialize: false)
    for url in [
      "postgres://admin:s3cret@db.example/ivkeys", "postgresql://db.example/ivkeys?password=s3cret",
      "postgresql://db.example/ivkeys?pass%77ord=s3cret", "postgresql://admin:s3?cret@db.example/ivkeys",
    ] {
      let r = s.run("list", "--vault", url)
      #expect(r.status == 2, "\(url)")
      #expect(r.stderr.contains("password in the vault's URL on the command line"), "\(url): \(r.stderr)")
      #expect(!r.stderr.contains("s3"))
      #expect(r.stdout.isEmpty)
    }
    // From the environment it is allowed, and never printed.
    let env = s.run(
      "list", env: ["IVKEYS_VAULT": "postgres://admin:s3cret@/ivkeys?host=\(s.dir.path)/no-server"])
    #expect(env.status == 1)
    #expect(env.stderr.contains("cannot connect to PostgreSQL") && !env.stderr.contains("s3cret"), "\(env.stderr)")
  }
}
