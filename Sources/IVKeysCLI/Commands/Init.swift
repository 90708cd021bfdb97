import IVKeysCore

/// `ivkeys init`.
enum InitCommand {
  static let run: RunFunction = { inv, ctx throws(IVKeysError) in
    let result = try Vault.initialize(path: try ctx.vaultPath(), secretPath: try ctx.secretPath(), actor: ctx.actor)
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
    for dir in Set([FileSystem.directory(of: result.vaultPath), FileSystem.directory(of: result.secretPath)]).sorted() {
      if let mode = FileSystem.mode(dir), mode & 0o077 != 0 {
        ctx.warning("the directory \(dir) is accessible by group or others (mode \(String(mode, radix: 8)))")
        ctx.hint("chmod 700 \(dir)")
      }
    }
    return 0
  }
}
