import Foundation
import Testing

/// `--vault postgresql://…`: never taken for a file path (which would make a `postgresql:`
/// folder), and never with a password on the command line.
@Suite("vault URLs")
struct VaultURLTests {
  @Test func aPostgreSQLURLIsRefusedClearlyAndCreatesNothing() throws {
    let s = try Sandbox()
    let work = s.dir.path + "/work"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    let script = "cd \"$1\" && exec \"$0\" init --vault \"$2\""
    let r = s.exec("/bin/sh", ["-c", script, Sandbox.binary, work, "postgresql://db.example/ivkeys"])
    #expect(r.status == 2, "\(r.stderr)")
    #expect(r.stderr.contains("ivkeys: error: this ivkeys cannot open a PostgreSQL vault yet"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: work).isEmpty)

    let secret = s.run("list", "--vault", "postgres://admin:s3cret@db.example/ivkeys")
    #expect(secret.status == 2)
    #expect(secret.stderr.contains("password in the vault's URL on the command line"))
    #expect(!secret.stderr.contains("s3cret"))
    #expect(secret.stdout.isEmpty)

    let env = s.run("list", env: ["IVKEYS_VAULT": "postgres://admin:s3cret@db.example/ivkeys"])
    #expect(env.status == 2)
    #expect(env.stderr.contains("cannot open a PostgreSQL vault yet") && !env.stderr.contains("s3cret"))
  }
}
