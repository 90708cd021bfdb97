import IVKeysCore

/// `ivkeys scan`: not written yet; the command table names it so help and docs can list it.
enum ScanCommand {
  static let run: RunFunction = { _, _ throws(IVKeysError) in throw .usage("ivkeys scan is not implemented yet") }
}
