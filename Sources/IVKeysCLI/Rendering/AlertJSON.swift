import IVKeysCore

// The JSON of `alerts` and its subcommands (see ResultJSON.swift for the rules).

extension Alert: JSONRendering {
  func writeJSON(to w: inout JSONWriter) { writeJSON(to: &w, times: AlertHourTexts(hour)) }

  /// The alert, with its hour's texts made by the caller, once for every alert of the hour.
  func writeJSON(to w: inout JSONWriter, times t: AlertHourTexts) {
    w.object { w in
      // Escaped like any string: a key id comes from a row, which may have been changed by hand.
      w.member("id", "\(rule.rawValue):\(keyID):\(t.hour)")
      w.member("rule", rule.rawValue)
      w.member("key_id", keyID)
      w.member("company", company)
      w.key("window_start")
      w.rawText(t.start)
      w.key("window_end")
      w.rawText(t.end)
      w.member("observed", observed)
      w.member("threshold", threshold)
      w.member("message", message)
      w.member("status", status)
      w.member("acknowledged_at", time: acknowledgedAt)
      w.member("acknowledged_by", acknowledgedBy)
      w.member("notified_at", time: notifiedAt)
      if rule == .newIP { w.member("ips", strings: ips) }
    }
  }
}

/// The texts of one clock hour that each of its alerts prints: `YYYY-MM-DDTHH` for the id, and
/// its start and end as quoted RFC 3339 times. Alerts come by hour, so a listing makes them once
/// an hour rather than three times an alert.
struct AlertHourTexts {
  let value: Int64
  let hour: String
  let start: String
  let end: String

  init(_ hour: Int64) {
    value = hour
    let start = Time.rfc3339(hour * 3600)
    self.hour = String(start.prefix(13))
    self.start = "\"\(start)\""
    end = "\"\(Time.rfc3339(hour * 3600 + 3600))\""
  }

  /// These texts for `hour`: these, or new ones.
  func of(_ hour: Int64) -> AlertHourTexts { hour == value ? self : AlertHourTexts(hour) }

  /// An alert's id.
  func id(_ a: Alert) -> String { "\(a.rule.rawValue):\(a.keyID):\(hour)" }
}

/// `alerts rules --json`: an object of rules, each an object of its parameters.
struct AlertRulesJSON: JSONRendering {
  let rules: AlertRules

  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      for rule in AlertRule.allCases {
        w.key(rule.rawValue)
        w.object { w in
          for p in AlertRules.parameters where p.rule == rule {
            w.key(p.name)
            w.value(.number(rules[p.qualifiedName]))
          }
        }
      }
    }
  }
}

extension WorkingHoursSetting: JSONRendering {
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      switch subject {
      case .company(let c):
        w.member("company", c)
        w.member("key_id", nil as String?)
      case .key(let k):
        w.member("company", nil as String?)
        w.member("key_id", k)
      }
      w.member("hours", schedule?.hours.description ?? stored)
      w.member("tz", zone)
      w.member("set_at", time: setAt)
      w.member("set_by", setBy)
      w.member("damaged", damaged)
    }
  }
}
