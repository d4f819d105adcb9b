#!/usr/bin/env bash
# The README's first command, exactly as a newcomer types it, in the repository's root:
# `cargo run --release -- serve`. Passes when it answers /health with 200 and stops with
# exit 0 on SIGTERM. Files the first start creates (launchpad.db, uploads/) are removed
# afterwards unless they were there before.
set -euo pipefail
cd "$(dirname "$0")/.."

url=http://127.0.0.1:8000/health
if curl -s -o /dev/null "$url"; then
  echo "error: something already answers on 127.0.0.1:8000; cannot try the first command" >&2
  exit 1
fi
created=()
for f in launchpad.db launchpad.db-wal launchpad.db-shm launchpad.db.migrate-lock launchpad.db.in-use uploads archive; do
  [ -e "$f" ] || created+=("$f")
done
cleanup() { rm -rf "${created[@]}"; }
trap cleanup EXIT

# Build first, so that the wait below times the start, not the compiler.
cargo build --release --quiet
log=$(mktemp)
cargo run --release --quiet -- serve >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = 200 ]; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "error: the server exited before answering /health" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
status=$(curl -s -o /dev/null -w '%{http_code}' "$url")
# `cargo run` replaces itself with the server on Unix, so the signal reaches it.
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
if [ "$status" != 200 ] || [ "$code" != 0 ]; then
  echo "error: /health answered $status; the server exited with $code" >&2
  cat "$log" >&2
  exit 1
fi
echo "first command: /health 200, stopped cleanly on SIGTERM"
