import IVKeysCore

// The JSON of `alerts` and its subcommands (see ResultJSON.swift for the rules).

extension Alert: JSONRendering {
  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      w.member("id", id)
      w.member("rule", rule.rawValue)
      w.member("key_id", keyID)
      w.member("company", company)
      w.member("window_start", time: windowStart)
      w.member("window_end", time: windowEnd)
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
