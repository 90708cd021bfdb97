#!/bin/sh
# make fuzz: builds the libFuzzer targets in Fuzz/ (swiftc -sanitize=fuzzer,address) and runs
# each for FUZZ_SECONDS seconds (default 60), starting from Fuzz/seeds/<target>. A crash stops
# with a non-zero status and leaves its input in .build/fuzz/crash-<target>-*; turn it into a
# regression test before fixing it.
set -eu
seconds=${FUZZ_SECONDS:-60}
out=.build/fuzz
mkdir -p "$out"
flags="-sanitize=fuzzer,address -parse-as-library -I $out -I Sources/CSQLite -I Sources/COpenSSL"
echo "building the fuzz targets"
# The linker warns about every sanitizer symbol it cannot export; the log is shown on failure.
build() { swiftc "$@" >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }; }
# shellcheck disable=SC2086
build $flags -emit-library -static -module-name IVKeysCore -emit-module -emit-module-path "$out/IVKeysCore.swiftmodule" \
  Sources/IVKeysCore/*.swift -o "$out/libIVKeysCore.a"
for t in KeyFormat IPRange TimeParsing Scanner; do
  # shellcheck disable=SC2086
  build $flags "Fuzz/$t.swift" -L"$out" -lIVKeysCore -lsqlite3 -lcrypto -o "$out/fuzz-$t"
done
# The argument parser lives in the executable's sources: compile them (without main.swift) with it.
cli=$(ls Sources/ivkeys/*.swift Sources/ivkeys/Commands/*.swift | grep -v '/main.swift$')
# shellcheck disable=SC2086
build $flags -module-name ivkeysfuzz $cli Fuzz/Arguments.swift -L"$out" -lIVKeysCore -lsqlite3 -lcrypto -o "$out/fuzz-Arguments"

work=$(mktemp -d "${TMPDIR:-/tmp}/ivkeys-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
# A real key as a seed for the key parser, from a throwaway vault (keys are never committed).
ivkeys=$(swift build --show-bin-path 2>/dev/null)/ivkeys
if [ -x "$ivkeys" ]; then
  IVKEYS_VAULT="$work/v/vault.db" IVKEYS_SECRET_FILE="$work/s/secret" "$ivkeys" init -q >/dev/null
  key=$(IVKEYS_VAULT="$work/v/vault.db" IVKEYS_SECRET_FILE="$work/s/secret" "$ivkeys" create --company f --name f --scope jobs:read -q)
fi
for t in KeyFormat IPRange TimeParsing Scanner Arguments; do
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
  echo "fuzzing $t for $seconds s"
  "$out/fuzz-$t" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/crash-$t-" "$corpus" 2>"$work/log-$t" || { tail -n 40 "$work/log-$t"; exit 1; }
  units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log-$t")
  [ "${units:-0}" -gt 0 ] || { echo "fuzz-$t ran no input"; tail -n 20 "$work/log-$t"; exit 1; }
  echo "  $t: $units inputs in $seconds s, no crash"
done
