import IVKeysCore

/// The command table.
let commandTable: [CommandSpec] = [
  .initialize,
  CommandSpec(
    "create", "create API keys and print each one once",
    synopsis: "--company ID --name TEXT (--scope S[,S] | --preset NAME) [options]",
    options: [
      OptionSpec(.company, "ID", "the company the key serves (required)"),
      OptionSpec(.name, "TEXT", "a name for people (required)"),
      OptionSpec(.scope, "S[,S]", repeatable: true, "grant scopes: resource:action, resource:* or *"),
      OptionSpec(.preset, "NAME", "grant a preset's scopes (see 'ivkeys scopes presets')"),
      OptionSpec(.env, "live|test", "live (production, default) or test (sandbox)"),
      OptionSpec(.type, "regular|ats", "regular (default) or ats, a multi-tenant integration (administrators only)"),
      SharedOptions.linkCompany, SharedOptions.expires, SharedOptions.expiresIn, SharedOptions.allowIP,
      SharedOptions.rateLimit, SharedOptions.maxRequests, SharedOptions.refill, SharedOptions.meta,
      SharedOptions.tag, SharedOptions.contact, SharedOptions.workingHours, SharedOptions.tz,
      OptionSpec(.count, "N", "create N keys with these settings in one transaction (default 1)"),
    ],
    conflicts: [(.scope, .preset), (.expires, .expiresIn)],
    discussion: """
      The key is printed once and never stored: the vault keeps only its HMAC-SHA256 digest.
      With -q only the keys are printed, one a line. A key with write or wildcard scopes and no
      expiry within 90 days gets a warning on stderr.
      """,
    run: CreateCommand.run),
  CommandSpec(
    "list", "list keys",
    options: [
      OptionSpec(.company, "ID", "keys serving this company (own or linked)"),
      OptionSpec(.status, "STATUS", "active, suspended, rotating, revoked or expired"),
      OptionSpec(.env, "live|test", "keys of this environment"),
      OptionSpec(.tag, "TAG", "keys with this tag"),
      OptionSpec(.scope, "SCOPE", "keys granting this scope (exactly or by wildcard)"),
      OptionSpec(.type, "regular|ats", "keys of this type"),
      OptionSpec(.expiringWithin, "DUR", "keys whose expiry falls within DUR from now"),
      OptionSpec(.unusedFor, "DUR", "keys last used (or, never used, created) more than DUR ago"),
      OptionSpec(.sort, "FIELD", "order by FIELD (-FIELD: descending); ties in creation order"),
    ],
    discussion: """
      Keys are listed in creation order unless --sort names a field: id, name, company, env, type,
      status, created_at, expires_at, last_used_at, request_count or error_count (also created,
      expires, last_used, requests, errors). Ascending, keys never used come first by last_used_at
      and keys without an expiry last by expires_at; -FIELD reverses the order.
      """,
    run: ListCommand.run),
  CommandSpec(
    "show", "show everything about one key, never its secret", arguments: [.keyID()], synopsis: "",
    discussion: "ID is a key id, a unique prefix of one (6 characters or more) or a whole key.",
    run: ShowCommand.run),
  CommandSpec(
    "update", "change a key's settings", arguments: [.keyID()],
    options: [
      OptionSpec(.name, "TEXT", "rename the key"),
      OptionSpec(.addScope, "S[,S]", repeatable: true, "grant scopes"),
      OptionSpec(.removeScope, "S[,S]", repeatable: true, "withdraw scopes"),
      SharedOptions.allowIP,
      OptionSpec(.removeIP, "ADDR|CIDR", repeatable: true, "remove an allowlist entry"),
      OptionSpec(.clearIPs, "empty the allowlist (then --allow-ip adds to the empty list)"),
      SharedOptions.expires, SharedOptions.expiresIn,
      OptionSpec(.noExpiry, "remove the expiry"),
      SharedOptions.meta,
      OptionSpec(.unsetMeta, "K", repeatable: true, "remove a metadata entry"),
      SharedOptions.tag,
      OptionSpec(.untag, "TAG", repeatable: true, "remove a tag"),
      SharedOptions.rateLimit,
      OptionSpec(.noRateLimit, "remove the rate limit"),
      SharedOptions.maxRequests, SharedOptions.refill,
      OptionSpec(.noMaxRequests, "remove the request budget"),
      SharedOptions.contact,
      SharedOptions.linkCompany,
      OptionSpec(.unlinkCompany, "ID", repeatable: true, "unlink an ATS key from a company (administrators only)"),
      SharedOptions.workingHours,
      OptionSpec(
        .tz, "ZONE",
        "the time zone of the working hours (default: the key's current one, else UTC); alone, moves them to ZONE"),
      OptionSpec(.noWorkingHours, "remove the key's own working hours (its company's then apply)"),
    ],
    conflicts: [
      (.expires, .expiresIn), (.expires, .noExpiry), (.expiresIn, .noExpiry),
      (.rateLimit, .noRateLimit), (.workingHours, .noWorkingHours), (.tz, .noWorkingHours),
      (.maxRequests, .noMaxRequests), (.refill, .noMaxRequests),
    ],
    discussion: """
      --max-requests sets a new budget, whole from now (requests already spent are forgotten); give
      --refill with it to keep or change a refill.
      """,
    run: UpdateCommand.run),
  CommandSpec(
    "rotate", "replace a key with a new one carrying the same settings", arguments: [.keyID()],
    synopsis: "[--grace DUR]",
    options: [OptionSpec(.grace, "DUR", "how long the old key stays valid (default 24h; 0 revokes it at once)")],
    run: RotateCommand.run),
  CommandSpec(
    "suspend", "disable keys until they are resumed: one by ID, or every active key a selector matches",
    arguments: [.keyID(presence: .orOptions)],
    synopsis: "--reason TEXT | [--company ID] [--tag TAG] [--env E] --reason TEXT [--dry-run] [--yes]",
    options: [OptionSpec(.reason, "TEXT", "why (required; recorded in the audit log)")] + SharedOptions.selectors,
    discussion: SharedOptions.selectorDiscussion,
    run: StatusCommand.suspend),
  CommandSpec(
    "resume", "re-enable suspended keys: one by ID, or every suspended key a selector matches",
    arguments: [.keyID(presence: .orOptions)],
    synopsis: "[--reason TEXT] | [--company ID] [--tag TAG] [--env E] [--dry-run] [--yes]",
    options: [OptionSpec(.reason, "TEXT", "why (optional; recorded in the audit log)")] + SharedOptions.selectors,
    discussion: SharedOptions.selectorDiscussion,
    run: StatusCommand.resume),
  CommandSpec(
    "revoke", "disable keys for good: one by ID, or every key a selector matches that is not yet revoked",
    arguments: [.keyID(presence: .orOptions)],
    synopsis: "--reason TEXT | [--company ID] [--tag TAG] [--env E] --reason TEXT [--dry-run] [--yes]",
    options: [OptionSpec(.reason, "TEXT", "why (required; recorded in the audit log)")] + SharedOptions.selectors,
    discussion: SharedOptions.selectorDiscussion,
    run: StatusCommand.revoke),
  CommandSpec(
    "verify", "decide whether a key may make a request (reads the key from stdin)",
    synopsis:
      "--env live|test --company ID --scope SCOPE [--ip ADDR] [--endpoint \"METHOD /path\"] [--key-file PATH] < key",
    options: [
      OptionSpec(
        .env, "live|test", "the environment the caller serves (required, or IVKEYS_ENV; --batch: the default)"),
      OptionSpec(.company, "ID", "the company the request is for (required)"),
      OptionSpec(.scope, "SCOPE", "the scope the request needs (required)"),
      OptionSpec(.ip, "ADDR", "the client's IPv4 or IPv6 address"),
      OptionSpec(.endpoint, "ENDPOINT", "the endpoint, for usage statistics (\"GET /v1/jobs\")"),
      OptionSpec(.keyFile, "PATH", "read the key from this file instead of stdin"),
      OptionSpec(.key, "KEY", "refused: argv is visible to every user; use stdin, --key-file or IVKEYS_KEY"),
      OptionSpec(.batch, "read JSON lines of requests on stdin, write one JSON decision a line"),
    ],
    conflicts: [
      (.batch, .company), (.batch, .scope), (.batch, .ip), (.batch, .endpoint), (.batch, .keyFile),
    ],
    discussion: """
      The environment the caller serves is required: --env, else IVKEYS_ENV; a key of the other
      environment is refused (wrong_environment). The key comes from stdin (a bare key or a whole
      'Authorization: Bearer <key>' line), from --key-file, or from IVKEYS_KEY (set but empty: an
      empty key, refused; stdin is not read); never from the command line. Exit status: 0 allowed,
      10 authentication failed (401), 11 not allowed (403), 12 rate limited (429), 1 when the
      decision could not be recorded (fail closed), 2 for bad options or no environment.
      With --batch each input line is {"key","company","scope","ip","endpoint","env"}; a line's
      env overrides --env or IVKEYS_ENV, one of which must still be given.
      """,
    run: VerifyCommand.run),
  CommandSpec(
    "usage", "a key's usage: last used, requests, error rate, top endpoints",
    arguments: [.keyID(presence: .orOptions)], synopsis: "[--top N] | import FILE|-",
    options: [OptionSpec(.top, "N", "how many endpoints and source addresses to show (default 5)")],
    subcommands: [
      CommandSpec(
        "import", "count requests from gateway logs (JSON lines with an optional ip; each request_id once)",
        arguments: [ArgumentSpec("FILE|-", "a log file, or - for stdin", completion: .files)],
        synopsis: "", run: UsageCommand.importLogs)
    ],
    run: UsageCommand.show),
  CommandSpec(
    "expiring", "active keys whose expiry falls within a window, soonest first",
    synopsis: "[--within DUR] [--company ID] [--include-expired] [--check]",
    options: [
      OptionSpec(.within, "DUR", "the window from now (default 7d)"),
      OptionSpec(.company, "ID", "keys serving this company (own or linked)"),
      OptionSpec(.includeExpired, "also list keys whose expiry has already passed"),
      OptionSpec(.check, "exit 3 when any key is listed, 0 when none (for cron)"),
    ],
    discussion: "Example for cron: ivkeys expiring --within 7d --check || alert",
    run: MaintenanceCommand.expiring),
  CommandSpec(
    "rotation-due", "active keys older than the rotation policy, most overdue first",
    synopsis: "[--within DUR] [--company ID] [--check]",
    options: [
      OptionSpec(.within, "DUR", "also list keys that become due within DUR from now (default 0: due now)"),
      OptionSpec(.company, "ID", "keys serving this company (own or linked)"),
      OptionSpec(.check, "exit 3 when any key is listed, 0 when none (for cron)"),
    ],
    discussion: """
      The policy: a key with any write or wildcard scope is rotated every 90 days, a read-only
      key every 180 days, counted from the creation of the current key.
      """,
    run: MaintenanceCommand.rotationDue),
  CommandSpec(
    "notify", "e-mail the contact of each key expiring soon, once per key and expiry",
    synopsis: "[--within DUR] [--sendmail CMD] [--from ADDR] [--dry-run]",
    options: [
      OptionSpec(.within, "DUR", "the window from now (default 7d)")
    ] + SharedOptions.mail,
    discussion: """
      Each message names the key's id, name, company and expiry and the command that rotates it;
      never the key. A message sent is recorded (notification.sent) and not sent again for the
      same key and expiry; a changed expiry gets a new notice. A command that fails is reported,
      not recorded, and makes the exit status 1.
      """,
    run: NotifyCommand.run),
  .alerts,
  CommandSpec(
    "sweep", "record what time has done: ended rotation graces become revoked, passed expiries expired",
    synopsis: "[--idle DUR --action suspend|revoke] [--dry-run]",
    options: [
      OptionSpec(.idle, "DUR", "also put keys unused for more than DUR out of use (with --action)"),
      OptionSpec(
        .action, "suspend|revoke", "what --idle does: suspend active keys, or revoke active and suspended ones"),
      OptionSpec(.dryRun, "list what would be recorded, and record nothing"),
    ],
    discussion: """
      Running it again changes nothing until time does more. Safe to run from cron at any interval.
      With --idle and --action, keys whose last use (or creation, when never used) is more than DUR
      ago are suspended or revoked, with the reason 'unused for DUR'; ATS keys are left alone, with
      a warning, unless the OS user is an administrator. Each sweep (not --dry-run) also deletes
      monitoring data (hourly and per-address counts, alert states) older than 90 days.
      """,
    run: MaintenanceCommand.sweep),
  CommandSpec(
    "report", "the credential report: one row per key with its age, use, errors and rotation due date",
    synopsis: "[--format table|json|csv] [--company ID] [--env E] [--status STATUS]",
    options: [
      OptionSpec(.format, "table|json|csv", "table (default), json (also --json) or csv with a header row"),
      OptionSpec(.company, "ID", "keys serving this company (own or linked)"),
      OptionSpec(.env, "live|test", "keys of this environment"),
      OptionSpec(.status, "STATUS", "active, suspended, rotating, revoked or expired"),
    ],
    discussion: """
      Columns: id, company, env, type, status, created_at, age_days, expires_at, last_used_at,
      last_ip, requests, errors, error_rate, rotation_due_at, idle_days, secret_version. Ages are
      whole days; idle_days counts from the last use, or from creation when never used; error_rate
      is errors over requests (null or empty without requests); rotation_due_at is creation plus
      the rotation policy's period (90 days with write or wildcard scopes, 180 read-only), null for
      revoked and expired keys. Rows stream in creation order.
      """,
    run: ReportCommand.run),
  CommandSpec(
    "scan", "find API keys in files, stdin or git history (valid checksum only); never prints the secret",
    arguments: [
      ArgumentSpec(
        "PATH", "a file or directory, or - for stdin; with --git, a RANGE", completion: .files, repeating: true,
        presence: .orOptions)
    ],
    synopsis: "| - | --git [RANGE]",
    options: [
      OptionSpec(.git, "scan the commits of RANGE (default: every branch and tag) and name each finding's commit")
    ],
    discussion: """
      Walks directories in name order, skipping .git, symbolic links to directories and special
      files, or reads stdin ('-'). Binary files are scanned too. Found: keys with a valid checksum
      (form exact), keys with one character substituted, inserted or deleted that exactly one
      edit repairs (damaged, reported under the repaired key's id), keys in base64 or URL-safe
      base64 (base64), in UTF-8 or in UTF-16 with a byte order mark. Each is printed as
      file:line:column (column in bytes), its id, env, its status in the vault when one is
      available, its form and the key masked; never the secret. Stdin that is a unified diff
      counts only added lines, under the new path and line number. --git runs 'git log -p' in the
      current directory over RANGE (as git log takes it: main..feature, v1.2.0..HEAD; default
      --all) and finds each key in the commit that added it (JSON adds "commit"; the table a
      COMMIT column); in a merge only lines new to every parent count. Without a vault at the
      default place there are no statuses. Exit status: 3 when any key was found, 0 when none, 1
      when none was found but something could not be read (or git failed), 2 for a path that
      does not exist, a bad RANGE or a directory outside a git repository.
      Pre-commit hook: git diff --cached --text --no-color --no-ext-diff --no-textconv --src-prefix=a/ --dst-prefix=b/ | ivkeys scan -
      """,
    run: ScanCommand.run),
  CommandSpec(
    "leak", "scan like 'scan', then record, act on and report every found key that still works",
    arguments: [ArgumentSpec("PATH", "a file or directory, or - for stdin", completion: .files, repeating: true)],
    synopsis: "| - [--action suspend|rotate|revoke] [--reason TEXT] [--dry-run] [--yes]",
    options: [
      OptionSpec(.action, "suspend|rotate|revoke", "what to do with each found key (default: report only)"),
      OptionSpec(.reason, "TEXT", "the reason recorded (default '\(LeakCommand.defaultReason)')"),
      SharedOptions.mail[0], SharedOptions.mail[1],
      OptionSpec(.dryRun, "say what would be done, and change, record and send nothing"),
      OptionSpec(.yes, "confirm an action on more than one key"),
    ],
    discussion: """
      Scans its inputs as 'scan' does. Each key found that the vault holds and that still works
      (not revoked or expired) gets a key.leaked audit entry with every file:line, the action if
      one is given (suspend or revoke with the reason; rotate replaces it with no grace and prints
      the new key once), and an e-mail to its contact (never the key). Without --action the key is
      left working but the leak is still recorded and the contact told. All changes are decided
      in one transaction; more than one key to act on needs --yes. A key already answered by an
      earlier leak is left alone, so running it twice does nothing new. Exit status: 3 when any
      key was found, 0 when none, 1 when something could not be read or a message not sent, 2 for
      usage.
      """,
    run: LeakCommand.run),
  .serve,
  CommandSpec(
    "completion", "print a shell completion script",
    arguments: [
      ArgumentSpec("bash|zsh|fish", "the shell", completion: .words(Completion.Shell.allCases.map(\.rawValue)))
    ],
    synopsis: "",
    run: CompletionCommand.run),
  CommandSpec(
    "scopes", "the scope catalog and presets", synopsis: "[list | presets | add NAME --description TEXT]",
    subcommands: [
      CommandSpec("list", "list the scope catalog", run: ScopesCommand.list),
      CommandSpec("presets", "list the presets and their scopes", run: ScopesCommand.presets),
      CommandSpec(
        "add", "add a scope to the catalog (administrators only)",
        arguments: [ArgumentSpec("NAME", "the scope, resource:action")],
        synopsis: "--description TEXT",
        options: [OptionSpec(.description, "TEXT", "what the scope allows (required)")],
        run: ScopesCommand.add),
    ],
    run: ScopesCommand.list),
  CommandSpec(
    "admin", "vault administrators", synopsis: "[list | add USER | remove USER]",
    subcommands: [
      CommandSpec("list", "list the administrators", run: AdminCommand.list),
      CommandSpec(
        "add", "make an OS user an administrator (administrators only)",
        arguments: [ArgumentSpec("USER", "an OS user name")], synopsis: "",
        run: AdminCommand.add),
      CommandSpec(
        "remove", "remove an administrator, never the last (administrators only)",
        arguments: [ArgumentSpec("USER", "an OS user name")],
        synopsis: "", run: AdminCommand.remove),
    ],
    run: AdminCommand.list),
  CommandSpec(
    "secret", "server secret versions: list them, rotate to a new one, retire an old one",
    synopsis: "[list | rotate | retire VERSION]",
    subcommands: [
      CommandSpec(
        "list", "each version: fingerprint, state, whether the file holds it, keys using it", run: SecretCommand.list),
      CommandSpec(
        "rotate", "add a new secret version and move the vault to it (administrators only)", synopsis: "",
        discussion: """
          Adds a new random version to the secret file (rewritten atomically, mode 0600) and, in
          one transaction, moves the vault to it: new keys' digests, every row's seal and the audit
          chain's key (a secret.rotated entry). Keys created under older versions keep verifying
          while their version is in the file; rotation-due lists them. Every sealed row is checked
          first: a vault changed outside ivkeys is refused, never resealed.
          """,
        run: SecretCommand.rotate),
      CommandSpec(
        "retire", "remove an old version from the secret file once no unrevoked key uses it (administrators only)",
        arguments: [ArgumentSpec("VERSION", "a secret version number, as 'secret list' shows")], synopsis: "",
        discussion: """
          Refuses while any key that is not revoked uses the version. Before removing it, verifies
          the audit entries it chained and records a secret.retired checkpoint (a keyless digest of
          those entries) under the current version, so 'audit verify' still proves the whole log.
          """,
        run: SecretCommand.retire),
    ],
    run: SecretCommand.list),
  CommandSpec(
    "audit", "list audit log entries, oldest first; verify, export or print the chain's head",
    synopsis: "[options] | verify [--expect-head HEAD] | head | export [--format jsonl|csv] [options]",
    options: SharedOptions.auditFilters,
    subcommands: [
      CommandSpec(
        "verify", "walk the hash chain and report the first entry changed, removed, inserted or moved",
        synopsis: "[--expect-head HEAD]",
        options: [
          OptionSpec(.expectHead, "HEAD", "also require this head, as 'audit head' printed it ('<seq> <hash>')")
        ],
        discussion: """
          Exit status: 0 when the chain is intact, 3 when it is broken (the first bad entry's seq
          is in the message and in --json). Cutting entries off the end is only detected against
          a head kept elsewhere (--expect-head).
          """,
        run: AuditChainCommand.verify),
      CommandSpec(
        "head", "print the last entry's seq and hash, to keep elsewhere", synopsis: "", run: AuditChainCommand.head),
      CommandSpec(
        "export", "write the entries as JSON lines or CSV (RFC 4180), streaming",
        synopsis: "[--format jsonl|csv] [filters]",
        options: [OptionSpec(.format, "jsonl|csv", "jsonl (default) or csv with a header row")]
          + SharedOptions.auditFilters,
        run: AuditChainCommand.export),
    ],
    run: AuditCommand.run),
  CommandSpec(
    "doctor", "check the vault's health: file modes, secret, integrity, schema, audit chain",
    synopsis: "",
    discussion: "One line per check. Exit status 0 when every check passes, 3 when any fails.",
    run: DoctorCommand.run),
  CommandSpec(
    "backup", "copy the vault consistently while it is in use, and check the copy",
    arguments: [ArgumentSpec("DEST", "the new file", completion: .files)],
    synopsis: "[--force]",
    options: [OptionSpec(.force, "replace DEST if it exists")],
    discussion: """
      The copy is made with SQLite's online backup API into a new file (mode 0600), then checked
      with integrity_check and the audit chain. It needs the same secret file as the vault.
      """,
    run: BackupCommand.run),
  .vault,
  CommandSpec(
    "help", "show help for a command",
    arguments: [
      ArgumentSpec("COMMAND", "a command", completion: .commands, presence: .optional),
      ArgumentSpec(
        "SUBCOMMAND", "one of its subcommands", completion: .subcommandsOfFirstArgument, presence: .optional),
    ],
    synopsis: "",
    run: HelpCommand.run),
]

/// Finds a top-level command.
func command(named name: String) -> CommandSpec? { commandTable.first { $0.name == name } }
