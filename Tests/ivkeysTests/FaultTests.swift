import Foundation
import Testing

@testable import IVKeysCore

/// The vault under faults: killed processes, concurrent writers, a read-only or full disk, and
/// damaged files. Each ends with the vault intact and its audit chain verifying.
@Suite("faults")
struct FaultTests {
  func chainIntact(_ s: Sandbox) -> Bool { s.run("audit", "verify").status == 0 }

  /// A bulk create killed at each point of its life: while inserting rows (before COMMIT), after
  /// COMMIT but before printing, and after printing. The kill points are deterministic (a
  /// debug-build hook, `IVKEYS_TEST_KILL_AT`), so the test proves the same thing on a fast or a
  /// loaded machine. Keys are printed only once committed: no key is ever printed that the vault
  /// does not hold. Killed between COMMIT and printing, the keys exist and nobody has seen them.
  @Test(arguments: [("rows:1000", false), ("rows:5000", false), ("committed", true), ("printed", true)])
  func aKilledBulkCreateLeavesAllOrNothing(point: String, committed: Bool) throws {
    let s = try Sandbox()
    _ = try s.createKey()
    let (keysBefore, auditBefore) = (s.keyCount, s.auditCount)
    let r = s.run(
      ["create", "--company", "acme", "--name", "bulk", "--scope", "jobs:read", "--count", "5000", "-q"],
      env: ["IVKEYS_TEST_KILL_AT": point])
    #expect(r.status == 128 + SIGKILL, "\(point): the process was not killed (\(r.status)): \(r.stderr)")
    #expect(r.lines.count == (point == "printed" ? 5000 : 0), "\(point): \(r.lines.count) keys printed")
    #expect(try s.engineIntact(), "\(point)")
    let added = s.keyCount - keysBefore
    #expect(added == (committed ? 5000 : 0), "\(point): \(added) keys of 5000 were left behind")
    #expect(s.auditCount - auditBefore == added, "\(point): one key.created entry per key")
    #expect(chainIntact(s), "\(point)")
    #expect(s.run("doctor").status == 0, "\(point)")
    // The vault takes writes again at once: no lock or half transaction is left behind.
    #expect(s.run("create", "--company", "acme", "--name", "after", "--scope", "jobs:read", "-q").status == 0)
    #expect(s.keyCount == keysBefore + added + 1)
    // Every key printed is stored and works.
    if let printed = r.lines.last {
      let v = s.run(["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read"], stdin: printed)
      #expect(v.status == 0, "\(point): \(v.stderr)")
    }
  }

  @Test(.timeLimit(.minutes(2)))
  func fourWritersAndFourReadersTogether() throws {
    let s = try Sandbox()
    let fixed = try s.createKey()
    let script = """
      end=$(( $(date +%s) + 3 ))
      role=$1; i=0; fail=0
      while [ "$(date +%s)" -lt "$end" ]; do
        i=$((i + 1))
        case $role in
          create) "$IVK" create --company w --name "c$i" --scope jobs:read --count 5 -q >/dev/null || fail=1 ;;
          update) "$IVK" update "$FIXED" --meta "round=$i" -q >/dev/null || fail=1 ;;
          revoke) id=$("$IVK" create --company r --name "r$i" --scope jobs:read -q | cut -c9-40) &&
                  "$IVK" revoke "$id" --reason "round $i" -q >/dev/null || fail=1 ;;
          list) "$IVK" list -q >/dev/null || fail=1 ;;
          show) "$IVK" show "$FIXED" --json >/dev/null || fail=1 ;;
          audit) "$IVK" audit --limit 20 >/dev/null || fail=1 ;;
          verify) "$IVK" audit verify -q >/dev/null || fail=1 ;;
        esac
      done
      exit $fail
      """
    var running = [(Process, URL, String)]()
    for role in ["create", "update", "revoke", "create", "list", "show", "audit", "verify"] {
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/bin/sh")
      p.arguments = ["-c", script, "sh", role]
      var env = s.processEnvironment([:])
      env["IVK"] = Sandbox.binary
      env["FIXED"] = fixed.id
      p.environment = env
      let err = s.dir.appendingPathComponent("err-\(role)-\(UUID().uuidString)")
      _ = FileManager.default.createFile(atPath: err.path, contents: nil)
      p.standardError = try FileHandle(forWritingTo: err)
      p.standardOutput = FileHandle.nullDevice
      try p.run()
      running.append((p, err, role))
    }
    for (p, err, role) in running {
      p.waitUntilExit()
      let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
      #expect(p.terminationStatus == 0, "\(role): \(stderr)")
      #expect(!stderr.contains("error"), "\(role): \(stderr)")
    }
    #expect(chainIntact(s))
    #expect(
      try s.count("SELECT count(*) FROM keys")
        == (try s.count("SELECT count(*) FROM audit WHERE event = 'key.created'")))
    #expect(
      try s.count("SELECT count(*) FROM keys WHERE status = 'revoked'")
        == (try s.count("SELECT count(*) FROM audit WHERE event = 'key.revoked'")))
    #expect(try s.count("SELECT count(*) FROM audit WHERE event = 'key.config_changed'") >= 1)
  }

  /// Whether `setpriv` can run a command as nobody (root in CI): file modes only bind other users.
  static let canDropPrivileges: Bool = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")

  @Test(
    .enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"),
    .enabled(if: canDropPrivileges || getuid() != 0, "as root, needs setpriv to act as another user"))
  func aReadOnlyVaultRefusesWritesAndStillReads() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let keys = s.keyCount
    let audits = s.auditCount
    // The vault file is 0400: its owner may read it but not write it. Root ignores modes, so as
    // root the files go to nobody and the commands run as nobody.
    let root = getuid() == 0
    if root {
      for path in [
        s.dir.path, s.dir.path + "/vault", s.dir.path + "/config", s.secret, s.vault, s.vault + "-wal",
        s.vault + "-shm",
      ] {
        chown(path, 65534, 65534)
      }
    }
    chmod(s.vault, 0o400)
    func asNobody(_ args: [String], stdin: String? = nil) throws -> (Int32, String, String) {
      let r =
        root
        ? s.exec(
          "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Sandbox.binary] + args, stdin: stdin)
        : s.run(args, stdin: stdin)
      return (r.status, r.stdout, r.stderr)
    }
    let writes: [[String]] = [
      ["create", "--company", "acme", "--name", "n", "--scope", "jobs:read"], ["update", k.id, "--name", "x"],
      ["rotate", k.id], ["suspend", k.id, "--reason", "r"], ["revoke", k.id, "--reason", "r"],
      ["scopes", "add", "x:read", "--description", "d"], ["admin", "add", "bob"],
    ]
    for args in writes {
      let (status, out, err) = try asNobody(args)
      #expect(status == 1, "\(args): \(err)")
      #expect(err.contains("ivkeys: error: the vault is read-only"), "\(args): \(err)")
      #expect(!out.contains("sk_live_"), "no key may be printed that was not stored")
    }
    let (vs, vo, _) = try asNobody(
      ["verify", "--env", "live", "--company", "acme", "--scope", "jobs:read"], stdin: k.key)
    #expect(vs == 1 && vo.isEmpty, "verify fails closed")
    for args in [
      ["list", "-q"], ["show", k.id], ["audit"], ["audit", "verify"], ["usage", k.id], ["scopes"], ["admin"],
    ] {
      let (status, _, err) = try asNobody(args)
      #expect(status == 0, "\(args): \(err)")
    }
    #expect(s.keyCount == keys && s.auditCount == audits)
    #expect(chainIntact(s))
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func aFullDiskFailsWritesCleanlyAndLeavesTheVaultIntact() throws {
    let s = try Sandbox()
    _ = try s.createKey()
    let keys = s.keyCount
    // RLIMIT_FSIZE: writes that would grow a file past 1 MiB fail with EFBIG, as on a full disk.
    let r = s.exec(
      "/bin/sh",
      [
        "-c",
        "ulimit -f 1024; trap '' XFSZ; exec \"$0\" create --company acme --name n --scope jobs:read --count 20000 -q",
        Sandbox.binary,
      ])
    let (o, e) = (r.stdout, r.stderr)
    #expect(r.status == 1, "\(e)")
    #expect(e.hasPrefix("ivkeys: error: "))
    // The vault cannot grow to hold 20,000 keys: the transaction fails, nothing is committed, and
    // keys are printed only once committed.
    #expect(o.isEmpty)
    #expect(s.keyCount == keys)
    #expect(try s.engineIntact())
    #expect(chainIntact(s))
    #expect(s.run("create", "--company", "acme", "--name", "after", "--scope", "jobs:read", "-q").status == 0)
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func aCorruptedVaultIsAClearErrorNotACrash() throws {
    let s = try Sandbox()
    for _ in 0..<3 {
      _ = s.run("create", "--company", "acme", "--name", "n", "--scope", "jobs:read", "--count", "200", "-q")
    }
    #expect(s.run("audit", "verify").status == 0)
    // Fold the WAL in, then overwrite bytes in the middle of the file.
    let db = try s.database()
    try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    let size = (try FileManager.default.attributesOfItem(atPath: s.vault)[.size] as? Int) ?? 0
    #expect(size > 40_000)
    let h = try FileHandle(forWritingTo: URL(fileURLWithPath: s.vault))
    try h.seek(toOffset: UInt64(size / 2))
    h.write(Data((0..<65536).map { _ in UInt8.random(in: 0...255) }))
    try h.close()
    // Every command either works (the damage may miss the pages it reads) or says what is
    // wrong; none crashes.
    for args in [
      ["list", "-q"], ["list", "--json"], ["audit", "verify"], ["audit"],
      ["create", "--company", "a", "--name", "n", "--scope", "jobs:read"],
    ] {
      let r = s.run(args)
      #expect(r.status < 128, "\(args): crashed (\(r.status))")
      #expect(
        r.status == 0 || r.stderr.contains("ivkeys: error: ") || r.stdout.contains("broken"), "\(args): \(r.stderr)")
    }
    let doctor = s.run("doctor")
    #expect(doctor.status == 3)
    #expect(doctor.stdout.contains("FAIL"))
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func aFileThatIsNotSQLiteIsAClearError() throws {
    let s = try Sandbox()
    try Data((0..<20_000).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: s.vault))
    try? FileManager.default.removeItem(atPath: s.vault + "-wal")
    try? FileManager.default.removeItem(atPath: s.vault + "-shm")
    for args in [["list"], ["audit", "verify"], ["backup", s.dir.path + "/b.db"], ["doctor"]] {
      let r = s.run(args)
      #expect(r.status == (args[0] == "doctor" ? 3 : 1), "\(args): \(r.status) \(r.stderr)")
      if args[0] != "doctor" {
        #expect(r.stderr.contains("ivkeys: error: the vault is damaged or not an ivkeys vault"), "\(args): \(r.stderr)")
      }
    }
  }
}
