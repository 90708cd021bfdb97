/// Whose working hours: one key's, or a company's (for its keys without their own).
public enum WorkingHoursSubject: Sendable, Equatable {
  case key(String)
  case company(String)

  /// The stored subject: `key:<id>` or `company:<id>`.
  var stored: String {
    switch self {
    case .key(let id): return "key:\(id)"
    case .company(let c): return "company:\(c)"
    }
  }

  init?(stored: String) {
    if stored.hasPrefix("key:") {
      self = .key(String(stored.dropFirst(4)))
    } else if stored.hasPrefix("company:") {
      self = .company(String(stored.dropFirst(8)))
    } else {
      return nil
    }
  }
}

/// Working hours as set, for listing.
public struct WorkingHoursSetting: Sendable {
  public let subject: WorkingHoursSubject
  public let schedule: WorkSchedule?
  /// The text as stored, when it no longer parses (or its row's seal is broken).
  public let stored: String
  public let zone: String
  public let setAt: Timestamp
  public let setBy: String
  /// The row does not match its seal: it was changed outside ivkeys.
  public let damaged: Bool
}

extension Vault {
  // MARK: - Working hours

  /// The working hours set on `subject`; a row changed outside ivkeys is `tampered`.
  public func workSchedule(_ subject: WorkingHoursSubject) throws(IVKeysError) -> WorkSchedule? {
    guard let row = try store.workingHours(subject: subject.stored) else { return nil }
    return try Self.schedule(row)
  }

  /// The schedule a key's `after_hours` alerts follow: its own working hours, else its company's;
  /// nil when neither is set.
  public func workSchedule(forKey id: String, company: String) throws(IVKeysError) -> WorkSchedule? {
    if let own = try workSchedule(.key(id)) { return own }
    return try workSchedule(.company(company))
  }

  static func schedule(_ row: WorkingHoursRow) throws(IVKeysError) -> WorkSchedule {
    guard row.intact else { throw .tampered("the working hours of \(row.subject) do not match their seal") }
    guard let hours = try? WorkingHours.parse(row.hours) else {
      throw .vault("the stored working hours of \(row.subject) cannot be read: \(Text.escapeControl(row.hours))")
    }
    return WorkSchedule(hours: hours, zone: row.zone)
  }

  /// Every working-hours setting, companies and keys.
  public func workingHoursSettings() throws(IVKeysError) -> [WorkingHoursSetting] {
    var out = [WorkingHoursSetting]()
    for row in try store.allWorkingHours() {
      guard let subject = WorkingHoursSubject(stored: row.subject) else { continue }
      let hours = row.intact ? try? WorkingHours.parse(row.hours) : nil
      out.append(
        WorkingHoursSetting(
          subject: subject, schedule: hours.map { WorkSchedule(hours: $0, zone: row.zone) }, stored: row.hours,
          zone: row.zone, setAt: row.setAt, setBy: row.setBy, damaged: !row.intact))
    }
    return out
  }

  /// Sets (or, with nil, removes) working hours inside the caller's write transaction, and
  /// returns what was set before.
  @discardableResult
  func storeWorkSchedule(_ subject: WorkingHoursSubject, _ schedule: WorkSchedule?) throws(IVKeysError)
    -> WorkSchedule?
  {
    let before = try workSchedule(subject)
    if let schedule {
      try store.setWorkingHours(
        subject: subject.stored, hours: schedule.hours.description, zone: schedule.zone, at: now(), by: actor.actor)
    } else if before != nil {
      try store.deleteWorkingHours(subject: subject.stored)
    }
    return before
  }

  /// Sets (or, with nil, removes) a company's working hours: administrators only, audited as
  /// `settings.changed`.
  public func setCompanyWorkSchedule(_ company: String, _ schedule: WorkSchedule?) throws(IVKeysError) {
    try write { () throws(IVKeysError) in
      try requireAdmin("set a company's working hours")
      let before = try storeWorkSchedule(.company(company), schedule)
      guard before != schedule else { return }
      try record(
        AuditEntry(
          event: .settingsChanged, company: company,
          detail: .object([
            ("setting", .string("working_hours")), ("company", .string(company)),
            ("before", Self.scheduleJSON(before)), ("after", Self.scheduleJSON(schedule)),
          ])))
    }
  }

  /// A schedule as audit details and JSON output write it: `{"hours", "tz"}`, or null.
  public static func scheduleJSON(_ s: WorkSchedule?) -> JSON {
    guard let s else { return .null }
    return .object([("hours", .string(s.hours.description)), ("tz", .string(s.zone))])
  }
}
