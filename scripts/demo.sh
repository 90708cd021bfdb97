#!/bin/sh
# A walk through the main job in a throwaway vault: each command is printed before its output.
set -eu
IVKEYS=${1:?usage: demo.sh PATH-TO-IVKEYS}
dir=$(mktemp -d "${TMPDIR:-/tmp}/ivkeys-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
export IVKEYS_VAULT="$dir/vault/vault.db" IVKEYS_SECRET_FILE="$dir/config/secret"
unset IVKEYS_ACTOR

step() {
  printf '\n\033[1m$ ivkeys %s\033[0m\n' "$*"
  "$IVKEYS" "$@"
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
step rotate "$live" --grace 1h
new=$("$IVKEYS" list --company acme --env live --status active -q | tail -n 1)
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
