#!/bin/sh
# A throwaway PostgreSQL server for `make bench`, `make demo-postgres` and trying ivkeys by hand:
# Debian's postgresql package, initdb in DIR, listening on a Unix socket in DIR only (no TCP),
# trust authentication for that socket. As root it runs as nobody (PostgreSQL refuses root).
#
#   sh scripts/pg-server.sh start DIR [postgres -c options...]   prints the vault URL's host part
#   sh scripts/pg-server.sh stop DIR                               stops it and removes DIR
set -eu
cmd=${1:?usage: pg-server.sh start|stop DIR}
dir=${2:?usage: pg-server.sh start|stop DIR}
shift 2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/postgres" ] || { echo "pg-server.sh: PostgreSQL's server is not installed (apt-get install postgresql)" >&2; exit 1; }
as=""
[ "$(id -u)" = 0 ] && as="setpriv --reuid=65534 --regid=65534 --clear-groups --"
case $cmd in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown 65534:65534 "$dir"
  $as "$bin/initdb" -D "$dir/data" -U ivkeys --auth=trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  $as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 \
    -o "-k $dir -c listen_addresses= $*" start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  echo "host=$dir user=ivkeys"
  ;;
stop)
  [ -d "$dir/data" ] && $as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*) echo "pg-server.sh: unknown command $cmd" >&2; exit 2 ;;
esac
