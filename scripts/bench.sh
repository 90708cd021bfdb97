#!/bin/sh
# make bench: SPEC.md's performance targets for this issue, measured on fresh vaults.
#   create --count 10000 into a fresh vault      target >= 50,000 keys/s (audit entries included)
#   list --json over 100,000 keys                target <= 0.5 s and <= 64 MiB peak memory
# Each figure is the median of 5 runs. No test asserts on time: this script reports.
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
    --tag bench --meta owner=bench --expires-in 90d --count 10000 -q >/dev/null
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
