import IVKeysCore

/// `ivkeys init`.
enum InitCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    if inv.flag(.roles) { return try roles(ctx) }
    let result = try Vault.initialize(path: try ctx.vaultPath(), secretPath: try ctx.secretPath(), actor: ctx.actor)
    return report(result, ctx)
  }

  /// `init --roles`: the vault when the database has none, then the roles and grants.
  static func roles(_ ctx: Context) throws(IVKeysError) -> Int32 {
    let r = try Vault.initializeRoles(path: try ctx.vaultPath(), secretPath: try ctx.secretPath(), actor: ctx.actor)
    if ctx.format == .json {
      var w = JSONWriter()
      w.object { w in
        w.member("vault", r.location)
        w.member("initialized", r.initialized != nil)
        w.member("roles", strings: ["ivkeys_admin", "ivkeys_verify"])
      }
      ctx.stdout.line(w.string)
      return 0
    }
    if let made = r.initialized { _ = report(made, ctx) }
    if ctx.format == .table {
      ctx.stdout.line("roles:          ivkeys_admin, ivkeys_verify (granted on \(r.location))")
    }
    ctx.hint("grant a login role one of them: GRANT ivkeys_verify TO gateway; GRANT ivkeys_admin TO alice")
    return 0
  }

  static func report(_ result: Vault.Initialized, _ ctx: Context) -> Int32 {
    switch ctx.format {
    case .json:
      ctx.stdout.line(result.json)
    case .quiet:
      ctx.stdout.line(result.vaultPath)
    case .table:
      ctx.stdout.line("vault:          \(result.vaultPath)")
      ctx.stdout.line("secret file:    \(result.secretPath)")
      ctx.stdout.line("fingerprint:    \(result.fingerprint)")
      ctx.stdout.line("administrator:  \(result.administrator)")
      ctx.hint("back up the secret file apart from the vault: without it no key can be verified")
    }
    // ivkeys makes new directories 0700; one that already existed may be open to others.
    var dirs: Set = [FileSystem.directory(of: result.secretPath)]
    if !VaultLocation.isPostgres(result.vaultPath) { dirs.insert(FileSystem.directory(of: result.vaultPath)) }
    for dir in dirs.sorted() {
      if let mode = FileSystem.mode(dir), mode & 0o077 != 0 {
        ctx.warning("the directory \(dir) is accessible by group or others (mode \(String(mode, radix: 8)))")
        ctx.hint("chmod 700 \(dir)")
      }
    }
    return 0
  }
}
