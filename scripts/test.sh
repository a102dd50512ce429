#!/usr/bin/env bash
# The whole suite: once on SQLite, then the Django apps again on a real PostgreSQL server that this
# script starts on 127.0.0.1 (a throwaway cluster, removed afterwards). Browser journeys, and tests
# that run mamori on a database of its own (marker own_database), run once.
# Each pass gets its own pytest temp directory, removed at the end, so no run inherits (or has to
# clean up) another run's deep test trees.
# Each pass runs on MAMORI_TEST_WORKERS pytest-xdist workers (default 2): many tests wait on restic,
# servers and browsers, so one process leaves a core idle. Each worker has its own MAMORI_HOME and
# servers on free ports. MAMORI_TEST_WORKERS=0 runs in one process (easier to read a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PYTHONDONTWRITEBYTECODE=1

WORK=$(mktemp -d); chmod 755 "$WORK"
mkdir -p "$WORK/pg"
trap './scripts/postgres.sh stop "$WORK/pg" || true; rm -rf "$WORK"' EXIT

PARALLEL=(-n "${MAMORI_TEST_WORKERS:-2}" --dist worksteal)

echo "== suite on SQLite"
"$BIN/pytest" -m "not stress" -p no:cacheprovider "${PARALLEL[@]}" --basetemp="$WORK/sqlite" "$@"

echo "== apps on PostgreSQL"
DATABASE_URL=$(./scripts/postgres.sh start "$WORK/pg" $$)  # stopped by its watcher if this script is killed
export DATABASE_URL
"$BIN/pytest" -m "not stress and not browser and not own_database" -p no:cacheprovider "${PARALLEL[@]}" \
	--basetemp="$WORK/postgres" tests/apps "$@"
