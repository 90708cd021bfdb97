import Foundation
import Testing

/// `--max-requests`, `--refill` and `--no-max-requests`: what they store, show and refuse.
@Suite struct BudgetOptionTests {
  @Test func aBudgetIsStoredShownAndRemovable() throws {
    let s = try Sandbox()
    let k = try s.createKey(["--max-requests", "500", "--refill", "100/d", "--rate-limit", "10/s"])
    let shown = try #require(try s.run("show", k.id, "--json").json() as? [String: Any])
    #expect(shown["max_requests"] as? Int == 500)
    #expect(shown["refill"] as? String == "100/d")
    #expect(shown["remaining"] as? Int == 500)
    #expect(shown["rate_limit"] as? String == "10/s", "the rate limit alone")
    let table = s.run("show", k.id).stdout
    #expect(table.contains("request budget:") && table.contains("500, refills 100 a day"))
    #expect(table.contains("remaining:"))
    #expect(table.split(separator: "\n").contains { $0.hasPrefix("rate limit:") && $0.hasSuffix(" 10/s") })
    let usage = try #require(try s.run("usage", k.id, "--json").json() as? [String: Any])
    #expect(usage["remaining"] as? Int == 500 && usage["max_requests"] as? Int == 500)

    #expect(s.run("update", k.id, "--no-max-requests").status == 0)
    let after = try #require(try s.run("show", k.id, "--json").json() as? [String: Any])
    #expect(after["max_requests"] == nil && after["remaining"] == nil, "a key without a budget keeps SPEC's fields")
    #expect(after["rate_limit"] as? String == "10/s", "removing the budget keeps the rate limit")
    // The change is audited with before and after.
    let audit = s.run("audit", "--key", k.id, "--json").stdout
    #expect(audit.contains("max_requests"))
    // A rotated key carries the budget on.
    #expect(s.run("update", k.id, "--max-requests", "7").status == 0)
    let rotated = try #require(try s.run("rotate", k.id, "--json").json() as? [String: Any])
    #expect(rotated["max_requests"] as? Int == 7)
  }

  @Test func badBudgetsAreUsageErrorsAndChangeNothing() throws {
    let s = try Sandbox()
    let k = try s.createKey()
    let base = ["create", "--company", "acme", "--name", "x", "--scope", "jobs:read"]
    for (args, message) in [
      (base + ["--max-requests", "0"], "at least 1"),
      (base + ["--max-requests", "ten"], "whole number"),
      (base + ["--max-requests", "-5"], "whole number"),
      (base + ["--max-requests", "5", "--refill", "5/h"], "N/d"),
      (base + ["--refill", "5/d"], "--refill needs --max-requests"),
      (["update", k.id, "--max-requests", "5", "--no-max-requests"], "cannot be used together"),
      (["update", k.id, "--refill", "1/d"], "--refill needs --max-requests"),
    ] {
      let before = s.keyCount
      let r = s.run(args)
      #expect(r.status == 2, "\(args)")
      #expect(r.stderr.hasPrefix("ivkeys: error: ") && r.stderr.contains(message), "\(r.stderr)")
      #expect(s.keyCount == before)
    }
  }
}
