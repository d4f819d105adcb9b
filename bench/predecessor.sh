#!/usr/bin/env bash
# bench/predecessor.sh PORT: runs the reproduction of the Python predecessor
# (bench/predecessor/app.py) on 127.0.0.1:PORT with 2 uvicorn workers, over DATABASE_URL
# (PostgreSQL) and JWT_SECRET, until killed. Installs its pinned packages once into
# target/predecessor-venv (from PyPI; again only when requirements.txt changes).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:?usage: bench/predecessor.sh PORT}
VENV=target/predecessor-venv
REQ=bench/predecessor/requirements.txt
if ! cmp -s "$REQ" "$VENV/installed-requirements.txt" 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$REQ"
  cp "$REQ" "$VENV/installed-requirements.txt"
fi
cd bench/predecessor
exec "../../$VENV/bin/uvicorn" app:app --host 127.0.0.1 --port "$PORT" --workers 2 \
  --log-level warning --no-access-log
