import IVKeysCore

/// What `ivkeys leak` prints: a table of the keys found and what was done, `--json` (one object
/// a key), or `-q` (the new keys of a rotation, as `rotate -q` prints them, else the ids of the
/// keys recorded as leaked). A new key is printed here once, never anywhere else.
struct LeakReport {
  let results: [LeakResponse.Result]
  /// The address each key's contact was told at ("" when it had none).
  let notified: [String: String]
  let dryRun: Bool
  let action: LeakResponse.Action?

  /// The outcome as the report names it: `would_suspend` in a dry run.
  func outcome(_ r: LeakResponse.Result) -> String {
    dryRun && r.recorded ? "would_" + (r.outcome == .reported ? "report" : r.action) : r.outcome.rawValue
  }

  func print(_ ctx: Context) {
    switch ctx.format {
    case .quiet:
      if action == .rotate {
        for r in results { if let n = r.rotation?.new { ctx.stdout.line(n.key.string) } }
      } else {
        for r in results where r.recorded { ctx.stdout.line(r.leaked.keyID) }
      }
    case .json:
      ctx.stdout.line(results.map { LeakResultJSON(result: $0, outcome: outcome($0), notified: notified) }.json)
    case .table:
      table(ctx)
    }
  }

  private func table(_ ctx: Context) {
    guard !results.isEmpty else { return }
    let rows = results.map { r -> [Cell] in
      let places = r.leaked.locations
      let more = places.count > 1 ? " (+\(places.count - 1))" : ""
      let status = r.record?.status
      return [
        Cell(r.leaked.keyID), Cell(r.leaked.env.rawValue),
        Cell(status?.rawValue ?? "unknown", status.map(Color.of)), Cell(outcome(r)),
        Cell((places.first ?? "-") + more),
        Cell(notified[r.leaked.keyID].map { $0.isEmpty ? "no contact" : $0 } ?? "-"),
      ]
    }
    Table.print(
      ["KEY ID", "ENV", "STATUS", "DONE", "FOUND AT", "NOTIFIED"], rows, to: ctx.stdout, color: ctx.useColor,
      width: ctx.tableWidth)
    let rotations = results.compactMap(\.rotation)
    guard !rotations.isEmpty else { return }
    ctx.stdout.line("")
    Table.print(
      ["NEW KEY ID", "REPLACES", "KEY"],
      rotations.map { [Cell($0.new.record.id), Cell($0.old.id), Cell($0.new.key.string)] }, to: ctx.stdout,
      color: ctx.useColor, width: ctx.tableWidth)
  }
}

extension LeakResponse.Result {
  /// The action's name for a dry run's outcome: `suspend`, `rotate`, `revoke`.
  var action: String {
    switch outcome {
    case .suspended: return "suspend"
    case .rotated: return "rotate"
    case .revoked: return "revoke"
    default: return outcome.rawValue
    }
  }
}

/// One key of `leak --json`.
struct LeakResultJSON: JSONRendering {
  let result: LeakResponse.Result
  let outcome: String
  let notified: [String: String]

  func writeJSON(to w: inout JSONWriter) {
    w.object { w in
      let r = result
      w.member("key_id", r.leaked.keyID)
      w.member("env", r.leaked.env.rawValue)
      w.member("company", r.record?.company)
      w.member("status", r.record?.status.rawValue)
      w.member("outcome", outcome)
      w.member("recorded", r.recorded)
      w.member("locations", strings: r.leaked.locations)
      let to = notified[r.leaked.keyID]
      w.member("notified", to.flatMap { $0.isEmpty ? nil : $0 })
      w.member("note", r.note)
      w.member("new_key_id", r.rotation?.new.record.id)
      w.member("new_key", r.rotation?.new.key.string)
    }
  }
}
