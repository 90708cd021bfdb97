import IVKeysCore

extension CommandSpec {
  /// `ivkeys alerts` and its subcommands, kept beside the table (CommandTable.swift) to keep
  /// each file short.
  static let alerts = CommandSpec(
    "alerts", "alerts on key usage: unusual volume, new addresses, error rates, after-hours use",
    synopsis:
      "[--since DUR] [--key ID] [--company ID] [--rule R]... [--all] [--check] | rules | set | ack | notify | hours",
    options: [
      OptionSpec(.since, "DUR", "the hours from DUR ago on, the current one included (default 24h)"),
      OptionSpec(.key, "ID", "alerts of this key (id, prefix or whole key)"),
      OptionSpec(.company, "ID", "alerts of keys serving this company (own or linked)"),
      OptionSpec(.rule, "RULE", repeatable: true, "only this rule: volume, new_ip, error_rate or after_hours"),
      OptionSpec(.all, "also list acknowledged alerts"),
      OptionSpec(.check, "exit 3 when any open alert is listed, 0 when none (for cron)"),
    ],
    subcommands: [
      CommandSpec(
        "rules", "the rules' parameters: value, default, meaning", synopsis: "", run: AlertsCommand.rulesTable),
      CommandSpec(
        "set", "change one rule parameter (administrators only)",
        arguments: [
          ArgumentSpec(
            "RULE.PARAM", "a parameter, as 'alerts rules' lists it",
            completion: .words(AlertRules.parameters.map(\.qualifiedName))),
          ArgumentSpec("VALUE", "its new value"),
        ],
        synopsis: "", run: AlertsCommand.set),
      CommandSpec(
        "ack", "acknowledge an alert: it is no longer open",
        arguments: [ArgumentSpec("ID", "an alert id, as 'ivkeys alerts' lists it")], synopsis: "",
        discussion: "Recorded with an alert.acknowledged audit entry; acknowledging again records nothing.",
        run: AlertsCommand.ack),
      CommandSpec(
        "notify", "e-mail each open alert to its key's contact, once per alert",
        synopsis: "[--since DUR] [--sendmail CMD] [--from ADDR] [--dry-run]",
        options: [
          OptionSpec(.since, "DUR", "the alerts of the hours from DUR ago on (default 24h)")
        ] + SharedOptions.mail,
        discussion: """
          Each message names the key's id, name and company, the rule, the hour, what was observed
          against what threshold, and the commands that acknowledge the alert and show the key's
          usage; never the key. A message sent is recorded (notification.sent) and not sent again
          for the same alert; an acknowledged alert is not sent. Keys without a contact are warned
          about. A command that fails is reported, not recorded, and makes the exit status 1.
          """,
        run: AlertsNotifyCommand.run),
      CommandSpec(
        "hours", "list, show, set or clear a company's working hours (after_hours alerts)",
        arguments: [
          ArgumentSpec("COMPANY", "a company id", presence: .optional),
          ArgumentSpec("HOURS", "working hours, e.g. \"Mon-Fri 08:00-18:00\"", presence: .optional),
        ],
        synopsis: "[--tz ZONE] [--clear]",
        options: [
          OptionSpec(.tz, "ZONE", "the zone HOURS are in: a zoneinfo name such as Europe/Berlin (default UTC)"),
          OptionSpec(.clear, "remove the company's working hours"),
        ],
        discussion: """
          With no argument, lists every working-hours setting, companies' and keys'; with COMPANY
          alone, shows that company's. Setting or clearing them is for administrators, audited as
          settings.changed. HOURS are days and spans separated by ';': "Mon-Fri 08:00-18:00;
          Sat 09:00-13:00"; a span whose end is before its start runs past midnight. A key with
          working hours of its own follows those instead of its company's.
          """,
        run: AlertsHoursCommand.run),
    ],
    discussion: """
      Each alert covers one clock hour (UTC) of one key; its id is RULE:KEY_ID:YYYY-MM-DDTHH.
      The rules: volume (an hour's requests above FACTOR x the key's median requests in the hours
      with traffic of the previous days, and at least MIN_REQUESTS; a key with no traffic in
      those days raises none), new_ip (an address not seen for the key in the previous days, for a key
      with enough history; and every address its allowlist refused), error_rate (a share of an
      hour's requests refused or failed, with enough requests), after_hours (requests in an hour
      wholly outside the working hours of the key or its company; only keys with working hours).
      'ivkeys alerts rules' shows the parameters, 'ivkeys alerts set' changes them. Open alerts
      only, unless --all.
      Example for cron: ivkeys alerts --check || ivkeys alerts notify
      """,
    run: AlertsCommand.list)
}
