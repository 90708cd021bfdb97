import Foundation
import Glibc
import Testing

@testable import IVKeysCore

/// Working hours set on keys (`create`/`update --working-hours --tz`, `--no-working-hours`): what
/// `after_hours` alerts follow. Stored with the key, audited with it, carried by `rotate`, shown by
/// `show`; bad hours or zones change nothing.
@Suite("working hours on keys")
struct KeyWorkingHoursTests {
  /// `show --json`'s `working_hours` member (nil when it is JSON null).
  static func hours(_ s: Sandbox, _ id: String) throws -> [String: String]? {
    let r = s.run("show", id, "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let obj = try #require(try r.json() as? [String: Any])
    #expect(obj.keys.contains("working_hours"))
    return obj["working_hours"] as? [String: String]
  }

  /// The `detail` of the audit entries of one event about a key, oldest first.
  static func details(_ s: Sandbox, _ event: String, key: String) throws -> [[String: Any]] {
    let r = s.run("audit", "--event", event, "--key", key, "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let entries = try #require(try r.json() as? [[String: Any]])
    return entries.compactMap { $0["detail"] as? [String: Any] }
  }

  @Test func createStoresHoursWithTheKeyAndAuditsThem() throws {
    let s = try Sandbox()
    let id = try s.createKey(["--working-hours", "mon-fri 08:00-18:00", "--tz", "Europe/Berlin"]).id
    #expect(try Self.hours(s, id) == ["hours": "Mon-Fri 08:00-18:00", "tz": "Europe/Berlin", "source": "key"])
    let created = try #require(try Self.details(s, "key.created", key: id).first)
    #expect(created["working_hours"] as? [String: String] == ["hours": "Mon-Fri 08:00-18:00", "tz": "Europe/Berlin"])
    let table = s.run("show", id)
    #expect(table.lines.contains("working hours: Mon-Fri 08:00-18:00 (Europe/Berlin)"), "\(table.stdout)")

    // Without --tz the zone is UTC; without hours, nothing is stored and the entry says nothing.
    let utc = try s.createKey(["--working-hours", "Sat 09:00-13:00"]).id
    #expect(try Self.hours(s, utc) == ["hours": "Sat 09:00-13:00", "tz": "UTC", "source": "key"])
    let plain = try s.createKey().id
    #expect(try Self.hours(s, plain) == nil)
    #expect(try Self.details(s, "key.created", key: plain).first?.keys.contains("working_hours") == false)
    #expect(s.run("show", plain).lines.contains("working hours: none"))
  }

  @Test func createCountGivesEveryKeyTheHours() throws {
    let s = try Sandbox()
    let r = s.run(
      "create", "--company", "acme", "--name", "n", "--scope", "jobs:read", "--count", "3", "--working-hours",
      "Mon-Fri 22:00-06:00", "--tz", "America/New_York", "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let ids = try #require(try r.json() as? [[String: Any]]).compactMap { $0["id"] as? String }
    #expect(ids.count == 3)
    for id in ids {
      #expect(try Self.hours(s, id) == ["hours": "Mon-Fri 22:00-06:00", "tz": "America/New_York", "source": "key"])
    }
    #expect(try s.count("SELECT count(*) FROM working_hours") == 3)
  }

  @Test func badHoursOrZonesChangeNothing() throws {
    let s = try Sandbox()
    let id = try s.createKey(["--working-hours", "Mon-Fri 08:00-18:00"]).id
    let head = s.run("audit", "head").stdout
    let base = ["create", "--company", "acme", "--name", "n", "--scope", "jobs:read"]
    let cases: [([String], String)] = [
      (base + ["--working-hours", "Mon-Fri 8-18"], "invalid value for --working-hours: 'Mon-Fri 8-18'"),
      (base + ["--working-hours", "Someday 08:00-18:00"], "invalid value for --working-hours"),
      (base + ["--working-hours", "Mon 08:00-08:00"], "is empty"),
      (
        base + ["--working-hours", "Mon 08:00-18:00", "--tz", "Mars/Olympus"], "invalid value for --tz: 'Mars/Olympus'"
      ),
      (base + ["--working-hours", "Mon 08:00-18:00", "--tz", "../etc/passwd"], "not a time zone name"),
      (base + ["--tz", "UTC"], "--tz is the time zone of --working-hours, which is missing"),
      (["update", id, "--working-hours", "25:00"], "invalid value for --working-hours"),
      (["update", id, "--tz", "Nowhere/Land"], "invalid value for --tz"),
      (["update", id, "--working-hours", "Mon 08:00-18:00", "--no-working-hours"], "cannot be used together"),
      (["update", id, "--tz", "UTC", "--no-working-hours"], "cannot be used together"),
    ]
    for (args, message) in cases {
      let r = s.run(args)
      #expect(r.status == 2, "\(args): \(r.stderr)")
      #expect(r.stderr.contains("ivkeys: error: ") && r.stderr.contains(message), "\(args): \(r.stderr)")
    }
    #expect(s.run("audit", "head").stdout == head)
    #expect(s.keyCount == 1)
    #expect(try Self.hours(s, id) == ["hours": "Mon-Fri 08:00-18:00", "tz": "UTC", "source": "key"])
  }

  @Test func updateSetsRezonesAndRemovesWithBeforeAndAfter() throws {
    let s = try Sandbox()
    let id = try s.createKey().id
    // --tz alone needs hours of the key's own.
    let head = s.run("audit", "head").stdout
    let none = s.run("update", id, "--tz", "Europe/Berlin")
    #expect(none.status == 2)
    #expect(none.stderr.contains("has none of its own"), "\(none.stderr)")
    #expect(s.run("audit", "head").stdout == head)

    #expect(s.run("update", id, "--working-hours", "Mon-Fri 08:00-18:00", "--tz", "Europe/Berlin").status == 0)
    #expect(s.run("update", id, "--tz", "Asia/Tokyo").status == 0)
    #expect(try Self.hours(s, id) == ["hours": "Mon-Fri 08:00-18:00", "tz": "Asia/Tokyo", "source": "key"])
    // New hours without --tz keep the key's zone.
    #expect(s.run("update", id, "--working-hours", "Mon-Sat 07:00-19:00").status == 0)
    #expect(try Self.hours(s, id) == ["hours": "Mon-Sat 07:00-19:00", "tz": "Asia/Tokyo", "source": "key"])
    // The same hours again change nothing and record nothing.
    let before = s.run("audit", "head").stdout
    let same = s.run("update", id, "--working-hours", "Mon-Sat 07:00-19:00", "--tz", "Asia/Tokyo")
    #expect(same.status == 0 && same.stderr.contains("nothing changed"), "\(same.stderr)")
    #expect(s.run("audit", "head").stdout == before)
    #expect(s.run("update", id, "--no-working-hours").status == 0)
    #expect(try Self.hours(s, id) == nil)

    let changes = try Self.details(s, "key.config_changed", key: id).map { $0["working_hours"] as? [String: Any] }
    func pair(_ c: [String: Any]?) -> ([String: String]?, [String: String]?) {
      (c?["before"] as? [String: String], c?["after"] as? [String: String])
    }
    #expect(changes.count == 4)
    #expect(pair(changes[0]) == (nil, ["hours": "Mon-Fri 08:00-18:00", "tz": "Europe/Berlin"]))
    #expect(changes[0]?["before"] is NSNull)
    #expect(pair(changes[1]).1 == ["hours": "Mon-Fri 08:00-18:00", "tz": "Asia/Tokyo"])
    #expect(pair(changes[2]).1 == ["hours": "Mon-Sat 07:00-19:00", "tz": "Asia/Tokyo"])
    #expect(pair(changes[3]).0 == ["hours": "Mon-Sat 07:00-19:00", "tz": "Asia/Tokyo"])
    #expect(changes[3]?["after"] is NSNull)
  }

  @Test func rotateCarriesTheHoursToTheNewKey() throws {
    let s = try Sandbox()
    let id = try s.createKey(["--working-hours", "Mon-Fri 09:00-17:00", "--tz", "Europe/London"]).id
    let r = s.run("rotate", id, "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let new = try #require((try r.json() as? [String: Any])?["id"] as? String)
    #expect(try Self.hours(s, new) == ["hours": "Mon-Fri 09:00-17:00", "tz": "Europe/London", "source": "key"])
    let created = try #require(try Self.details(s, "key.created", key: new).first)
    #expect(created["working_hours"] as? [String: String] == ["hours": "Mon-Fri 09:00-17:00", "tz": "Europe/London"])
    #expect(created["rotated_from"] as? String == id)
  }

  @Test func showSaysWhenTheHoursAreTheCompanys() throws {
    let s = try Sandbox()
    let id = try s.createKey().id
    let own = try s.createKey(["--working-hours", "Sun 10:00-11:00"]).id
    // The company's hours are set as `ivkeys alerts hours` sets them, by an administrator.
    let me = try #require(s.run("admin", "list", "-q").lines.first)
    let v = try Vault.open(path: s.vault, secretPath: s.secret, actor: Actor(osUser: me))
    try v.setCompanyWorkSchedule(
      "acme", WorkSchedule(hours: try WorkingHours.parse("Mon-Fri 08:00-16:00"), zone: "Europe/Paris"))
    #expect(try Self.hours(s, id) == ["hours": "Mon-Fri 08:00-16:00", "tz": "Europe/Paris", "source": "company"])
    #expect(
      s.run("show", id).lines.contains("working hours: Mon-Fri 08:00-16:00 (Europe/Paris, from company acme)"))
    // A key's own hours win over its company's.
    #expect(try Self.hours(s, own) == ["hours": "Sun 10:00-11:00", "tz": "UTC", "source": "key"])
  }
}
