import IVKeysCore

/// `ivkeys completion`: not written yet; the command table names it so help and docs can list it.
enum CompletionCommand {
  static let run: RunFunction = { _, _ throws(IVKeysError) in throw .usage("ivkeys completion is not implemented yet") }
}
