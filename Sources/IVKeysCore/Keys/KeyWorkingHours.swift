/// How `update` changes a key's own working hours (`--working-hours`, `--tz`,
/// `--no-working-hours`).
public enum WorkingHoursChange: Sendable, Equatable {
  case unchanged
  /// New hours, in `zone`; without one, in the zone of the key's current hours, else UTC.
  case set(WorkingHours, zone: String?)
  /// The key's current hours, in another zone; an error when the key has none of its own.
  case rezone(String)
  /// No working hours of its own (its company's then apply, if any).
  case clear
}

/// The working hours that apply to a key, as `show` prints them.
public struct KeyWorkingHours: Sendable {
  /// Where they are set: on the key, or on its company.
  public enum Source: String, Sendable {
    case key, company
  }

  /// The hours as stored (`Mon-Fri 08:00-18:00`).
  public let hours: String
  /// A zoneinfo name.
  public let zone: String
  public let source: Source
  /// The row does not match its seal: changed outside ivkeys (checked only with the secret).
  public let damaged: Bool
}

/// The time zone of working hours given without `--tz`.
public let defaultWorkingHoursZone = "UTC"

extension Vault {
  // MARK: - A key's working hours

  /// The working hours that apply to `k`: its own, else its company's; nil when neither is set.
  /// Never throws for a row changed outside ivkeys: it is returned marked `damaged`.
  public func workingHours(of k: KeyRecord) throws(IVKeysError) -> KeyWorkingHours? {
    for (subject, source) in [
      (WorkingHoursSubject.key(k.id), KeyWorkingHours.Source.key), (.company(k.company), .company),
    ] {
      guard let row = try store.workingHours(subject: subject.stored) else { continue }
      return KeyWorkingHours(
        hours: row.hours, zone: row.zone, source: source, damaged: secretAvailable && !row.intact)
    }
    return nil
  }

  /// The key's own working hours after `change`, from `before`; inside `write`.
  func changedSchedule(_ old: KeyRecord, _ before: WorkSchedule?, _ change: WorkingHoursChange)
    throws(IVKeysError) -> WorkSchedule?
  {
    switch change {
    case .unchanged: return before
    case .clear: return nil
    case .set(let hours, let zone):
      return WorkSchedule(hours: hours, zone: zone ?? before?.zone ?? defaultWorkingHoursZone)
    case .rezone(let zone):
      guard let before else {
        throw .usage(
          "--tz changes the time zone of key \(old.id)'s working hours, and it has none of its own",
          hint: "give the hours too: --working-hours \"Mon-Fri 08:00-18:00\" --tz \(zone)")
      }
      return WorkSchedule(hours: before.hours, zone: zone)
    }
  }

  /// Copies a key's own working hours to its replacement; returns them. Inside `write`.
  func copyWorkSchedule(from old: String, to new: String) throws(IVKeysError) -> WorkSchedule? {
    guard let schedule = try workSchedule(.key(old)) else { return nil }
    try storeWorkSchedule(.key(new), schedule)
    return schedule
  }
}
