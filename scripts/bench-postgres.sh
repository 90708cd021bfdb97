#!/bin/sh
# make bench, PostgreSQL beside SQLite (issue 13), each figure side by side, measured in one run
# on a throwaway PostgreSQL server on this machine (scripts/pg-server.sh: a Unix socket, the
# server's default settings, fsync included):
#   verify --batch, 100,000 lines over 1,000 keys      target >= 10,000 decisions/s on PostgreSQL
#   one verify process, 10,000-key vault               target PostgreSQL <= 2 x SQLite (median wall time)
#   beside it, the floor: a C program that only loads libpq, connects and sends SELECT 1 (on the
#   2-core machine the floor alone is over 2 x a SQLite verify: the target cannot be met while
#   every process loads libpq and connects)
#   create --count 10000 into a fresh vault            target >= 20,000 keys/s on PostgreSQL
# No test asserts on time: this script reports.
set -eu
IVKEYS=${1:?usage: bench-postgres.sh PATH-TO-IVKEYS}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/ivkeys-bench-pg.XXXXXX")
chmod 755 "$dir"
trap 'sh "$here/pg-server.sh" stop "$dir/pg"; rm -rf "$dir"' EXIT INT TERM
# The server runs as nobody and needs the folder open; the SQLite vaults and the secret are in
# one of their own.
mkdir -m 700 "$dir/own"
export IVKEYS_SECRET_FILE="$dir/own/secret"
if ! sh "$here/pg-server.sh" start "$dir/pg" >/dev/null; then
  echo "PostgreSQL: skipped (the server did not start; make bench installs Debian's postgresql)"
  exit 0
fi
url() { echo "postgresql:///$1?host=$dir/pg&user=ivkeys"; }
# A new database; its name from a counter kept in a file (each call runs in a subshell).
echo 0 >"$dir/n"
newdb() {
  n=$(($(cat "$dir/n") + 1))
  echo "$n" >"$dir/n"
  psql -q "$(url postgres)" -c "CREATE DATABASE bench$n" >/dev/null
  url "bench$n"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
seconds() {
  start=$(date +%s%N)
  "$@" >/dev/null
  end=$(date +%s%N)
  awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }'
}

# create --count 10000, each run into a new vault.
create() {
  IVKEYS_VAULT=$1 "$IVKEYS" init -q >/dev/null
  IVKEYS_VAULT=$1 seconds "$IVKEYS" create --company c1 --name bulk --scope candidates:read --count 10000 -q
}
rs=""
rp=""
for i in 1 2 3; do
  rm -f "$IVKEYS_SECRET_FILE"
  rs="$rs$(create "$dir/own/create$i.db")
"
  rm -f "$IVKEYS_SECRET_FILE"
  rp="$rp$(create "$(newdb)")
"
done
cs=$(printf '%s' "$rs" | median)
cp=$(printf '%s' "$rp" | median)

# The same 10,000-key vault on both engines (copied), and a stream of 100,000 requests over
# 1,000 of its keys from 1,000 addresses and 20 endpoints.
rm -f "$IVKEYS_SECRET_FILE"
lite="$dir/own/vault.db"
IVKEYS_VAULT=$lite "$IVKEYS" init -q >/dev/null
IVKEYS_VAULT=$lite "$IVKEYS" create --company c1 --name bench --scope candidates:read --count 10000 -q >"$dir/keys"
pg=$(newdb)
"$IVKEYS" vault copy "$lite" "$pg" >/dev/null
awk 'NR % 10 == 1' "$dir/keys" >"$dir/hot"
awk -v n=100000 'BEGIN { srand(7) } { keys[NR - 1] = $0 }
  END {
    for (i = 0; i < n; i++) {
      printf "{\"key\":\"%s\",\"company\":\"c1\",\"scope\":\"candidates:read\",\"ip\":\"10.0.%d.%d\",\"endpoint\":\"GET /v1/candidates/%d\"}\n",
        keys[int(rand() * NR)], i % 200, i % 250, i % 20
    }
  }' "$dir/hot" >"$dir/batch"
batch() { IVKEYS_VAULT=$1 seconds "$IVKEYS" verify --batch --env live <"$dir/batch"; }
rs=""
rp=""
for i in 1 2 3; do
  rs="$rs$(batch "$lite")
"
  rp="$rp$(batch "$pg")
"
done
bs=$(printf '%s' "$rs" | median)
bp=$(printf '%s' "$rp" | median)
ok=$(IVKEYS_VAULT=$pg "$IVKEYS" verify --batch --env live <"$dir/batch" | grep -c '"code":"ok"')

# One verify process per request, alternating engines.
export IVKEYS_KEY="$(head -n 1 "$dir/keys")"
one() {
  if command -v hyperfine >/dev/null 2>&1; then
    IVKEYS_VAULT=$1 hyperfine -N --warmup 10 --runs 200 --export-json "$dir/one.json" \
      "$IVKEYS verify --env live --company c1 --scope candidates:read --ip 10.1.2.3" >/dev/null 2>&1
    grep -o '"median": *[0-9.e-]*' "$dir/one.json" | head -n 1 | awk '{ printf "%.2f", $2 * 1000 }'
  else
    runs=""
    for i in $(seq 100); do runs="$runs$(IVKEYS_VAULT=$1 seconds "$IVKEYS" verify --env live --company c1 --scope candidates:read)
"; done
    printf '%s' "$runs" | median | awk '{ printf "%.2f", $1 * 1000 }'
  fi
}
vs=$(one "$lite")
vp=$(one "$pg")
unset IVKEYS_KEY

# The floor under any verify process on PostgreSQL: a C program that only loads libpq as ivkeys
# does (dlopen, RTLD_NOW), connects and sends SELECT 1 (scripts/pq-floor.c).
floor=""
why="no C compiler to build scripts/pq-floor.c"
if ${CC:-cc} -O2 -o "$dir/pq-floor" "$here/pq-floor.c" -ldl 2>/dev/null; then
  why="scripts/pq-floor.c could not load libpq or connect"
fi
if [ -x "$dir/pq-floor" ] && "$dir/pq-floor" "$(url postgres)"; then
  if command -v hyperfine >/dev/null 2>&1; then
    if hyperfine -N --warmup 10 --runs 200 --export-json "$dir/floor.json" "$dir/pq-floor $(url postgres)" >/dev/null 2>&1; then
      floor=$(grep -o '"median": *[0-9.e-]*' "$dir/floor.json" | head -n 1 | awk '{ printf "%.2f", $2 * 1000 }')
    else
      why="hyperfine failed"
    fi
  else
    runs=""
    for i in $(seq 100); do runs="$runs$(seconds "$dir/pq-floor" "$(url postgres)")
"; done
    floor=$(printf '%s' "$runs" | median | awk '{ printf "%.2f", $1 * 1000 }')
  fi
fi

echo "PostgreSQL $(psql -Atq "$(url postgres)" -c 'SHOW server_version' | cut -d' ' -f1) on this machine, beside SQLite:"
awk -v cs="$cs" -v cp="$cp" -v bs="$bs" -v bp="$bp" -v vs="$vs" -v vp="$vp" -v ok="$ok" 'BEGIN {
  printf "  %-44s %14s %14s\n", "", "SQLite", "PostgreSQL"
  printf "  %-44s %10d k/s %10d k/s   (target >= 20000 keys/s)\n", "create --count 10000 (keys/s, median of 3)", 10000 / cs, 10000 / cp
  printf "  %-44s %10d d/s %10d d/s   (target >= 10000 decisions/s; %d allowed)\n", "verify --batch, 100000 lines (decisions/s)", 100000 / bs, 100000 / bp, ok
  printf "  %-44s %11.2f ms %11.2f ms   PostgreSQL / SQLite %.2f x (target <= 2)\n", "one verify process, 10000-key vault (median)", vs, vp, vp / vs
}'
if [ -n "$floor" ]; then
  awk -v f="$floor" -v vs="$vs" 'BEGIN {
    printf "  %-44s %14s %11.2f ms   = %.2f x the SQLite verify, before any of ivkeys work\n", "floor: libpq loaded, connected, SELECT 1", "", f, f / vs
  }'
else
  echo "  floor: skipped ($why)"
fi
