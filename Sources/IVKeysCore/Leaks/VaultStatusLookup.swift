extension LeakScanner {
  /// Reads the status of found keys from a vault, to say which leaks are still live. Needs no
  /// server secret: the vault is opened read-only and nothing is written, migrated or fixed.
  public final class StatusLookup {
    let store: any VaultStore

    /// Opens the vault at `path` read-only. Refuses a file that is not an ivkeys vault or is
    /// newer than this binary, as `Vault.open` does.
    public init(vaultPath path: String) throws(IVKeysError) {
      guard VaultLocation.isPostgres(path) || FileSystem.exists(path) else {
        throw .vault(
          "no vault at \(path)", hint: "run 'ivkeys init' to create one, or point --vault or IVKEYS_VAULT at it")
      }
      let store = try VaultStores.open(path, readOnly: true)
      _ = try Vault.checkSchema(store, path: store.location)
      self.store = store
    }

    /// The status each id has as of `now`, by the rule `show` and `list` use
    /// (`KeyPolicy.effectiveStatus`, in the store's own terms): an id the vault does not hold is
    /// absent. Ids are bound parameters, looked up one by one in one read transaction.
    public func statuses(of ids: some Sequence<String>, now: Timestamp = Time.now()) throws(IVKeysError)
      -> [String: KeyStatus]
    {
      try store.effectiveStatuses(of: Set(ids), now: now)
    }
  }
}
