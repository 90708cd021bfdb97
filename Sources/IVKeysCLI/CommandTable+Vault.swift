import IVKeysCore

extension CommandSpec {
  /// `ivkeys init`, with `--roles` for a PostgreSQL vault.
  static let initialize = CommandSpec(
    "init", "create the vault and the server secret",
    synopsis: "[--roles]",
    options: [
      OptionSpec(
        .roles, "PostgreSQL: also create or refresh the ivkeys_admin and ivkeys_verify roles and their grants")
    ],
    discussion: """
      Creates the secret file (32 random bytes, mode 0600) and the vault (mode 0600, in a 0700
      directory; or, for a postgresql:// vault, its tables in that database), and makes the OS
      user the first administrator. Refuses to overwrite either. With --roles on a PostgreSQL
      vault that exists, only the roles and grants are refreshed (run it again after an upgrade).
      """,
    run: InitCommand.run)

  /// `ivkeys vault copy`; both kept beside the table (CommandTable.swift) to keep each file short.
  static let vault = CommandSpec(
    "vault", "whole-vault operations: copy a vault between SQLite and PostgreSQL",
    synopsis: "copy SRC DEST",
    subcommands: [
      CommandSpec(
        "copy", "copy a whole vault into a new one, between engines either way, and check the copy",
        arguments: [
          ArgumentSpec("SRC", "the vault to copy: a file or a postgresql:// URL"),
          ArgumentSpec("DEST", "the new vault: a file that does not exist, or a database without ivkeys tables"),
        ],
        synopsis: "",
        discussion: """
          Reads SRC in one snapshot (its audit chain must verify and its seals hold) and copies
          every row, seals and audit hashes included, in one transaction. Before it commits, the
          copy's seals, its audit chain (to the same head), its sealed schema and each table's row
          count are checked; a copy that fails is rolled back and nothing is left. Both use the
          same secret file (--secret-file or IVKEYS_SECRET_FILE).
          """,
        run: VaultCommand.copy)
    ],
    run: VaultCommand.copy)
}
