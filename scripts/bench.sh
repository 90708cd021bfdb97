#!/bin/sh
# make bench: SPEC.md's performance targets, measured on fresh vaults.
#   create --count 10000 into a fresh vault      target >= 100,000 keys/s (audit entries included)
#   list --json over 100,000 keys                target <= 0.5 s and <= 64 MiB peak memory
#   one verify process, 100,000-key vault        target <= 5 ms wall, median
#   verify --batch, 100,000 lines                target >= 50,000 decisions/s, usage and audit recorded
#   audit verify over 1,000,000 entries          target <= 3 s; audit export --format jsonl throughput
#   scan over a generated tree of about 200 MB   target >= 200 MB/s of text
#   scan of one large stream, file and stdin     target >= 1 x ripgrep (rg -c, the key regex), side by side
#   alerts over 10,000 keys x 30 days of hourly buckets   target <= 1 s
#   PostgreSQL beside SQLite (scripts/bench-postgres.sh): verify --batch, one verify, create
#   serve under wrk, SQLite and PostgreSQL, beside per-request verify (scripts/bench-serve.sh)
# And in instructions (callgrind, whole process from the loader on; unlike wall time, stable on a
# shared machine), when valgrind and sqlite3 are installed:
#   ivkeys --version                             start-up alone
#   one verify process, 100,000-key vault        target <= 1.3 x the sqlite3 shell's point lookup
#                                                of the same key row, measured side by side
#   create --count 2000 into a fresh vault       instructions per created key
# Figures are medians of repeated runs. No test asserts on time: this script reports.
# A second argument runs one section alone: bench.sh PATH-TO-IVKEYS scan|postgres|serve
set -eu
IVKEYS=${1:?usage: bench.sh PATH-TO-IVKEYS [scan|postgres|serve]}
only=${2:-}
case $only in '' | scan | postgres | serve) ;; *) echo "usage: bench.sh PATH-TO-IVKEYS [scan|postgres|serve]" >&2; exit 2 ;; esac
if [ "$only" = postgres ]; then exec sh "$(dirname "$0")/bench-postgres.sh" "$IVKEYS"; fi
if [ "$only" = serve ]; then exec sh "$(dirname "$0")/bench-serve.sh" "$IVKEYS"; fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/ivkeys-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
export IVKEYS_SECRET_FILE="$dir/secret"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Runs a whole command (process start included); prints "seconds peak_kib": wall time from
# the nanosecond clock, peak resident memory from GNU time.
measure() {
  start=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$dir/time" "$@" >/dev/null
  end=$(date +%s%N)
  echo "$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }') $(cat "$dir/time")"
}

# scan: a tree of about 200 MB of code-like text in some 1,800 files over 35 directories, with
# words that hold "sk_" (task_id, mask_bits, sk_live; one every 36 bytes, far more often than in
# real code, so each is checked as a possible key), 5 keys from the bench
# vault, Stripe-shaped secret keys (same sk_live_ prefix) and a key with a bad checksum planted.
# Reported: MB/s of text over the median wall time of whole runs, and whether exactly the 5 keys
# were found.
bench_scan() {
  export IVKEYS_VAULT="$dir/scan.db"
  rm -f "$IVKEYS_SECRET_FILE"
  "$IVKEYS" init -q >/dev/null
  "$IVKEYS" create --company bench --name leaked --scope jobs:read --count 5 -q >"$dir/scan-keys"
  tree="$dir/scan-tree"
  awk -v root="$tree" -v total=200000000 'BEGIN {
    srand(42)
    nw = split("func let var return if else for while import from class self this task_id mask_bits " \
      "disk_usage risk_score ask_user sk_ sk_live sk_test_x config value result error print(\"ok\") " \
      "{ } ( ) [ ] == != -> => // # TODO https://example.com/v1/jobs?page=2 0x1f 42 3.14", w, " ")
    written = 0
    for (f = 0; written < total; f++) {
      d = root "/src" (f % 5) "/pkg" (f % 7)
      if (!(d in made)) { system("mkdir -p \"" d "\""); made[d] = 1 }
      file = d "/file" f ".txt"
      size = 20000 + int(rand() * 180000)
      for (n = 0; n < size; n += length(line) + 1) {
        line = substr("                ", 1, 2 * int(rand() * 5))
        k = 3 + int(rand() * 10)
        for (j = 0; j < k; j++) line = line w[1 + int(rand() * nw)] " "
        print line > file
      }
      close(file)
      written += n
    }
  }'
  i=0
  while read -r key; do
    i=$((i + 1))
    f=$((i * 97))
    printf 'API_KEY = "%s"\n' "$key" >>"$tree/src$((f % 5))/pkg$((f % 7))/file$f.txt"
  done <"$dir/scan-keys"
  stripe=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
  for f in 3 33 333; do
    printf 'STRIPE_SECRET_KEY=%s\n' "$stripe" >>"$tree/src$((f % 5))/pkg$((f % 7))/file$f.txt"
  done
  first=$(head -n 1 "$dir/scan-keys")
  case $first in *0) bad="${first%?}1" ;; *) bad="${first%?}0" ;; esac
  printf 'typo = "%s"\n' "$bad" >>"$tree/src1/pkg1/file1.txt"
  files=$(find "$tree" -type f | wc -l)
  bytes=$(find "$tree" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
  # scan exits 3 when it finds keys, which is the expected outcome here.
  printf '#!/bin/sh\n"%s" scan -q "%s" >/dev/null\ntest $? -eq 3\n' "$IVKEYS" "$tree" >"$dir/scan-run"
  chmod +x "$dir/scan-run"
  found=$("$IVKEYS" scan -q "$tree" | wc -l)
  runs=""
  for i in 1 2 3 4 5; do
    runs="$runs$(measure "$dir/scan-run" | cut -d' ' -f1)
"
  done
  t=$(printf '%s' "$runs" | median)
  rate=$(awk -v b="$bytes" -v t="$t" 'BEGIN { printf "%d", b / t / 1e6 }')
  echo "scan of $files files, $(awk -v b="$bytes" 'BEGIN { printf "%d", b / 1e6 }') MB: median $t s  ->  $rate MB/s, $found of 5 planted keys found (target >= 200 MB/s)"
  # The same text as one stream, for bench_stream.
  find "$tree" -type f -print0 | sort -z | xargs -0 cat >"$dir/stream-generated"
  rm -rf "$tree"
}

# One large stream, scanned by ivkeys and counted by ripgrep (`rg -c` with the key's regex) side
# by side, each from the file and from standard input (a shell redirection), median of 5 whole
# runs. Two inputs: 300 MB of real source text from this machine (60 MB of C headers, Python and
# Swift sources, five times, each followed by one of the 5 keys), and the
# generated tree of bench_scan as one file (words with "sk_" every 36 bytes, which slow the
# regex engine down).
bench_stream() {
  regex='sk_(live|test)_[0-9A-Za-z]{32}_[0-9A-Za-z]{49}'
  if ! command -v rg >/dev/null 2>&1; then
    echo "one stream: ripgrep (rg) is not installed; make bench installs it"
    return
  fi
  src="$dir/stream-source"
  find /usr/include /usr/lib/python3* /opt/swift -type f \( -name '*.h' -o -name '*.py' -o -name '*.swift' \
    -o -name '*.swiftinterface' \) -print0 2>/dev/null | sort -z | xargs -0 cat 2>/dev/null | head -c 60000000 >"$src.part" || true
  if [ "$(wc -c <"$src.part")" -lt 1000000 ]; then cp "$dir/stream-generated" "$src.part"; fi
  : >"$src"
  while read -r key; do
    cat "$src.part" >>"$src"
    printf 'API_KEY = "%s"\n' "$key" >>"$src"
  done <"$dir/scan-keys"
  rm -f "$src.part"
  for input in "$src" "$dir/stream-generated"; do
    case $input in *source) what="source text" ;; *) what="generated code (dense sk_ words)" ;; esac
    bytes=$(wc -c <"$input")
    found=$("$IVKEYS" scan -q "$input" | wc -l)
    printf '#!/bin/sh\n"%s" scan -q "%s" >/dev/null\n:\n' "$IVKEYS" "$input" >"$dir/s-file"
    printf '#!/bin/sh\n"%s" scan -q - <"%s" >/dev/null\n:\n' "$IVKEYS" "$input" >"$dir/s-stdin"
    printf '#!/bin/sh\nrg -c "%s" "%s" >/dev/null\n:\n' "$regex" "$input" >"$dir/r-file"
    printf '#!/bin/sh\nrg -c "%s" <"%s" >/dev/null\n:\n' "$regex" "$input" >"$dir/r-stdin"
    chmod +x "$dir/s-file" "$dir/s-stdin" "$dir/r-file" "$dir/r-stdin"
    cat "$input" >/dev/null # in the page cache for every run
    echo "one stream of $(awk -v b="$bytes" 'BEGIN { printf "%d", b / 1e6 }') MB, $what; $found keys found by ivkeys:"
    for from in file stdin; do
      runs=""
      for i in 1 2 3 4 5; do runs="$runs$(measure "$dir/s-$from" | cut -d' ' -f1)
"; done
      ts=$(printf '%s' "$runs" | median)
      runs=""
      for i in 1 2 3 4 5; do runs="$runs$(measure "$dir/r-$from" | cut -d' ' -f1)
"; done
      tr=$(printf '%s' "$runs" | median)
      awk -v b="$bytes" -v s="$ts" -v r="$tr" -v f="$from" 'BEGIN {
        printf "  from %-5s  ivkeys scan %6.3f s %6d MB/s   rg -c %6.3f s %6d MB/s   ivkeys/rg %.2f x (target >= 1)\n",
          f, s, b / s / 1e6, r, b / r / 1e6, r / s }'
    done
  done
}

# The instructions a whole process executes, start-up included (valgrind's callgrind; stdin and
# arguments as given). Prints the count.
instructions() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
have_callgrind() { command -v valgrind >/dev/null 2>&1 && command -v sqlite3 >/dev/null 2>&1; }

echo "ivkeys bench ($(nproc) cores)"
if [ "$only" = scan ]; then
  bench_scan
  bench_stream
  exit 0
fi
runs=""
for i in 1 2 3 4 5; do
  export IVKEYS_VAULT="$dir/create-$i.db"
  rm -f "$IVKEYS_SECRET_FILE"
  "$IVKEYS" init -q >/dev/null
  runs="$runs$(measure "$IVKEYS" create --company bench --name bench --scope jobs:read --count 10000 -q | cut -d' ' -f1)
"
done
t=$(printf '%s' "$runs" | median)
rate=$(awk -v t="$t" 'BEGIN { printf "%d", 10000 / t }')
echo "create --count 10000:       median $t s  ->  $rate keys/s (target >= 100000)"

# Instructions per created key: create --count 2000 and create --count 1, each into a fresh
# vault; the difference over 1999 keys leaves out start-up and the fixed cost of a create.
# BASELINE=/path/to/an/older/ivkeys (make bench BASELINE=…) measures that binary the same way,
# side by side: the before and after of a change.
create_instructions() {
  bin=$1
  export IVKEYS_VAULT="$dir/create-i$2-$$.db"
  rm -f "$IVKEYS_VAULT" "$IVKEYS_SECRET_FILE"
  "$bin" init -q >/dev/null
  instructions "$bin" create --company bench --name bench --scope jobs:read --count "$2" -q
}
per_key() {
  c1=$(create_instructions "$1" 1)
  c2000=$(create_instructions "$1" 2000)
  echo "$(awk -v a="$c2000" -v b="$c1" 'BEGIN { printf "%d", (a - b) / 1999 }') (create --count 2000: $c2000 in all, $((c2000 / 2000)) a key with start-up; --count 1: $c1)"
}
if have_callgrind; then
  echo "create, instructions per key:  $(per_key "$IVKEYS")"
  if [ -n "${BASELINE:-}" ]; then
    echo "  baseline $BASELINE:  $(per_key "$BASELINE")"
  else
    echo "  before issue 9 (64ad3d5, recorded): 130,947 a key; BASELINE=/path/to/ivkeys measures one here"
  fi
fi

export IVKEYS_VAULT="$dir/list.db"
rm -f "$IVKEYS_SECRET_FILE"
"$IVKEYS" init -q >/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do
  "$IVKEYS" create --company "c$i" --name "bench $i" --preset candidate-portal --allow-ip 10.0.0.0/8 \
    --tag bench --meta owner=bench --expires-in 90d --count 10000 -q >>"$dir/keys"
done
secs="" ; mem=""
for i in 1 2 3 4 5; do
  r=$(measure "$IVKEYS" list --json)
  secs="$secs${r% *}
"
  mem="$mem${r#* }
"
done
ls=$(printf '%s' "$secs" | median)
peak=$(printf '%s' "$mem" | sort -n | tail -n 1)
count=$("$IVKEYS" list -q | wc -l)
echo "list --json over $count keys: median $ls s, peak memory $((peak / 1024)) MiB (targets <= 0.5 s, <= 64 MiB)"

# alerts over 10,000 keys x 30 days of hourly buckets: the first 10,000 keys of the list vault
# (company c1), each with one client address an hour for 30 days (one bucket row each), written
# straight into the table (an import of 7 million lines would take longer than the rest of the
# bench). 1 % of the keys get a burst in the last hour (volume), 1 % a new address (new_ip), 1 %
# an hour of failures (error_rate), and the company has working hours in Europe/Berlin (the
# hours outside them fire after_hours for every key with traffic then).
bench_alerts() {
  now_hour=$(( $(date +%s) / 3600 ))
  ids=$(head -n 10000 "$dir/keys" | cut -c9-40 | awk '{ printf "%s(\047%s\047)", (NR > 1 ? "," : ""), $0 }')
  sqlite3 "$IVKEYS_VAULT" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
CREATE TEMP TABLE bench_keys (n INTEGER PRIMARY KEY, id TEXT);
INSERT INTO bench_keys (id) VALUES $ids;
CREATE TEMP TABLE bench_hours (h INTEGER PRIMARY KEY);
WITH RECURSIVE r(h) AS (SELECT $now_hour - 719 UNION ALL SELECT h + 1 FROM r WHERE h < $now_hour)
INSERT INTO bench_hours SELECT h FROM r;
INSERT INTO usage_hourly (key_id, hour, ip, requests, errors, denied, refused, first_seen, last_seen)
  SELECT k.id, h.h, '10.' || (k.n % 250) || '.' || (k.n / 250 % 250) || '.1', 20 + (k.n * 7 + h.h * 13) % 60,
    (k.n + h.h) % 3, 0, 0, h.h * 3600, h.h * 3600 + 3599 FROM bench_keys k, bench_hours h ORDER BY k.id, h.h;
UPDATE usage_hourly SET requests = 5000 WHERE hour = $now_hour AND key_id IN (SELECT id FROM bench_keys WHERE n % 100 = 1);
UPDATE usage_hourly SET errors = requests WHERE hour = $now_hour - 3 AND key_id IN (SELECT id FROM bench_keys WHERE n % 100 = 2);
INSERT INTO usage_hourly (key_id, hour, ip, requests, errors, denied, refused, first_seen, last_seen)
  SELECT id, $now_hour, '198.51.100.' || (n % 250), 1, 0, 0, 0, $now_hour * 3600, $now_hour * 3600 FROM bench_keys WHERE n % 100 = 3;
COMMIT;
SQL
  # Working hours for every key (the company's: all week, so after_hours is judged for every key
  # and hour and fires for none), and office hours on 100 keys of their own (their evenings and
  # nights fire). With office hours for the whole company every key's nights would fire:
  # BENCH_ALERTS_FLOOD=1 measures that too (150,000 alerts).
  "$IVKEYS" alerts hours c1 "Mon-Sun 00:00-24:00" --tz Europe/Berlin >/dev/null
  head -n 10000 "$dir/keys" | awk 'NR % 100 == 50' | cut -c9-40 | while read -r id; do
    "$IVKEYS" update "$id" --working-hours "Mon-Fri 08:00-18:00" --tz Europe/Berlin -q >/dev/null
  done
  runs=""
  for i in 1 2 3 4 5; do
    runs="$runs$(measure "$IVKEYS" alerts --json | cut -d' ' -f1)
"
  done
  t=$(printf '%s' "$runs" | median)
  n=$("$IVKEYS" alerts -q | wc -l)
  by_rule=$("$IVKEYS" alerts -q | cut -d: -f1 | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')
  echo "alerts over 10000 keys x 30 days of hourly buckets: median $t s, $n alerts ($by_rule) (target <= 1 s)"
  if [ -n "${BENCH_ALERTS_FLOOD:-}" ]; then
    "$IVKEYS" alerts hours c1 "Mon-Fri 08:00-18:00" --tz Europe/Berlin >/dev/null
    runs=""
    for i in 1 2 3; do
      runs="$runs$(measure "$IVKEYS" alerts --json | cut -d' ' -f1)
"
    done
    echo "  the same with office hours for all 10000 keys: median $(printf '%s' "$runs" | median) s, $("$IVKEYS" alerts -q | wc -l) alerts"
  fi
}
bench_alerts

# One verify process per request, as a gateway that shells out would run it: the key on stdin.
key=$(head -n 1 "$dir/keys")
export IVKEYS_KEY="$key"
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine -N --warmup 10 --runs 300 --export-json "$dir/verify.json" \
    "$IVKEYS verify --env live --company c1 --scope candidates:read --ip 10.1.2.3" >/dev/null 2>&1
  v=$(grep -o '"median": *[0-9.e-]*' "$dir/verify.json" | head -n 1 | awk '{ printf "%.2f", $2 * 1000 }')
else
  runs=""
  for i in $(seq 100); do
    start=$(date +%s%N)
    "$IVKEYS" verify --env live --company c1 --scope candidates:read --ip 10.1.2.3 >/dev/null
    end=$(date +%s%N)
    runs="$runs$((end - start))
"
  done
  v=$(printf '%s' "$runs" | median | awk '{ printf "%.2f", $1 / 1e6 }')
fi
unset IVKEYS_KEY
echo "one verify process:         median $v ms over a $count-key vault (target <= 5 ms)"

# The same verify in instructions, next to the sqlite3 shell reading the same key's row (the
# columns verify reads) from the same vault: what one process that opens the vault and finds one
# row costs at the least. Runs alternate; each figure is the median of 5.
if have_callgrind; then
  printf '%s\n' "$key" >"$dir/key"
  id=$(printf '%s' "$key" | cut -c9-40)
  query="SELECT env, type, company, linked_companies, scopes, allowed_ips, expires_at, rate_limit, status, grace_until, digest FROM keys WHERE id = '$id'"
  vi="" ; si=""
  for i in 1 2 3 4 5; do
    vi="$vi$(instructions "$IVKEYS" verify --env live --company c1 --scope candidates:read --ip 10.1.2.3 <"$dir/key")
"
    si="$si$(instructions sqlite3 "$IVKEYS_VAULT" "$query")
"
  done
  vi=$(printf '%s' "$vi" | median)
  si=$(printf '%s' "$si" | median)
  ver=$(instructions "$IVKEYS" --version)
  echo "instructions, ivkeys --version:                 $ver"
  echo "instructions, one verify ($count-key vault):   $vi"
  echo "instructions, sqlite3 point lookup of that row: $si"
  echo "verify / sqlite3 lookup:                        $(awk -v a="$vi" -v b="$si" 'BEGIN { printf "%.2f", a / b }') (target <= 1.3)"
else
  echo "instructions: skipped (needs valgrind and sqlite3; make bench installs them)"
fi

# A gateway's stream: 100,000 requests spread over 1,000 keys and 20 endpoints.
awk 'NR % 100 == 1' "$dir/keys" | head -n 1000 >"$dir/hot"
# stream ADDRESSES: the requests as JSON lines. ADDRESSES 1000: request i comes from one of 1,000
# addresses whatever its key; 3: each key is called from 3 addresses of its own.
stream() {
  awk -v n=100000 -v per_key="$1" 'BEGIN { srand(7) }
    { keys[NR - 1] = $0; company[NR - 1] = "c" (int((NR - 1) / 100) + 1) }
    END {
      for (i = 0; i < n; i++) {
        k = int(rand() * NR)
        if (per_key == 3) { a = k % 200; b = (k * 7 + i % 3) % 250 } else { a = i % 200; b = i % 250 }
        printf "{\"key\":\"%s\",\"company\":\"%s\",\"scope\":\"candidates:read\",\"ip\":\"10.0.%d.%d\",\"endpoint\":\"GET /v1/candidates/%d\"}\n", keys[k], company[k], a, b, i % 20
      }
    }' "$dir/hot"
}
stream 1000 >"$dir/batch"
runs=""
for i in 1 2 3; do
  runs="$runs$(measure "$IVKEYS" verify --batch --env live <"$dir/batch" | cut -d' ' -f1)
"
done
b=$(printf '%s' "$runs" | median)
ok=$("$IVKEYS" verify --batch --env live <"$dir/batch" | grep -c '"code":"ok"')
echo "verify --batch 100000 lines: median $b s  ->  $(awk -v t="$b" 'BEGIN { printf "%d", 100000 / t }') decisions/s, $ok allowed (target >= 50000/s)"
# The same stream with each key called from 3 addresses, as behind a gateway: the stream above
# makes nearly every decision a new key and address pair (1,000 addresses over 1,000 keys), and
# each new pair is a row of the hourly usage table.
stream 3 >"$dir/batch3"
runs=""
for i in 1 2 3; do
  runs="$runs$(measure "$IVKEYS" verify --batch --env live <"$dir/batch3" | cut -d' ' -f1)
"
done
b3=$(printf '%s' "$runs" | median)
echo "  the same, 3 addresses a key: median $b3 s  ->  $(awk -v t="$b3" 'BEGIN { printf "%d", 100000 / t }') decisions/s"

# The audit log: grow it past 1,000,000 entries with more streams, then walk and export it.
while [ "$("$IVKEYS" audit head | cut -d' ' -f1)" -lt 1000000 ]; do
  "$IVKEYS" verify --batch --env live <"$dir/batch" >/dev/null
done
entries=$("$IVKEYS" audit head | cut -d' ' -f1)
runs=""
"$IVKEYS" audit verify -q >/dev/null || { echo "audit verify failed: the bench vault's chain is broken"; exit 1; }
for i in 1 2 3; do
  runs="$runs$(measure "$IVKEYS" audit verify | cut -d' ' -f1)
"
done
a=$(printf '%s' "$runs" | median)
echo "audit verify:               median $a s over $entries entries (target <= 3 s for 1,000,000)"
runs=""
for i in 1 2 3; do
  runs="$runs$(measure "$IVKEYS" audit export --format jsonl | cut -d' ' -f1)
"
done
e=$(printf '%s' "$runs" | median)
bytes=$("$IVKEYS" audit export --format jsonl | wc -c)
echo "audit export --format jsonl: median $e s  ->  $(awk -v n="$entries" -v t="$e" 'BEGIN { printf "%d", n / t }') entries/s, $(awk -v b="$bytes" -v t="$e" 'BEGIN { printf "%.0f", b / t / 1e6 }') MB/s"

bench_scan
bench_stream
sh "$(dirname "$0")/bench-postgres.sh" "$IVKEYS"
sh "$(dirname "$0")/bench-serve.sh" "$IVKEYS"
