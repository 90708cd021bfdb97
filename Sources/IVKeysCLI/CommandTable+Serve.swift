extension CommandSpec {
  /// `ivkeys serve`; kept beside the table (CommandTable.swift) to keep each file short.
  static let serve = CommandSpec(
    "serve", "answer gateways' authorization requests over HTTP (nginx auth_request, Traefik, Envoy)",
    synopsis: "(--listen ADDR:PORT | --socket PATH) --env live|test [--trusted-proxy ADDR|CIDR]...",
    options: [
      OptionSpec(
        .listen, "ADDR:PORT", "listen on this address and TCP port, e.g. 127.0.0.1:8080 ([::1]:8080 for IPv6)"),
      OptionSpec(.socket, "PATH", "listen on a Unix socket at PATH instead (created mode 0660; must not exist)"),
      OptionSpec(.env, "live|test", "the environment served (or IVKEYS_ENV): keys of the other are wrong_environment"),
      OptionSpec(
        .trustedProxy, "ADDR|CIDR", repeatable: true,
        "a proxy whose X-Real-IP / X-Forwarded-For name the client (from others they are ignored)"),
    ],
    conflicts: [(.listen, .socket)],
    discussion: """
      GET or POST /verify decides as 'verify' does and answers with the decision JSON and its
      status: 200, 401, 403, 429 (with Retry-After when a wait helps), 400 for a request that is
      not one, 503 when the decision cannot be recorded (fail closed). The key comes from the
      Authorization header (Bearer); company and scope from X-IVKeys-Company and X-IVKeys-Scope;
      the endpoint from X-Original-Method and X-Original-URI (nginx), X-Forwarded-Method and
      X-Forwarded-Uri (Traefik), or a request to /verify/PATH with any method (Envoy's
      path_prefix), without its query string; the client address is the peer's, or, from a
      trusted proxy (or over the Unix socket), X-Real-IP or the last untrusted X-Forwarded-For
      entry (none if it names no client). Responses carry RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset for a
      rate-limited key, and X-IVKeys-Code and X-IVKeys-Key-Id. GET /healthz is 200 when the vault
      can be read and written, else 503; GET /metrics is Prometheus text. Concurrent requests
      share one transaction (group commit). SIGTERM or SIGINT stops accepting, answers what is in
      flight, writes held usage counts and exits 0. Ready when it prints 'listening on ...' to
      standard error.
      """,
    run: ServeCommand.run)
}
