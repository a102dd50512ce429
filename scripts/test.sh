#!/usr/bin/env bash
# The whole suite: once on SQLite, then the Django apps again on a real PostgreSQL server that this
# script starts on 127.0.0.1 (a throwaway cluster, removed afterwards). Browser journeys run once.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PYTHONDONTWRITEBYTECODE=1

echo "== suite on SQLite"
"$BIN/pytest" -m "not stress" -p no:cacheprovider "$@"

echo "== apps on PostgreSQL"
PGTMP=$(mktemp -d); chmod 755 "$PGTMP"
trap './scripts/postgres.sh stop "$PGTMP" || true; rm -rf "$PGTMP"' EXIT
DATABASE_URL=$(./scripts/postgres.sh start "$PGTMP")
export DATABASE_URL
"$BIN/pytest" -m "not stress and not browser" -p no:cacheprovider tests/apps "$@"
