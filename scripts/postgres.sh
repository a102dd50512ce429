#!/usr/bin/env bash
# postgres.sh start DIR [OWNER_PID] -> starts a throwaway PostgreSQL cluster in DIR on a free 127.0.0.1
#                                      port and prints its DATABASE_URL;
# postgres.sh stop DIR               -> stops it.
# The cluster belongs to OWNER_PID (default: the caller): a watcher stops it when the owner dies, so a
# killed pytest or test.sh leaves no server running. It records the owner in DIR/owner.
set -euo pipefail
cmd=$1; dir=$2
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
# A process's start time (clock ticks after boot): with the pid, it names the process even if the
# pid is reused later.
started() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }
running() { [ -f "$dir/data/postmaster.pid" ]; }
case $cmd in
  start)
    owner=${3:-$PPID}
    since=$(started "$owner")
    [ -n "$since" ] || { echo "owner process $owner is not running" >&2; exit 1; }
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_pg "$pgbin/initdb -D $dir/data -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8" >/dev/null
    as_pg "$pgbin/pg_ctl -D $dir/data -l $dir/log -w -o '-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off' start" >/dev/null
    echo "$owner $since" > "$dir/owner"
    # own session and no inherited output: neither the owner's Ctrl-C nor a $(...) reading our stdout waits on it
    setsid "$0" watch "$dir" </dev/null >/dev/null 2>&1 &
    echo "postgres://postgres@127.0.0.1:$port/mamori"
    ;;
  watch)
    read -r owner since < "$dir/owner"
    while running && [ "$(started "$owner")" = "$since" ]; do sleep 1; done
    if running; then as_pg "$pgbin/pg_ctl -D $dir/data -m immediate stop" >/dev/null 2>&1 || true; fi
    ;;
  stop)
    if running; then as_pg "$pgbin/pg_ctl -D $dir/data -m fast stop" >/dev/null; fi
    ;;
esac
