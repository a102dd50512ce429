#!/usr/bin/env bash
# postgres.sh start DIR  -> starts a throwaway PostgreSQL cluster in DIR on a free 127.0.0.1 port and
#                           prints its DATABASE_URL;  postgres.sh stop DIR -> stops it.
set -euo pipefail
cmd=$1; dir=$2
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
case $cmd in
  start)
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_pg "$pgbin/initdb -D $dir/data -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8" >/dev/null
    as_pg "$pgbin/pg_ctl -D $dir/data -l $dir/log -w -o '-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off' start" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/mamori"
    ;;
  stop)
    [ -d "$dir/data" ] && as_pg "$pgbin/pg_ctl -D $dir/data -m fast stop" >/dev/null
    ;;
esac
