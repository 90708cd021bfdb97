#!/bin/sh
# make bench: SPEC.md's performance targets, measured on fresh vaults.
#   create --count 10000 into a fresh vault      target >= 50,000 keys/s (audit entries included)
#   list --json over 100,000 keys                target <= 0.5 s and <= 64 MiB peak memory
#   one verify process, 100,000-key vault        target <= 5 ms wall, median
#   verify --batch, 100,000 lines                target >= 50,000 decisions/s, usage and audit recorded
#   audit verify over 1,000,000 entries          target <= 3 s; audit export --format jsonl throughput
# Figures are medians of repeated runs. No test asserts on time: this script reports.
set -eu
IVKEYS=${1:?usage: bench.sh PATH-TO-IVKEYS}
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

echo "ivkeys bench ($(nproc) cores)"
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
echo "create --count 10000:       median $t s  ->  $rate keys/s (target >= 50000)"

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

# One verify process per request, as a gateway that shells out would run it: the key on stdin.
key=$(head -n 1 "$dir/keys")
export IVKEYS_KEY="$key"
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine -N --warmup 10 --runs 300 --export-json "$dir/verify.json" \
    "$IVKEYS verify --company c1 --scope candidates:read --ip 10.1.2.3" >/dev/null 2>&1
  v=$(grep -o '"median": *[0-9.e-]*' "$dir/verify.json" | head -n 1 | awk '{ printf "%.2f", $2 * 1000 }')
else
  runs=""
  for i in $(seq 100); do
    start=$(date +%s%N)
    "$IVKEYS" verify --company c1 --scope candidates:read --ip 10.1.2.3 >/dev/null
    end=$(date +%s%N)
    runs="$runs$((end - start))
"
  done
  v=$(printf '%s' "$runs" | median | awk '{ printf "%.2f", $1 / 1e6 }')
fi
unset IVKEYS_KEY
echo "one verify process:         median $v ms over a $count-key vault (target <= 5 ms)"

# A gateway's stream: 100,000 requests spread over 1,000 keys and 20 endpoints.
awk 'NR % 100 == 1' "$dir/keys" | head -n 1000 >"$dir/hot"
awk -v n=100000 'BEGIN { srand(7) }
  { keys[NR - 1] = $0; company[NR - 1] = "c" (int((NR - 1) / 100) + 1) }
  END {
    for (i = 0; i < n; i++) {
      k = int(rand() * NR)
      printf "{\"key\":\"%s\",\"company\":\"%s\",\"scope\":\"candidates:read\",\"ip\":\"10.0.%d.%d\",\"endpoint\":\"GET /v1/candidates/%d\"}\n", keys[k], company[k], i % 200, i % 250, i % 20
    }
  }' "$dir/hot" >"$dir/batch"
runs=""
for i in 1 2 3; do
  runs="$runs$(measure "$IVKEYS" verify --batch <"$dir/batch" | cut -d' ' -f1)
"
done
b=$(printf '%s' "$runs" | median)
ok=$("$IVKEYS" verify --batch <"$dir/batch" | grep -c '"code":"ok"')
echo "verify --batch 100000 lines: median $b s  ->  $(awk -v t="$b" 'BEGIN { printf "%d", 100000 / t }') decisions/s, $ok allowed (target >= 50000/s)"

# The audit log: grow it past 1,000,000 entries with more streams, then walk and export it.
while [ "$("$IVKEYS" audit head | cut -d' ' -f1)" -lt 1000000 ]; do
  "$IVKEYS" verify --batch <"$dir/batch" >/dev/null
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
