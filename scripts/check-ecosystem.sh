#!/bin/sh
# make test: the detect-secrets plugin with the real detect-secrets (from PyPI, in a venv under
# .build), and the pre-commit hook's command. Usage: check-ecosystem.sh IVKEYS DETECT_SECRETS
set -eu
bin=$1 ds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export IVKEYS_VAULT="$tmp/v/vault.db" IVKEYS_SECRET_FILE="$tmp/c/secret"
"$bin" init >/dev/null 2>&1
live=$("$bin" create --company acme --name l --scope jobs:read -q 2>/dev/null)
test=$("$bin" create --company acme --name t --env test --scope jobs:read -q 2>/dev/null)
last=$(printf %s "$live" | cut -c90); repl=0; [ "$last" = 0 ] && repl=1
wrong=$(printf %s "$live" | cut -c1-89)$repl
mkdir "$tmp/d"
echo "a=$live" > "$tmp/d/live.txt"; echo "b=$test" > "$tmp/d/test.txt"; echo "c=$wrong" > "$tmp/d/wrong.txt"
echo "s=sk_live_4eC39HqLyjWDarjtT1zdp7dc" > "$tmp/d/stripe.txt"  # Stripe's documented test key
plugin="$root/contrib/detect_secrets_ivkeys.py"
# What each file is reported as: ours (with a valid check) as ours only, anything else not as ours.
found=$(cd "$tmp/d" && "$ds" scan --all-files --plugin "$plugin" \
  --filter "$plugin::is_ivkeys_key_seen_by_another_plugin" . |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["results"]; print(";".join(f+"="+",".join(sorted({x["type"] for x in r[f]})) for f in sorted(r)))')
want="live.txt=InstaView API Key;stripe.txt=Stripe Access Key;test.txt=InstaView API Key;wrong.txt=Stripe Access Key"
if [ "$found" != "$want" ]; then
  echo "detect-secrets plugin: expected '$want', got '$found'" >&2; exit 1
fi
echo "detect-secrets plugin: live and test keys reported as ours only; a wrong checksum and a Stripe key not as ours"
# The hook's entry, as pre-commit runs it: entry + the staged file names.
# Read as the framework reads it (YAML; PyYAML comes with detect-secrets).
entry=$("$(dirname "$ds")/python" -c '
import sys, yaml
hooks = yaml.safe_load(open(sys.argv[1]))
h = [h for h in hooks if h["id"] == "ivkeys-scan"][0]
assert h["language"] == "system" and h["pass_filenames"] is True, h
print(h["entry"])' "$root/.pre-commit-hooks.yaml")
[ "$entry" = "ivkeys scan" ] || { echo "pre-commit hook: unexpected entry '$entry'" >&2; exit 1; }
# A clean file: no key, and a key-shaped string two edits from one (one edit is a damaged key,
# which scan reports: it is still a secret).
two=$(printf %s "$live" | cut -c1-88)$(printf %s "$live" | cut -c90)$(printf %s "$live" | cut -c89)
[ "$two" != "$live" ] || two=$(printf %s "$live" | cut -c1-88)zz
mkdir "$tmp/h"
echo "c=$two" > "$tmp/h/clean.txt"
set +e
PATH="$(dirname "$bin"):$PATH" $entry "$tmp/d/live.txt" "$tmp/h/clean.txt" >/dev/null 2>&1; rc=$?
PATH="$(dirname "$bin"):$PATH" $entry "$tmp/h/clean.txt" >/dev/null 2>&1; clean=$?
set -e
[ $rc -eq 3 ] && [ $clean -eq 0 ] || { echo "pre-commit hook: exit $rc/$clean, expected 3/0" >&2; exit 1; }
echo "pre-commit hook: '$entry FILE...' stops a staged key (exit 3), passes clean files"
# The gitleaks rule in docs/ci-and-leaks.md. gitleaks itself is in neither Debian nor PyPI, so its
# rule is checked as gitleaks reads it: the TOML parsed, the regex (RE2 syntax, which Python's re
# reads the same for this pattern) matching each real key whole and not the Stripe key, and the
# keywords (gitleaks' prefilter) in every key.
"$(dirname "$ds")/python" - "$root/docs/ci-and-leaks.md" "$live" "$test" <<'PY'
import re, sys, tomllib
doc, keys = open(sys.argv[1]).read(), sys.argv[2:]
block = re.search(r"```toml\n(.*?)```", doc, re.S).group(1)
rule = [r for r in tomllib.loads(block)["rules"] if r["id"] == "instaview-api-key"][0]
pattern = re.compile(rule["regex"])
for key in keys:
    m = pattern.search("API_KEY=" + key + "\n")
    assert m and m.group(0) == key, ("rule misses a key", m)
    assert any(k in key.lower() for k in rule["keywords"]), "no keyword in the key"
stripe = "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"
assert not pattern.search(stripe), "rule matches a Stripe key"
PY
echo "gitleaks rule: parses, matches live and test keys whole, not a Stripe key"
