import IVKeysCore

/// The long names of the options: commands read options through these, and the table declares
/// options with them, so a misspelt name does not compile. A new option's name is added here.
extension OptionName {
  static let action = OptionName("action")
  static let actor = OptionName("actor")
  static let addScope = OptionName("add-scope")
  static let all = OptionName("all")
  static let allowIP = OptionName("allow-ip")
  static let batch = OptionName("batch")
  static let check = OptionName("check")
  static let clear = OptionName("clear")
  static let clearIPs = OptionName("clear-ips")
  static let company = OptionName("company")
  static let contact = OptionName("contact")
  static let count = OptionName("count")
  static let description = OptionName("description")
  static let dryRun = OptionName("dry-run")
  static let endpoint = OptionName("endpoint")
  static let env = OptionName("env")
  static let event = OptionName("event")
  static let expectHead = OptionName("expect-head")
  static let expires = OptionName("expires")
  static let expiresIn = OptionName("expires-in")
  static let expiringWithin = OptionName("expiring-within")
  static let force = OptionName("force")
  static let format = OptionName("format")
  static let from = OptionName("from")
  static let git = OptionName("git")
  static let grace = OptionName("grace")
  static let help = OptionName("help")
  static let idle = OptionName("idle")
  static let includeExpired = OptionName("include-expired")
  static let ip = OptionName("ip")
  static let json = OptionName("json")
  static let key = OptionName("key")
  static let keyFile = OptionName("key-file")
  static let limit = OptionName("limit")
  static let linkCompany = OptionName("link-company")
  static let meta = OptionName("meta")
  static let listen = OptionName("listen")
  static let maxRequests = OptionName("max-requests")
  static let name = OptionName("name")
  static let noColor = OptionName("no-color")
  static let noExpiry = OptionName("no-expiry")
  static let noMaxRequests = OptionName("no-max-requests")
  static let noRateLimit = OptionName("no-rate-limit")
  static let noWorkingHours = OptionName("no-working-hours")
  static let preset = OptionName("preset")
  static let quiet = OptionName("quiet")
  static let rateLimit = OptionName("rate-limit")
  static let reason = OptionName("reason")
  static let refill = OptionName("refill")
  static let roles = OptionName("roles")
  static let removeIP = OptionName("remove-ip")
  static let removeScope = OptionName("remove-scope")
  static let rule = OptionName("rule")
  static let scope = OptionName("scope")
  static let secretFile = OptionName("secret-file")
  static let sendmail = OptionName("sendmail")
  static let since = OptionName("since")
  static let socket = OptionName("socket")
  static let sort = OptionName("sort")
  static let status = OptionName("status")
  static let tag = OptionName("tag")
  static let top = OptionName("top")
  static let trustedProxy = OptionName("trusted-proxy")
  static let type = OptionName("type")
  static let tz = OptionName("tz")
  static let unlinkCompany = OptionName("unlink-company")
  static let unsetMeta = OptionName("unset-meta")
  static let untag = OptionName("untag")
  static let unusedFor = OptionName("unused-for")
  static let until = OptionName("until")
  static let vault = OptionName("vault")
  static let version = OptionName("version")
  static let within = OptionName("within")
  static let workingHours = OptionName("working-hours")
  static let yes = OptionName("yes")
}

/// The options every command takes.
let globalOptions: [OptionSpec] = [
  OptionSpec(
    .vault, "PATH",
    "the vault (default $IVKEYS_VAULT, else $XDG_DATA_HOME/ivkeys/vault.db, else ~/.local/share/ivkeys/vault.db)"),
  OptionSpec(
    .secretFile, "PATH",
    "the server secret (default $IVKEYS_SECRET_FILE, else $XDG_CONFIG_HOME/ivkeys/secret, else ~/.config/ivkeys/secret)"
  ),
  OptionSpec(.json, "print JSON instead of a table"),
  OptionSpec(.format, "table|json", "output format"),
  OptionSpec(.quiet, short: "q", "print only ids, one a line (create and rotate print the new keys)"),
  OptionSpec(.noColor, "never color the output (also NO_COLOR)"),
  OptionSpec(.help, short: "h", "show help"),
  OptionSpec(.version, "print the version"),
]

/// Options several key-changing commands share, written once.
enum SharedOptions {
  static let expires = OptionSpec(.expires, "DATE", "expiry: YYYY-MM-DD (midnight UTC) or an RFC 3339 time")
  static let expiresIn = OptionSpec(.expiresIn, "DUR", "expiry as a duration from now: 30d, 12h, 2w")
  static let allowIP = OptionSpec(
    .allowIP, "ADDR|CIDR", repeatable: true, "allow requests from this IPv4/IPv6 address or range")
  static let rateLimit = OptionSpec(.rateLimit, "N/UNIT", "at most N requests per s, m or h (e.g. 100/m)")
  static let maxRequests = OptionSpec(
    .maxRequests, "N", "a request budget: the key admits N requests in all, then 429 usage_exhausted")
  static let refill = OptionSpec(.refill, "N/d", "with --max-requests: N more requests each day, up to the budget")
  static let meta = OptionSpec(.meta, "K=V", repeatable: true, "set a metadata entry")
  static let tag = OptionSpec(.tag, "TAG", repeatable: true, "add a tag")
  static let contact = OptionSpec(.contact, "EMAIL", "who to tell about expiry")
  static let linkCompany = OptionSpec(
    .linkCompany, "ID", repeatable: true, "link an ATS key to a company (administrators only)")
  static let workingHours = OptionSpec(
    .workingHours, "HOURS",
    "when the key is expected to be used, e.g. \"Mon-Fri 08:00-18:00\" (requests outside raise after_hours alerts)")
  static let tz = OptionSpec(
    .tz, "ZONE", "the time zone of --working-hours: a zoneinfo name such as Europe/Berlin (default UTC)")
  /// How `notify` and `alerts notify` send their messages.
  static let mail: [OptionSpec] = [
    OptionSpec(.sendmail, "CMD", "the command each message is piped to (default '\(MailSettings.defaultSendmail)')"),
    OptionSpec(.from, "ADDR", "the sender address (default the OS user at this host)"),
    OptionSpec(.dryRun, "print the messages, send nothing and record nothing"),
  ]
  /// Which keys a bulk suspend, resume or revoke changes, instead of an ID.
  static let selectors: [OptionSpec] = [
    OptionSpec(.company, "ID", "every key owned by this company"),
    OptionSpec(.tag, "TAG", "every key with this tag"),
    OptionSpec(.env, "live|test", "every key of this environment"),
    OptionSpec(.dryRun, "list the keys that would change, and change nothing"),
    OptionSpec(.yes, "confirm a change to more than one key"),
  ]
  static let selectorDiscussion = """
    Selectors combine: --company acme --tag ci --env test matches keys that have all three.
    --company matches the keys a company owns, not ATS keys merely linked to it. Keys in a
    state the change does not apply to are left alone. All matched keys change in one
    transaction, with one audit entry each; more than one needs --yes. With no match the
    command says so and exits 0, so a cleanup step can run twice. One key by ID follows the same
    rule: a key already in the state asked for is left alone (a note, exit 0, no audit entry);
    a change that cannot happen, like resuming a revoked key, is an error (exit 1).
    """
  static let auditFilters: [OptionSpec] = [
    OptionSpec(.key, "ID", "entries about this key (id, prefix or whole key)"),
    OptionSpec(.company, "ID", "entries about this company"),
    OptionSpec(.event, "E[,E]", repeatable: true, "these events; key.* matches a prefix"),
    OptionSpec(.actor, "USER", "entries by this actor or OS user"),
    OptionSpec(.since, "WHEN", "from this date, RFC 3339 time, or duration ago (7d)"),
    OptionSpec(.until, "WHEN", "up to this date, RFC 3339 time, or duration ago"),
    OptionSpec(.limit, "N", "only the newest N entries"),
  ]
}

/// Pairs of global options that cannot be given together, checked after each command's own.
let globalConflicts: [(OptionName, OptionName)] = [(.json, .quiet), (.json, .format), (.format, .quiet)]
