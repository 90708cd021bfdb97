import Testing

@testable import IVKeysCore

/// The rules with one home in `KeyPolicy` and `Fields.endpoint`, on known inputs.
@Suite("key policy rules")
struct KeyPolicyTests {
  @Test(arguments: [
    ("GET /v1/jobs", true), ("POST /v1/candidates/42", true), (String(repeating: "x", count: 200), true),
    ("", false), (String(repeating: "x", count: 201), false), ("GET /v1/jobs\n", false), ("GET \u{1b}[31m", false),
    ("GET /v1/jobs?key=sk_live_" + String(repeating: "A", count: 82), false),
  ])
  func endpoints(endpoint: String, valid: Bool) {
    #expect(((try? Fields.endpoint(endpoint)) != nil) == valid, "\(endpoint.prefix(40))")
  }

  @Test func anEndpointHoldingARealKeyIsRefused() throws {
    let key = try APIKey.generate(env: .live)
    #expect(throws: ValueError.self) { try Fields.endpoint("GET /v1/jobs?api_key=\(key.string)") }
  }

  @Test func anExpiryMustBeInTheFuture() {
    #expect(throws: IVKeysError.self) { try KeyPolicy.checkExpiryInFuture(1_000, now: 1_000) }
    #expect(throws: IVKeysError.self) { try KeyPolicy.checkExpiryInFuture(999, now: 1_000) }
    #expect(throws: Never.self) { try KeyPolicy.checkExpiryInFuture(1_001, now: 1_000) }
    do {
      try KeyPolicy.checkExpiryInFuture(0, now: 1_000, option: "--expires-in")
    } catch {
      #expect(error.description.contains("--expires-in"))
      #expect(error.description.contains("the expiry is in the past"))
    }
  }

  @Test(arguments: [
    (KeyType.ats, ["acme"], true), (.ats, ["acme", "globex"], true), (.ats, [], false),
    (.regular, [], true), (.regular, ["acme"], false),
  ])
  func linksMatchTheKeyType(type: KeyType, links: [String], valid: Bool) {
    #expect(((try? KeyPolicy.checkLinks(type: type, links: links)) != nil) == valid)
  }
}
