#!/bin/sh
# make fuzz: builds the libFuzzer targets in Fuzz/ with SwiftPM (IVKEYS_FUZZ=1 declares them in
# Package.swift; --sanitize=fuzzer --sanitize=address, into .build-fuzz so the normal build is left
# alone) and runs each for FUZZ_SECONDS seconds (default 60), starting from Fuzz/seeds/<target>.
# Each target links IVKeysCLI/IVKeysCore like the tests do. A crash stops with a non-zero status
# and leaves its input in .build-fuzz/crash-<target>-*; turn it into a regression test before
# fixing it.
set -eu
seconds=${FUZZ_SECONDS:-60}
scratch=.build-fuzz
targets="KeyFormat IPRange TimeParsing Scanner ScannerForms Arguments"
mkdir -p "$scratch"
echo "building the fuzz targets"
# swiftc keeps only the last -sanitize= it is given, and SwiftPM passes one per --sanitize, so
# --sanitize=address would drop the coverage that -sanitize=fuzzer implies: it is asked for
# explicitly (without it libFuzzer runs blind: "no interesting inputs ... instrumented?").
coverage="-sanitize-coverage=edge,trace-cmp,pc-table,inline-8bit-counters"
build() {
  # The linker warns about every sanitizer symbol it cannot export; the log is shown on failure.
  IVKEYS_FUZZ=1 swift build --scratch-path "$scratch" --sanitize=fuzzer --sanitize=address -Xswiftc "$coverage" "$@" \
    >"$scratch/build.log" 2>&1 || { tail -n 60 "$scratch/build.log"; exit 1; }
}
for t in $targets; do build --product "fuzz-$t"; done
bin=$(IVKEYS_FUZZ=1 swift build --scratch-path "$scratch" --sanitize=fuzzer --sanitize=address -Xswiftc "$coverage" --show-bin-path)

work=$(mktemp -d "${TMPDIR:-/tmp}/ivkeys-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
# A real key as a seed for the key parser, from a throwaway vault (keys are never committed).
ivkeys=$(swift build --show-bin-path 2>/dev/null)/ivkeys
if [ -x "$ivkeys" ]; then
  IVKEYS_VAULT="$work/v/vault.db" IVKEYS_SECRET_FILE="$work/s/secret" "$ivkeys" init -q >/dev/null
  key=$(IVKEYS_VAULT="$work/v/vault.db" IVKEYS_SECRET_FILE="$work/s/secret" "$ivkeys" create --company f --name f --scope jobs:read -q)
fi
for t in $targets; do
  corpus="$work/corpus-$t"
  mkdir -p "$corpus"
  cp Fuzz/seeds/$t/* "$corpus/"
  if [ "$t" = KeyFormat ] && [ -n "${key:-}" ]; then
    printf '%s' "$key" >"$corpus/key"
    printf 'Authorization: Bearer %s\r\n' "$key" >"$corpus/header"
  fi
  if [ "$t" = Scanner ] && [ -n "${key:-}" ]; then
    printf 'a\nAPI_KEY="%s" # and %s\n' "$key" "$key" >"$corpus/keys"
    printf 'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-old=%s\n+new=%s\n same\n' "$key" "$key" >"$corpus/diff"
  fi
  if [ "$t" = ScannerForms ] && [ -n "${key:-}" ]; then
    # Mode byte, then the text: plain with the key and the key missing its last character,
    # and the key alone (to be written as base64 or UTF-16).
    printf '0k=%s\nd=%s\n' "$key" "${key%?}" >"$corpus/plain"
    for m in 1 2 3 4; do printf '%sKEY=%s\n' "$m" "$key" >"$corpus/key-$m"; done
  fi
  echo "fuzzing $t for $seconds s"
  # The scanner's oracle tries every edit and every base64 window by brute force: inputs up to
  # 512 bytes (room for five keys) keep it to hundreds of runs a second.
  case $t in Scanner*) limit="-max_len=512" ;; *) limit="-max_len=4096" ;; esac
  "$bin/fuzz-$t" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 $limit \
    -artifact_prefix="$scratch/crash-$t-" "$corpus" 2>"$work/log-$t" || { tail -n 40 "$work/log-$t"; exit 1; }
  units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log-$t")
  [ "${units:-0}" -gt 0 ] || { echo "fuzz-$t ran no input"; tail -n 20 "$work/log-$t"; exit 1; }
  # Coverage-guided or not at all: a build without counters would only replay random bytes.
  grep -q "inline 8-bit counters" "$work/log-$t" || { echo "fuzz-$t is not instrumented for coverage"; exit 1; }
  edges=$(sed -n 's/^#[0-9]*[[:space:]]*DONE[[:space:]]*cov: \([0-9]*\).*/\1/p' "$work/log-$t" | tail -n 1)
  echo "  $t: $units inputs in $seconds s, ${edges:-?} edges covered, no crash"
done
