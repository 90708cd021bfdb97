#!/bin/sh
# make bench, `ivkeys serve` (issue 14): wrk on loopback against serve, the load and the server
# sharing this machine's cores, on a 100,000-key vault; beside it, the same decisions through
# one `verify` process each.
#   serve, SQLite vault            target >= 20,000 decisions/s, p99 <= 5 ms, audit and usage recorded
#   serve, PostgreSQL vault        target >= 10,000 decisions/s (when a test server starts)
# Requests go round 1,000 of the keys, 32 connections, one wrk thread. No test asserts on time:
# this script reports.
set -eu
IVKEYS=${1:?usage: bench-serve.sh PATH-TO-IVKEYS}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/ivkeys-bench-serve.XXXXXX")
chmod 755 "$dir"
server=""
stop_server() {
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
  fi
}
trap 'stop_server; sh "$here/pg-server.sh" stop "$dir/pg" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT INT TERM
mkdir -m 700 "$dir/own"
export IVKEYS_SECRET_FILE="$dir/own/secret"
if ! command -v wrk >/dev/null; then
  echo "serve: skipped (wrk is not installed; make bench installs Debian's wrk)"
  exit 0
fi
seconds=${SERVE_SECONDS:-10}

# wrk's script: each request presents the next of the keys in keys.txt.
cat >"$dir/keys.lua" <<'EOF'
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do keys[#keys + 1] = line end
local i = 0
request = function()
  i = i % #keys + 1
  return wrk.format("GET", "/verify", {
    ["Authorization"] = "Bearer " .. keys[i],
    ["X-IVKeys-Company"] = "bench",
    ["X-IVKeys-Scope"] = "jobs:read",
    ["X-Original-Method"] = "GET",
    ["X-Original-URI"] = "/v1/jobs",
  })
end
EOF

# Starts serve on vault $1; sets $server and $port.
start_server() {
  IVKEYS_VAULT=$1 "$IVKEYS" serve --listen 127.0.0.1:0 --env live 2>"$dir/serve.err" &
  server=$!
  port=""
  for _ in $(seq 1 600); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/serve.err")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$dir/serve.err" >&2; exit 1; }
}

# A vault of 100,000 keys; 1,000 of them (every 100th) are presented.
fill() {
  IVKEYS_VAULT=$1 "$IVKEYS" init -q >/dev/null
  IVKEYS_VAULT=$1 "$IVKEYS" create --company bench --name load --scope jobs:read --count 100000 -q |
    awk 'NR % 100 == 1' >"$dir/keys.txt"
}

# The audit log's length, from `audit verify` (which also checks the chain).
entries() {
  IVKEYS_VAULT=$1 "$IVKEYS" audit verify | sed -n 's/.*intact: \([0-9]*\) entries.*/\1/p'
}

# wrk against vault $1, labelled $2: decisions/s, p99, and what the vault recorded.
load() {
  before=$(entries "$1")
  start_server "$1"
  KEYS_FILE="$dir/keys.txt" wrk -t1 -c32 -d"${seconds}s" --latency -s "$dir/keys.lua" "http://127.0.0.1:$port" \
    >"$dir/wrk.out"
  # The server's own view (/metrics): decisions answered within 5 ms of their headers. wrk's
  # percentiles are corrected for coordinated omission (a stall of D ms also counts the requests
  # a steady client would have sent meanwhile), so they weigh rare stalls far more.
  within=""
  if command -v curl >/dev/null 2>&1; then
    within=$(curl -s "http://127.0.0.1:$port/metrics" | awk '
      /^ivkeys_decision_duration_seconds_bucket\{le="0.005"\}/ { b = $2 }
      /^ivkeys_decision_duration_seconds_count/ { n = $2 }
      END { if (n > 0) printf "%.2f", 100 * b / n }')
  fi
  stop_server
  rate=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$dir/wrk.out")
  p99=$(awk '$1 == "99%" {print $2}' "$dir/wrk.out")
  total=$(awk '/requests in/ {print $1}' "$dir/wrk.out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$dir/wrk.out")
  after=$(entries "$1")
  printf '  %-28s %8s decisions/s   p99 %-8s  (%s requests, %s audit entries, chain verified%s)\n' \
    "$2" "$rate" "$p99" "$total" "$((after - before))" "${non2xx:+, $non2xx not 2xx}"
  if [ -n "$within" ]; then
    printf '  %-28s %s %% of decisions answered within 5 ms of their headers (its /metrics)\n' "" "$within"
  fi
}

echo "serve: wrk -t1 -c32 -d${seconds}s on loopback, 100,000-key vault, 1,000 keys presented in turn"
fill "$dir/own/serve.db"
load "$dir/own/serve.db" "SQLite vault"

# The same decisions through one `verify` process each (2 at a time, one a core), on 5,000 of
# them: a process per request costs its start, its vault opening and its own commit.
n=5000
export IVKEYS_VAULT="$dir/own/serve.db" IVKEYS_ENV=live
start=$(date +%s%N)
i=0
while [ $i -lt $((n / 1000)) ]; do
  cat "$dir/keys.txt"
  i=$((i + 1))
done | xargs -P 2 -I KEY sh -c 'printf %s "$1" | "$0" verify -q --company bench --scope jobs:read >/dev/null' "$IVKEYS" KEY
end=$(date +%s%N)
unset IVKEYS_VAULT IVKEYS_ENV
awk -v n=$n -v ns=$((end - start)) \
  'BEGIN { printf "  %-28s %8d decisions/s   (%d processes, 2 at a time)\n", "per-request verify", n / (ns / 1e9), n }'

if sh "$here/pg-server.sh" start "$dir/pg" >/dev/null 2>&1; then
  psql -q "postgresql:///postgres?host=$dir/pg&user=ivkeys" -c "CREATE DATABASE serve" >/dev/null
  rm -f "$IVKEYS_SECRET_FILE"
  pg="postgresql:///serve?host=$dir/pg&user=ivkeys"
  fill "$pg"
  load "$pg" "PostgreSQL vault"
else
  echo "  PostgreSQL vault: skipped (the test server did not start)"
fi
