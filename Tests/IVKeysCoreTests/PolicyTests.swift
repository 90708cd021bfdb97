import Testing

@testable import IVKeysCore

@Suite("Rate limits")
struct RateLimitTests {
  @Test(
    "N/s, N/m and N/h with their windows",
    arguments: [
      ("100/m", 100, 60),
      ("1/s", 1, 1),
      ("5000/h", 5000, 3600),
      ("1000000000/s", 1_000_000_000, 1),
    ])
  func accepted(text: String, count: Int, window: Int) throws {
    let limit = try RateLimit.parse(text)
    #expect(limit.count == count)
    #expect(limit.window == window)
    #expect(limit.description == text)
  }

  @Test(
    "malformed or out-of-range limits are refused",
    arguments: [
      "0/m", "100/d", "100", "/m", "-1/m", "+1/m", "1.5/s", "10000000000/s", "1000000001/s", "100/M", "100/min",
      "100/", "", "100/m/s", " 100/m", "100 /m", "1e3/m", "٣/m",
    ])
  func refused(text: String) {
    #expect(throws: ValueError.self, "\(text)") { try RateLimit.parse(text) }
  }
}

@Suite("Scopes")
struct ScopesTests {
  @Test("the seed catalog is SPEC's list")
  func seedCatalog() {
    #expect(
      Set(Scopes.seed.map(\.0)) == [
        "interviews:read", "interviews:write", "candidates:read", "candidates:write", "jobs:read", "jobs:write",
        "analytics:read", "webhooks:read", "webhooks:write",
      ])
    #expect(Scopes.seed.count == 9)
    #expect(Scopes.seed.allSatisfy { Scopes.isWellFormed($0.0) })
  }

  @Test("presets are exactly SPEC's table")
  func presets() {
    #expect(
      Set(Scopes.presets.map(\.name)) == [
        "analytics-dashboard", "candidate-portal", "full-integration", "webhook-handler",
      ])
    #expect(Scopes.presets.count == 4)
    #expect(Scopes.preset("analytics-dashboard").map(Set.init) == ["analytics:read", "interviews:read", "jobs:read"])
    #expect(Scopes.preset("analytics-dashboard")?.count == 3)
    #expect(
      Scopes.preset("candidate-portal").map(Set.init) == [
        "candidates:read", "candidates:write", "interviews:read", "interviews:write",
      ])
    #expect(Scopes.preset("candidate-portal")?.count == 4)
    #expect(Scopes.preset("full-integration") == ["*"])
    #expect(
      Scopes.preset("webhook-handler").map(Set.init) == [
        "webhooks:read", "webhooks:write", "interviews:read", "candidates:read",
      ])
    #expect(Scopes.preset("webhook-handler")?.count == 4)
    #expect(Scopes.preset("nope") == nil)
    #expect(Scopes.preset("") == nil)
    #expect(Scopes.preset("Full-Integration") == nil)
  }

  @Test("grants: exact, resource:* and *")
  func grants() {
    #expect(Scopes.grants(["interviews:read"], "interviews:read"))
    #expect(Scopes.grants(["jobs:read", "interviews:read"], "interviews:read"))
    #expect(Scopes.grants(["interviews:*"], "interviews:read"))
    #expect(Scopes.grants(["interviews:*"], "interviews:write"))
    #expect(Scopes.grants(["*"], "jobs:write"))
    #expect(Scopes.grants(["*"], "analytics:read"))
  }

  @Test("grants nothing beyond what is listed")
  func doesNotGrant() {
    #expect(!Scopes.grants([], "interviews:read"))
    #expect(!Scopes.grants(["interviews:read"], "interviews:write"))
    #expect(!Scopes.grants(["interviews:read"], "candidates:read"))
    #expect(!Scopes.grants(["interviews:*"], "candidates:read"))
    #expect(!Scopes.grants(["interview:*"], "interviews:read"), "a resource is matched whole, not by prefix")
    #expect(!Scopes.grants(["interviews:*"], "interviewsx:read"))
    #expect(!Scopes.grants(["interviews:read"], "interviews:read2"))
    #expect(!Scopes.grants(["jobs:write"], "jobs:read"), "write does not imply read")
  }

  @Test("high privilege: any write or wildcard")
  func highPrivilege() {
    #expect(Scopes.isHighPrivilege(["interviews:read", "jobs:write"]))
    #expect(Scopes.isHighPrivilege(["*"]))
    #expect(Scopes.isHighPrivilege(["jobs:*"]))
    #expect(Scopes.isHighPrivilege(["webhooks:write"]))
    #expect(!Scopes.isHighPrivilege(["interviews:read", "analytics:read", "jobs:read"]))
    #expect(!Scopes.isHighPrivilege([]))
    #expect(Scopes.isHighPrivilege(Scopes.preset("full-integration")!))
    #expect(Scopes.isHighPrivilege(Scopes.preset("candidate-portal")!))
    #expect(!Scopes.isHighPrivilege(Scopes.preset("analytics-dashboard")!))
  }

  @Test("rotation policy: 90 days for high privilege, 180 for read-only")
  func rotationPeriod() {
    #expect(Scopes.rotationPeriod(["jobs:write"]) == 90 * 86400)
    #expect(Scopes.rotationPeriod(["*"]) == 90 * 86400)
    #expect(Scopes.rotationPeriod(["jobs:read"]) == 180 * 86400)
  }

  @Test("well-formed scope names")
  func wellFormed() {
    for good in ["interviews:read", "jobs:write", "reports_v2:export-csv", "a:b"] {
      #expect(Scopes.isWellFormed(good), "\(good)")
    }
    for bad in [
      "", "interviews", "interviews:", ":read", "a:b:c", "Interviews:read", "interviews:Read", "inter views:read",
      "1jobs:read", "jobs:read ", "*", "jobs:*", "jobs/read", "jobs:read\n", "jöbs:read",
      String(repeating: "a", count: 65) + ":read",
    ] {
      #expect(!Scopes.isWellFormed(bad), "\(bad)")
    }
  }
}

@Suite("Fields")
struct FieldsTests {
  @Test("e-mail addresses")
  func email() throws {
    #expect(try Fields.email("ops@example.com") == "ops@example.com")
    #expect(try Fields.email("first.last+tag@mail.example.co.uk") == "first.last+tag@mail.example.co.uk")
    for bad in [
      "ops", "a@b", "a b@c.d", "", "@example.com", "ops@", "a@@b.c", "a@b@c.d", "ops@.com", "ops@example.",
      "ops@exa mple.com", "ops@example.com\n", "Ops <ops@example.com>", "ops@example.com,evil@example.com",
      String(repeating: "a", count: 250) + "@b.cd",
    ] {
      #expect(throws: ValueError.self, "\(bad)") { try Fields.email(bad) }
    }
  }

  @Test("metadata is KEY=VALUE")
  func metadata() throws {
    let (k, v) = try Fields.metadata("team=core")
    #expect(k == "team" && v == "core")
    let (k2, v2) = try Fields.metadata("query=a=b")
    #expect(k2 == "query" && v2 == "a=b", "split at the first '='")
    let (k3, v3) = try Fields.metadata("empty=")
    #expect(k3 == "empty" && v3 == "")
    for bad in ["team", "", "=core", " team=core", "te am=x", String(repeating: "k", count: 65) + "=v"] {
      #expect(throws: ValueError.self, "\(bad)") { try Fields.metadata(bad) }
    }
    #expect(throws: ValueError.self) { try Fields.metadata("k=" + String(repeating: "v", count: 1001)) }
    #expect(try Fields.metadata("k=" + String(repeating: "v", count: 1000)).1.count == 1000)
  }

  @Test("company ids: printable ASCII without spaces, 1 to 128")
  func company() throws {
    #expect(try Fields.company("acme-42") == "acme-42")
    #expect(try Fields.company(String(repeating: "c", count: 128)).count == 128)
    for bad in ["", "acme corp", " acme", "acme\t", "acme\n", "acmé", "\u{1b}[31m", String(repeating: "c", count: 129)]
    {
      #expect(throws: ValueError.self, "\(bad)") { try Fields.company(bad) }
    }
  }

  @Test("tags: no spaces or commas")
  func tag() throws {
    #expect(try Fields.tag("billing") == "billing")
    for bad in ["", "a,b", "a b", String(repeating: "t", count: 65)] {
      #expect(throws: ValueError.self, "\(bad)") { try Fields.tag(bad) }
    }
  }

  @Test("names and reasons: not blank, bounded, otherwise stored as given")
  func nameAndReason() throws {
    #expect(
      try Fields.name("Billing \u{1b}[2J sync") == "Billing \u{1b}[2J sync",
      "stored as given; escaped only when printed")
    #expect(throws: ValueError.self) { try Fields.name("") }
    #expect(throws: ValueError.self) { try Fields.name("   ") }
    #expect(throws: ValueError.self) { try Fields.name(String(repeating: "n", count: 201)) }
    #expect(try Fields.reason("leaked in CI log") == "leaked in CI log")
    #expect(throws: ValueError.self) { try Fields.reason(" \t") }
    #expect(throws: ValueError.self) { try Fields.reason(String(repeating: "r", count: 501)) }
  }

  @Test("administrator user names")
  func userName() throws {
    #expect(try Fields.userName("alice") == "alice")
    for bad in ["", "a b", "a/b", "a:b", String(repeating: "u", count: 65)] {
      #expect(throws: ValueError.self, "\(bad)") { try Fields.userName(bad) }
    }
  }
}
