#!/usr/bin/env bash
# The whole suite: once on SQLite, then the Django apps again on a real PostgreSQL server that this
# script starts on 127.0.0.1 (a throwaway cluster, removed afterwards). Browser journeys run once.
# Each pass gets its own pytest temp directory, removed at the end, so no run inherits (or has to
# clean up) another run's deep test trees.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PYTHONDONTWRITEBYTECODE=1

WORK=$(mktemp -d); chmod 755 "$WORK"
mkdir -p "$WORK/pg"
trap './scripts/postgres.sh stop "$WORK/pg" || true; rm -rf "$WORK"' EXIT

echo "== suite on SQLite"
"$BIN/pytest" -m "not stress" -p no:cacheprovider --basetemp="$WORK/sqlite" "$@"

echo "== apps on PostgreSQL"
DATABASE_URL=$(./scripts/postgres.sh start "$WORK/pg")
export DATABASE_URL
"$BIN/pytest" -m "not stress and not browser" -p no:cacheprovider --basetemp="$WORK/postgres" tests/apps "$@"
