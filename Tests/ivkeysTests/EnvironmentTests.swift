import Glibc
import Testing

@testable import IVKeysCLI
@testable import IVKeysCore

@Suite("the process environment")
struct EnvironmentTests {
  @Test func eachVariableSplitsAtItsFirstEqualsSign() {
    // Names unique to this test: the environment is the whole test process's.
    setenv("IVKEYS_TEST_ENV_SPLIT", "a=b==c ü", 1)
    setenv("IVKEYS_TEST_ENV_EMPTY", "", 1)
    defer {
      unsetenv("IVKEYS_TEST_ENV_SPLIT")
      unsetenv("IVKEYS_TEST_ENV_EMPTY")
    }
    let env = Context.processEnvironment()
    #expect(env["IVKEYS_TEST_ENV_SPLIT"] == "a=b==c ü")
    #expect(env["IVKEYS_TEST_ENV_EMPTY"] == "")
    if let path = getenv("PATH") { #expect(env["PATH"] == String(cString: path)) }
    #expect(!env.keys.contains { $0.contains("=") })
  }
}
