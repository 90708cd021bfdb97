/// What `alerts ack` did.
public enum AlertAcknowledgement: Sendable {
  /// Recorded now, with its audit entry.
  case acknowledged(Alert)
  /// It was acknowledged before: nothing new recorded.
  case alreadyAcknowledged(Alert)
}

extension Vault {
  // MARK: - Alerts

  /// The alerts the rules raise for the hours `query` covers, open and acknowledged, by hour,
  /// rule and key.
  ///
  /// The hourly buckets of the window are read key by key, then, for the keys with an hour busy
  /// enough for volume, from the start of the baseline's days before it; the per-address
  /// buckets from the start of the window, with one look back per key and address for the first
  /// sighting in the window. Key records are read only for keys
  /// with alerts, or once for every key when a company filter or companies' working hours need
  /// them.
  public func alerts(_ query: AlertQuery) throws(IVKeysError) -> [Alert] {
    let rules = try alertRules()
    let t = now()
    let firstHour = query.hour ?? Self.floorHour(t.subtractingReportingOverflow(query.since).partialValue)
    var owners: [String: String]?
    var keys: [String]?
    if let company = query.company {
      var map = [String: String]()
      try store.forEachKey(KeyQuery([.servesCompany(company)]), now: t) { k in map[k.id] = k.company }
      owners = map
      keys = map.keys.sorted().filter { query.keyID == nil || $0 == query.keyID }
    } else if let id = query.keyID {
      keys = [id]
    }
    let hours = query.rules.contains(.afterHours) ? try workingHoursBySubject() : [:]
    let companySchedules = hours.keys.contains { $0.hasPrefix("company:") }
    if companySchedules && owners == nil { owners = try store.keyCompanies() }
    let store = store
    let knownOwners = owners
    let lookbackHours = rules.newIPLookbackDays * 24
    var schedules = [String: WorkSchedule]()
    var evaluator = AlertEvaluator(
      rules: rules, enabled: hours.isEmpty ? query.rules.subtracting([.afterHours]) : query.rules,
      firstHour: firstHour, lastHour: min(query.hour ?? .max, Self.floorHour(t)),
      schedule: { id throws(IVKeysError) -> WorkSchedule? in
        // Each setting is checked and parsed once, however many keys follow it.
        func parsed(_ subject: String) throws(IVKeysError) -> WorkSchedule? {
          if let s = schedules[subject] { return s }
          guard let row = hours[subject] else { return nil }
          let s = try Self.schedule(row)
          schedules[subject] = s
          return s
        }
        if let own = try parsed("key:\(id)") { return own }
        guard let company = knownOwners?[id] else { return nil }
        return try parsed("company:\(company)")
      },
      firstTrafficHour: { id throws(IVKeysError) in try store.firstTrafficHour(keyID: id) },
      lastAddressHour: { id, ip, hour throws(IVKeysError) in
        // Sightings older than the lookback make an address new all the same: not read.
        try store.lastAddressHour(keyID: id, ip: ip, before: hour, notBefore: hour - lookbackHours)
      })
    try evaluate(&evaluator, keys: keys)
    var alerts = evaluator.alerts
    try describe(&alerts, owners: owners, from: firstHour, now: t)
    return alerts
  }

  /// Streams the buckets of `keys` (nil: every key) through the evaluator.
  private func evaluate(_ evaluator: inout AlertEvaluator, keys: [String]?) throws(IVKeysError) {
    let store = store
    func each(_ body: (String?) throws(IVKeysError) -> Void) throws(IVKeysError) {
      if let keys { for k in keys { try body(k) } } else { try body(nil) }
    }
    if evaluator.needsHourly {
      let from = evaluator.firstHour
      try each { key throws(IVKeysError) in
        try store.forEachHourlyBucket(fromHour: from, keyID: key) { b throws(IVKeysError) in try evaluator.add(b) }
      }
      let candidates = evaluator.volumeCandidates
      evaluator.startVolumePass()
      for key in candidates {
        try store.forEachHourlyBucket(fromHour: evaluator.baselineFrom, keyID: key) { b throws(IVKeysError) in
          try evaluator.add(b)
        }
      }
    }
    if evaluator.enabled.contains(.newIP) {
      let from = evaluator.firstHour
      try each { key throws(IVKeysError) in
        try store.forEachAddressBucket(fromHour: from, keyID: key) { a throws(IVKeysError) in try evaluator.add(a) }
        evaluator.flushAddresses()
      }
    }
  }

  /// Fills in each alert's company and recorded state, and puts them in order.
  private func describe(_ alerts: inout [Alert], owners: [String: String]?, from hour: Int64, now t: Timestamp)
    throws(IVKeysError)
  {
    guard !alerts.isEmpty else { return }
    let states = try store.alertStates(windowFrom: hour * 3600)
    var companies = owners ?? [:]
    var last = (key: "", company: "")  // alerts come key by key
    for i in alerts.indices {
      let id = alerts[i].keyID
      if id != last.key {
        if companies[id] == nil {
          companies[id] = try store.keys(idPrefix: id, now: t, limit: 1).first { $0.id == id }?.company ?? ""
        }
        last = (id, companies[id] ?? "")
      }
      alerts[i].company = last.company
      if !states.isEmpty, let s = states[alerts[i].id] {
        alerts[i].acknowledgedAt = s.acknowledgedAt
        alerts[i].acknowledgedBy = s.acknowledgedBy
        alerts[i].notifiedAt = s.notifiedAt
        alerts[i].claimedAt = s.claimedAt
      }
    }
    // The passes raise each rule's alerts in key order, so sorting by hour and rule, keeping that
    // order within, puts them by hour, rule and key. Sorted as small keys, then moved once: an
    // Alert is large, and a sort that moves 150,000 of them took most of a second.
    let order = alerts.indices.map { (hour: alerts[$0].hour, rule: alerts[$0].rule.order, index: $0) }.sorted {
      ($0.hour, $0.rule, $0.index) < ($1.hour, $1.rule, $1.index)
    }
    alerts = order.map { alerts[$0.index] }
  }

  /// Every working-hours row, by subject (`key:<id>`, `company:<id>`); seals are checked when one is used.
  private func workingHoursBySubject() throws(IVKeysError) -> [String: WorkingHoursRow] {
    var out = [String: WorkingHoursRow]()
    for row in try store.allWorkingHours() { out[row.subject] = row }
    return out
  }

  /// The clock hour a time falls in.
  static func floorHour(_ t: Timestamp) -> Int64 { t >= 0 ? t / 3600 : (t - 3599) / 3600 }

  // MARK: - Acknowledging

  /// Closes the alert `text` names: checks that the rule fires for that key and hour, then records
  /// the acknowledgement and an `alert.acknowledged` entry in one transaction. Acknowledging again
  /// records nothing.
  public func acknowledgeAlert(_ text: String) throws(IVKeysError) -> AlertAcknowledgement {
    let id: AlertID
    do { id = try AlertID.parse(text) } catch { throw error.for("ID", text) }
    var query = AlertQuery(keyID: id.keyID, rules: [id.rule])
    query.hour = id.hour
    // An alert of the hour in progress can go as its figures move (an error rate falls back
    // under its threshold); one that was e-mailed can still be acknowledged, as the mail says.
    let recorded = try store.alertState(id: id.description)
    guard
      let alert = try alerts(query).first(where: { $0.id == id.description })
        ?? recorded.flatMap({ s in s.notifiedAt == nil ? nil : Alert(recorded: s, id: id) })
    else {
      throw .notFound(
        "no such alert: \(id)", hint: "'ivkeys alerts --all --since DUR' lists the alerts of the hours DUR covers")
    }
    return try write { () throws(IVKeysError) -> AlertAcknowledgement in
      let at = now()
      guard try store.acknowledgeAlert(alert.stateRow, at: at, by: actor.actor) else {
        var before = alert
        if let s = try store.alertState(id: alert.id) {
          before.acknowledgedAt = s.acknowledgedAt
          before.acknowledgedBy = s.acknowledgedBy
        }
        return .alreadyAcknowledged(before)
      }
      try record(
        AuditEntry(
          event: .alertAcknowledged, keyID: alert.keyID, company: alert.company,
          detail: .object([
            ("alert", .string(alert.id)), ("rule", .string(alert.rule.rawValue)),
            ("window_start", .string(Time.rfc3339(alert.windowStart))),
          ])), at: at)
      var done = alert
      done.acknowledgedAt = at
      done.acknowledgedBy = actor.actor
      return .acknowledged(done)
    }
  }
}
