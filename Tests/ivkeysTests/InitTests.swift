import Foundation
import Testing

@testable import IVKeysCore

@Suite("init and the secret file")
struct InitTests {
  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func initCreatesPrivateFilesAndRefusesToOverwrite() throws {
    let s = try Sandbox(initialize: false)
    let r = s.run("init")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(s.mode(s.vault) == 0o600)
    #expect(s.mode(s.secret) == 0o600)
    #expect(s.mode(s.dir.path + "/vault") == 0o700)
    #expect(s.mode(s.dir.path + "/config") == 0o700)
    let secret = try #require(FileManager.default.contents(atPath: s.secret))
    #expect(secret.count >= 32)
    let before = try Data(contentsOf: URL(fileURLWithPath: s.secret))

    let again = s.run("init")
    #expect(again.status == 1)
    #expect(again.stderr.contains("ivkeys: error: a vault already exists"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: s.secret)) == before, "the secret must not be rewritten")
    #expect(try s.events() == ["vault.initialized"])
  }

  @Test func initWarnsAboutADirectoryOthersCanEnter() throws {
    let s = try Sandbox(initialize: false)
    let shared = s.dir.path + "/shared"
    try FileManager.default.createDirectory(
      atPath: shared, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    let r = s.run("init", "--vault", shared + "/vault.db")
    #expect(r.status == 0)
    #expect(r.stderr.contains("ivkeys: warning: the directory \(shared) is accessible by group or others (mode 755)"))
    #expect(r.stderr.contains("ivkeys: hint: chmod 700 \(shared)"))
    #expect(s.mode(shared + "/vault.db") == 0o600)
    let quiet = try Sandbox(initialize: false)
    #expect(!quiet.run("init").stderr.contains("warning"))
  }

  @Test func initRefusesAnExistingSecretAndLeavesNoVault() throws {
    let s = try Sandbox(initialize: false)
    try FileManager.default.createDirectory(atPath: s.dir.path + "/config", withIntermediateDirectories: true)
    _ = FileManager.default.createFile(
      atPath: s.secret, contents: Data(repeating: 7, count: 40), attributes: [.posixPermissions: 0o600])
    let r = s.run("init")
    #expect(r.status == 1)
    #expect(r.stderr.contains("a secret file already exists"))
    #expect(!FileManager.default.fileExists(atPath: s.vault))
    #expect(try Data(contentsOf: URL(fileURLWithPath: s.secret)) == Data(repeating: 7, count: 40))
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func filesArePrivateWhateverTheUmask() throws {
    let s = try Sandbox(initialize: false)
    // Run through a shell with umask 000 so the process inherits it.
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = [
      "-c", "umask 000; \"$0\" init >/dev/null && \"$0\" create --company a --name n --scope jobs:read -q >/dev/null",
      Sandbox.binary,
    ]
    p.environment = s.processEnvironment([:])
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    #expect(s.mode(s.vault) == 0o600)
    #expect(s.mode(s.secret) == 0o600)
    for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: s.vault + suffix) {
      #expect(s.mode(s.vault + suffix) == 0o600)
    }
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func walAndShmArePrivateWhileTheVaultIsOpen() throws {
    let s = try Sandbox()
    // Hold the vault open so the -wal and -shm files exist while another process writes.
    let db = try s.database()
    _ = try db.scalarInt("SELECT count(*) FROM keys")
    try db.execute("BEGIN; SELECT count(*) FROM keys;")
    _ = try s.createKey()
    #expect(FileManager.default.fileExists(atPath: s.vault + "-wal"))
    #expect(s.mode(s.vault + "-wal") == 0o600)
    #expect(s.mode(s.vault + "-shm") == 0o600)
    try db.execute("COMMIT")
  }

  @Test func aSecretReadableByOthersIsRefusedWithAHint() throws {
    let s = try Sandbox()
    chmod(s.secret, 0o640)
    let r = s.run("list")
    #expect(r.status == 1)
    #expect(r.stderr.contains("ivkeys: error: the secret file \(s.secret) is readable by group or others"))
    #expect(r.stderr.contains("ivkeys: hint: chmod 600 \(s.secret)"))
    chmod(s.secret, 0o604)
    #expect(s.run("list").status == 1)
    chmod(s.secret, 0o600)
    #expect(s.run("list").status == 0)
  }

  @Test func aWrongSecretIsAClearError() throws {
    let s = try Sandbox()
    let other = s.dir.path + "/other-secret"
    _ = FileManager.default.createFile(
      atPath: other, contents: Data(repeating: 0x41, count: 48), attributes: [.posixPermissions: 0o600])
    let r = s.run("list", env: ["IVKEYS_SECRET_FILE": other])
    #expect(r.status == 1)
    #expect(r.stderr.contains("does not match the vault"))
    let short = s.dir.path + "/short-secret"
    _ = FileManager.default.createFile(
      atPath: short, contents: Data(repeating: 0x41, count: 16), attributes: [.posixPermissions: 0o600])
    let r2 = s.run("list", "--secret-file", short)
    #expect(r2.status == 1)
    #expect(r2.stderr.contains("at least 32"))
  }

  @Test func missingVaultAndSecretSayWhatToDo() throws {
    let s = try Sandbox(initialize: false)
    let r = s.run("list")
    #expect(r.status == 1)
    #expect(r.stderr.contains("ivkeys: error: no vault at \(s.vault)"))
    #expect(r.stderr.contains("ivkeys init"))
    // A vault without its secret: a change is refused with the real way out (init would refuse,
    // the vault exists) ...
    let s2 = try Sandbox()
    let k = try s2.createKey()
    let missing = s2.dir.path + "/nope"
    let r2 = s2.run("revoke", k.id, "--reason", "r", "--secret-file", missing)
    #expect(r2.status == 1)
    #expect(r2.stderr.contains("no secret file at"))
    #expect(r2.stderr.contains("at the secret \(s2.vault) was created with"), "\(r2.stderr)")
    // ... while an auditor holding only the vault can read it, told what cannot be checked.
    for args in [
      ["list", "-q"], ["show", k.id], ["audit"], ["usage", k.id], ["scopes"], ["admin"], ["audit", "head"],
    ] {
      let r = s2.run(args + ["--secret-file", missing])
      #expect(r.status == 0, "\(args): \(r.stderr)")
      #expect(
        r.stderr.contains("reading without it; the audit chain and the secret's fingerprint cannot be checked"),
        "\(args)")
    }
    #expect(s2.run("list", "-q", "--secret-file", missing).lines == [k.id])
    #expect(
      s2.run("audit", "verify", "--secret-file", missing).status == 1, "the chain cannot be verified without the secret"
    )
  }

  @Test func defaultPathsFollowXDG() throws {
    let s = try Sandbox(initialize: false)
    let data = s.dir.path + "/xdg-data"
    let config = s.dir.path + "/xdg-config"
    var env = s.processEnvironment([:])
    env["IVKEYS_VAULT"] = nil
    env["IVKEYS_SECRET_FILE"] = nil
    env["XDG_DATA_HOME"] = data
    env["XDG_CONFIG_HOME"] = config
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Sandbox.binary)
    p.arguments = ["init", "-q"]
    p.environment = env
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    #expect(FileManager.default.fileExists(atPath: data + "/ivkeys/vault.db"))
    #expect(FileManager.default.fileExists(atPath: config + "/ivkeys/secret"))
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func aNewerVaultIsRefused() throws {
    let s = try Sandbox()
    try s.database().execute("PRAGMA user_version = 99")
    let r = s.run("list")
    #expect(r.status == 1)
    #expect(r.stderr.contains("schema version 99, newer than this ivkeys"))
  }

  @Test(.enabled(if: Engine.isSQLite, "SQLite only: PostgresVaultTests covers the server's side"))
  func aFileThatIsNotAVaultIsAClearError() throws {
    let s = try Sandbox()
    try Data("this is not a database, just text\n".utf8).write(to: URL(fileURLWithPath: s.vault))
    try? FileManager.default.removeItem(atPath: s.vault + "-wal")
    try? FileManager.default.removeItem(atPath: s.vault + "-shm")
    let r = s.run("list")
    #expect(r.status == 1)
    #expect(r.stderr.hasPrefix("ivkeys: error: "))
    #expect(r.stderr.contains("not an ivkeys vault") || r.stderr.contains("damaged"))
  }
}
