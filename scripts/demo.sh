#!/bin/sh
# A walk through the main job in a throwaway vault. Each command is printed before its output,
# quoted so that it can be pasted back into a shell ($key stands for a key the demo created).
# Nothing here writes escape codes: ivkeys colors only a terminal.
set -eu
IVKEYS=${1:?usage: demo.sh PATH-TO-IVKEYS}
dir=$(mktemp -d "${TMPDIR:-/tmp}/ivkeys-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
export IVKEYS_VAULT="$dir/vault/vault.db" IVKEYS_SECRET_FILE="$dir/config/secret"
unset IVKEYS_ACTOR

# quote WORD: WORD as a shell reads it back, in single quotes unless it needs none.
quote() {
  case $1 in
    '' | *[!A-Za-z0-9_./:=,@%+-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
    *) printf '%s' "$1" ;;
  esac
}

# words ARG...: each ARG quoted, a space before each.
words() {
  for a in "$@"; do
    printf ' '
    quote "$a"
  done
}

# show PREFIX ARG...: prints "$ PREFIX ivkeys ARG..." with each ARG quoted.
show() {
  printf '\n$ %sivkeys' "$1"
  shift
  words "$@"
  printf '\n'
}

# step ARG...: shows and runs ivkeys ARG...
step() {
  show '' "$@"
  "$IVKEYS" "$@"
}

# verify_step ARG...: shows and runs printf '%s' "$key" | ivkeys verify ARG..., and its exit status.
verify_step() {
  show "printf '%s' \"\$key\" | " verify "$@"
  status=0
  printf '%s' "$key" | "$IVKEYS" verify "$@" || status=$?
  echo "(exit status $status)"
}

echo "a throwaway vault in $dir (removed at the end)"
step init
step create --company acme --name "Acme production backend" --preset candidate-portal \
  --allow-ip 203.0.113.0/24 --allow-ip 2001:db8::/32 --expires-in 60d --rate-limit 600/m \
  --contact ops@acme.example --tag backend
live=$("$IVKEYS" list --company acme --env live -q | head -n 1)
step create --company acme --name "CI sandbox" --env test --scope jobs:read,candidates:read --count 3 --tag ci
step list
step show "$live"
step update "$live" --add-scope jobs:read --meta owner=platform-team --untag backend --tag production

printf '\n# The gateway asks verify about each request; the key comes on stdin, never in argv.\n'
set -- create --company acme --name "Acme job board" --scope jobs:read --allow-ip 203.0.113.0/24 -q
printf '\n$ key=$(ivkeys'
words "$@"
printf ')\n'
key=$("$IVKEYS" "$@")
verify_step --env live --company acme --scope jobs:read --ip 203.0.113.7 --endpoint "GET /v1/jobs" --json
verify_step --env live --company acme --scope jobs:write --ip 203.0.113.7 --endpoint "POST /v1/jobs" --json
board=$(printf '%s' "$key" | cut -c9-40)
step usage "$board"
step show "$board" --json

step rotate "$live" --grace 1h
new=$("$IVKEYS" list --company acme --env live --status active --scope candidates:read -q | tail -n 1)
step suspend "$new" --reason "investigating unusual traffic"
step resume "$new"
step revoke "$live" --reason "rotation finished early"
step list --status active
step expiring --within 90d
step revoke --tag ci --env test --reason "CI run finished" --dry-run
step revoke --tag ci --env test --reason "CI run finished" --yes
step sweep
mkdir "$dir/app"
leaked=$("$IVKEYS" create --company acme --name "leaked on purpose" --scope jobs:read -q)
printf 'API_URL=https://api.instaview.example\nAPI_KEY=%s\n' "$leaked" > "$dir/app/settings.env"
step scan "$dir/app" || echo "(scan exits 3 when it finds a key; it never prints the secret)"
step revoke "$(printf '%s' "$leaked" | cut -c9-40)" --reason "found in settings.env by scan"
step audit --limit 16
printf '\ndone: the vault and its secret are deleted now.\n'
