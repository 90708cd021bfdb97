import Testing

@testable import IVKeysCore

@Suite("vault locations")
struct VaultLocationTests {
  @Test func urlsNamePostgreSQLAndAnythingElseIsAFile() throws {
    #expect(try VaultLocation.parse("/srv/ivkeys/vault.db", onArgv: true) == .sqlite(path: "/srv/ivkeys/vault.db"))
    #expect(try VaultLocation.parse("postgresql-notes.db", onArgv: true) == .sqlite(path: "postgresql-notes.db"))
    for url in [
      "postgresql://db.internal/ivkeys", "postgres://ivkeys_admin@db:5433/ivkeys?sslmode=verify-full",
      "POSTGRESQL://db/ivkeys", "postgresql:///ivkeys?host=/run/postgresql", "postgresql://u@db/x?passfile=/p",
    ] {
      #expect(try VaultLocation.parse(url, onArgv: true) == .postgres(url: url), "\(url)")
    }
  }

  @Test func aPasswordInAURLOnTheCommandLineIsRefused() throws {
    for url in [
      "postgresql://admin:s3cret@db/ivkeys", "postgres://admin:@db/ivkeys",
      "postgresql://db/ivkeys?sslmode=require&password=s3cret", "postgresql://db/ivkeys?PASSWORD=x",
    ] {
      #expect(throws: IVKeysError.self, "\(url)") { try VaultLocation.parse(url, onArgv: true) }
      do {
        _ = try VaultLocation.parse(url, onArgv: true)
      } catch {
        #expect(error.exitCode == 2)
        #expect(!error.description.contains("s3cret"))
        #expect(error.hint?.contains("password file") == true)
      }
      // From the environment, which other users cannot read, it is libpq's business.
      #expect(try VaultLocation.parse(url, onArgv: false) == .postgres(url: url))
    }
    // An @ in the path or query is not a user name, and a user alone is no password.
    #expect(!VaultLocation.hasPassword("postgresql://admin@db/ivkeys"))
    #expect(!VaultLocation.hasPassword("postgresql://db/ivkeys?application_name=a:b@c"))
  }
}
