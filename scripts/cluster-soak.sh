#!/usr/bin/env bash
# The cluster's soak: a fresh cluster (scripts/cluster.sh), then scripts/cluster_soak.py
# against it — a file across nodes, failed logins across nodes, reads of one's own
# writes across nodes on the replica, readers through a replica restart, twelve writers while
# node A is killed with SIGKILL and restarted (no acknowledged write lost, no 5xx, the
# chain verifies) — and three more nodes started at once on a fresh database (one
# migrates). Prints the figures; exit 1 on any failure. The cluster is removed after.
#
#   scripts/cluster-soak.sh [SECONDS]    (default 30: CI's quick run; 600 for the full soak)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
state=${CLUSTER_DIR:-$PWD/target/cluster}
bin=${LAUNCHPAD_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/launchpad}

trap 'bash scripts/cluster.sh down' EXIT
bash scripts/cluster.sh down
settings=$(bash scripts/cluster.sh up)
{
  echo "$settings"
  echo "LAUNCHPAD=$bin"
} | python3 scripts/cluster_soak.py "$seconds"

# Three nodes starting at once on a fresh database: every one serves, one migrated.
primary=$(sed -n 's/^DATABASE_URL=//p' <<<"$settings")
fresh="${primary%/*}/launchpad_race"
psql "${primary%/*}/postgres" -qtAc "DROP DATABASE IF EXISTS launchpad_race" -c "CREATE DATABASE launchpad_race"
pids=()
for n in 1 2 3; do
  DATABASE_URL=$fresh AUTO_MIGRATE=true APP_ENV=test API_PORT=0 SERVE_JOBS=false LOG_LEVEL=info \
    JWT_SECRET=cluster-secret-cluster-secret-cluster-0 UPLOAD_DIR="$state/race-$n" \
    "$bin" serve >"$state/race-$n.log" 2>&1 &
  pids+=($!)
done
ready=0
for _ in $(seq 1 300); do
  ready=$(cat "$state"/race-*.log | grep -c "listening" || true)
  [[ $ready == 3 ]] && break
  sleep 0.1
done
kill -TERM "${pids[@]}" 2>/dev/null || true
wait "${pids[@]}" 2>/dev/null || true
migrated=$(cat "$state"/race-*.log | grep -c "new database migrated and seeded" || true)
applied=$(psql "$fresh" -tAc "SELECT count(*) FROM seaql_migrations")
echo "three nodes at once: $ready of 3 listening, $migrated migrated, $applied migrations applied"
psql "${primary%/*}/postgres" -qtAc "DROP DATABASE IF EXISTS launchpad_race WITH (FORCE)"
if [[ $ready != 3 || $migrated != 1 ]]; then
  echo "FAIL: three nodes at once: expected 3 listening and 1 migrating" >&2
  exit 1
fi
