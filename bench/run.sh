#!/usr/bin/env bash
# Launchpad's benchmark: bench/run.sh [sqlite|postgres|both] [--quick] [--assemble]
#
# Builds the release binaries (launchpad, loadgen), creates a fresh database
# (SQLite: a temp file; PostgreSQL: the database launchpad_bench, dropped and
# recreated), runs `launchpad migrate up` and `launchpad seed --demo`, starts
# `launchpad serve` on 127.0.0.1 (a free port), measures the cold start to the first
# healthy /health, then drives it over real HTTP with loadgen (crates/loadgen) and
# records the server's RSS (VmRSS sampled during each run, VmHWM after) and the CPU time
# per request of the server and (PostgreSQL) of the database's processes. On
# PostgreSQL it also runs pgbench on the list request's SQL (bench/pgbench_list.sql),
# and the reproduction of the Python predecessor (bench/predecessor.sh) on the same
# database, list and create side by side (PRED_CONNS, "16 64").
# Results: bench/results/<backend>.md and .jsonl, assembled into bench/RESULTS.md with
# bench/NOTES.md; --assemble only assembles them again (after editing the notes).
#
# Knobs (environment): DURATION (s per point, 10; --quick 3), CONNS ("16 64 256 1000"),
# LOGIN_CONNS ("16 64 256"), USERS (1000), PROJECTS (100000; --quick 20000), VUS (1000;
# --quick 200), SCENARIO_DURATION (40; --quick 12), PG_ADMIN_URL
# (postgres://postgres@127.0.0.1:5432/postgres), PGBENCH_CLIENTS (64, as in the issue), BENCH_OUT (bench/:
# where RESULTS.md and results/ are written).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BACKENDS=both
QUICK=0
ASSEMBLE=0
for arg in "$@"; do
  case "$arg" in
    sqlite|postgres|both) BACKENDS=$arg ;;
    --quick) QUICK=1 ;;
    --assemble) ASSEMBLE=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "usage: bench/run.sh [sqlite|postgres|both] [--quick] [--assemble]" >&2; exit 2 ;;
  esac
done
[ "$BACKENDS" = both ] && BACKENDS="sqlite postgres"

if [ "$QUICK" = 1 ]; then
  DURATION=${DURATION:-3}; PROJECTS=${PROJECTS:-20000}; USERS=${USERS:-200}
  VUS=${VUS:-200}; SCENARIO_DURATION=${SCENARIO_DURATION:-12}
else
  DURATION=${DURATION:-10}; PROJECTS=${PROJECTS:-100000}; USERS=${USERS:-1000}
  VUS=${VUS:-1000}; SCENARIO_DURATION=${SCENARIO_DURATION:-40}
fi
CONNS=${CONNS:-"16 64 256 1000"}
LOGIN_CONNS=${LOGIN_CONNS:-"16 64 256"}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_BENCH_URL=${PG_ADMIN_URL%/*}/launchpad_bench
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-64}
PRED_CONNS=${PRED_CONNS:-"16 64"}
JWT=bench-secret-bench-secret-bench-secret-0123
PASSWORD=Demo@1234
STUDENT=demo1@demo.launchpad   # owns ceil(PROJECTS/100) in_progress projects
WRITER=demo2@demo.launchpad    # creates projects in the create benchmark
LOGINER=demo3@demo.launchpad
ADMIN=demo0@demo.launchpad     # sees every project: the deep pages
OUT=${BENCH_OUT:-$ROOT/bench}   # where RESULTS.md and results/ go
RESULTS_DIR=$OUT/results
mkdir -p "$RESULTS_DIR"

# 1,000 connections need 1,000+ descriptors in the server and in loadgen.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if [ "$ASSEMBLE" = 0 ]; then
  echo "== building release binaries"
  cargo build --release -q -p launchpad -p loadgen
fi
LP=$ROOT/target/release/launchpad
LG=$ROOT/target/release/loadgen

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# The cursor that starts page $4 of the admin's project list ($3 per page), found by
# following next_cursor from the first page ("" for page 1).
cursor_at() {
  python3 - "$1" "$2" "$PASSWORD" "$3" "$4" <<'PY'
import json, sys, urllib.request, urllib.parse
base, email, password, per_page, page = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
def call(url, body=None, token=None):
    req = urllib.request.Request(base + url, data=body and json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    if token:
        req.add_header("authorization", "Bearer " + token)
    return json.load(urllib.request.urlopen(req))
token = call("/api/auth/login", {"email": email, "password": password})["access_token"]
cursor = ""
for _ in range(page - 1):
    q = urllib.parse.urlencode({"sort_by": "created_at", "sort_order": "desc",
                                "per_page": per_page, "cursor": cursor})
    cursor = call("/api/projects?" + q, token=token)["meta"]["next_cursor"]
print(urllib.parse.quote(cursor, safe=""))
PY
}

SERVER_PID=
TMP=$(mktemp -d /tmp/launchpad-bench.XXXXXX)
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
cleanup() { stop_server; rm -rf "$TMP"; }
trap cleanup EXIT

# The predecessor's reproduction on the PostgreSQL database just measured: the same list
# and create requests, as the same users, side by side (bench/predecessor/app.py).
run_predecessor() {
  local port; port=$(free_port)
  local base=http://127.0.0.1:$port jsonl=$RESULTS_DIR/predecessor.jsonl
  : > "$jsonl"
  echo "== the predecessor (Python, FastAPI, 2 workers) on the same database"
  "$ROOT/bench/predecessor.sh" "$port" > "$TMP/predecessor.log" 2>&1 &
  SERVER_PID=$!
  # The first run installs its packages from PyPI.
  for _ in $(seq 1 3000); do
    curl -sf -o /dev/null "$base/health" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/predecessor.log"; exit 1; }
    sleep 0.1
  done
  # The server's CPU and memory: uvicorn's processes (the watched one and its workers).
  plg() { "$LG" "$@" --watch-pid "$SERVER_PID" --db-comm postgres --json-out "$jsonl" | tee -a "$TMP/rows-predecessor.md"; }
  for c in $PRED_CONNS; do
    plg closed --label "predecessor list" -c "$c" --duration "$DURATION" \
      --url "$base/api/projects?status=in_progress&sort_by=created_at&sort_order=desc" --login "$STUDENT:$PASSWORD"
  done
  for c in $PRED_CONNS; do
    plg closed --label "predecessor create" -c "$c" --duration "$DURATION" --method POST --url "$base/api/projects" \
      --login "$WRITER:$PASSWORD" \
      --body '{"title":"Bench project {n}","category":"Web Development","tech_stack":["Rust","PostgreSQL"]}'
  done
  stop_server
}

# Starts `launchpad serve` on a free port: SERVER_PID, BASE, and COLD_MS from spawn to
# the first healthy /health.
start_launchpad() {
  local port t0 t1 ok=0; port=$(free_port)
  BASE=http://127.0.0.1:$port
  t0=$(now)
  "$LP" --api-host 127.0.0.1 --api-port "$port" serve >> "$TMP/server-$backend.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if curl -sf -o /dev/null "$BASE/health"; then ok=1; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.01
  done
  t1=$(now)
  [ "$ok" = 1 ] || { echo "server did not become healthy:"; cat "$TMP/server-$backend.log"; exit 1; }
  COLD_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
}

run_backend() {
  local backend=$1 url pool overflow md jsonl
  md=$RESULTS_DIR/$backend.md
  jsonl=$RESULTS_DIR/$backend.jsonl
  : > "$jsonl"
  echo "== $backend"
  case $backend in
    sqlite)
      url="sqlite://$TMP/bench.db"; pool=8; overflow=8 ;;
    postgres)
      command -v pgbench >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql-contrib; }
      psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS launchpad_bench WITH (FORCE)"
      psql "$PG_ADMIN_URL" -qc "CREATE DATABASE launchpad_bench"
      url=$PG_BENCH_URL; pool=10; overflow=22 ;;
  esac
  # The settings every launchpad command of this run shares.
  export DATABASE_URL=$url JWT_SECRET=$JWT LOG_LEVEL=warn LOG_FORMAT=json APP_ENV=development \
    DB_POOL_SIZE=$pool DB_MAX_OVERFLOW=$overflow AUTO_MIGRATE=false \
    AUTH_RATE_LIMIT_PER_IP=1000000 AUTH_RATE_LIMIT_PER_ACCOUNT=1000000
  # (All load comes from 127.0.0.1: the brute-force limits would measure themselves.)
  local load_before; load_before=$(cut -d' ' -f1-3 /proc/loadavg)

  "$LP" migrate up > /dev/null
  local t0 t1 seed_s seed_line
  t0=$(now)
  seed_line=$("$LP" seed --demo --users "$USERS" --projects "$PROJECTS" | tail -1)
  t1=$(now); seed_s=$(secs "$t0" "$t1")
  echo "   $seed_line"

  local rows=$TMP/rows-$backend.md
  : > "$rows"
  # CPU per request: the server's (and on SQLite the database's, which runs inside it);
  # on PostgreSQL also every `postgres` process's (its backends), from /proc.
  local db_comm=(); [ "$backend" = postgres ] && db_comm=(--db-comm postgres)
  lg() { "$LG" "$@" --watch-pid "$SERVER_PID" "${db_comm[@]}" --json-out "$jsonl" | tee -a "$rows"; }

  # Memory after sign-ins, on a server of its own: 128 registrations, 64 at a time, each
  # an Argon2 hash of 19 MiB; the row's VmHWM is the figure.
  start_launchpad
  lg closed --label "register (128, fresh server)" -c 64 --duration 60 --max-requests 128 \
    --method POST --url "$BASE/api/auth/register" \
    --body '{"email":"bench-{n}@bench.launchpad","password":"Bench@1234","name":"Bench {n}"}'
  stop_server

  start_launchpad
  local base=$BASE cold_ms=$COLD_MS
  local rss_idle; rss_idle=$(kb "$SERVER_PID" VmRSS)
  echo "   cold start to healthy: ${cold_ms} ms, idle RSS $(mb "$rss_idle") MB"

  local list="$base/api/projects?status=in_progress&sort_by=created_at&sort_order=desc"
  for c in $CONNS; do
    lg closed --label list -c "$c" --duration "$DURATION" --url "$list" --login "$STUDENT:$PASSWORD"
  done
  local id
  id=$("$LG" fetch --url "$base/api/projects?status=in_progress&per_page=1" --login "$STUDENT:$PASSWORD" --pointer /data/0/id)
  for c in $CONNS; do
    lg closed --label "get by id" -c "$c" --duration "$DURATION" --url "$base/api/projects/$id" --login "$STUDENT:$PASSWORD"
  done
  for c in $CONNS; do
    lg closed --label create -c "$c" --duration "$DURATION" --method POST --url "$base/api/projects" \
      --login "$WRITER:$PASSWORD" \
      --body '{"title":"Bench project {n}","category":"Web Development","tech_stack":["Rust","PostgreSQL"]}'
  done
  for c in $CONNS; do
    lg closed --label health -c "$c" --duration "$DURATION" --url "$base/health"
  done

  # Deep pages by offset, as the admin (every project): page 1, 100 and 1,000.
  local per_page=$(( PROJECTS / 1000 )); [ "$per_page" -gt 100 ] && per_page=100; [ "$per_page" -lt 1 ] && per_page=1
  for page in 1 100 1000; do
    lg closed --label "offset page $page (per_page $per_page)" -c 16 --duration "$DURATION" \
      --url "$base/api/projects?sort_by=created_at&sort_order=desc&per_page=$per_page&page=$page" \
      --login "$ADMIN:$PASSWORD"
  done
  # The same depths by keyset cursor: walk there once following `next_cursor`, then
  # measure the request that resumes from it (its cost should not grow with depth).
  for page in 1 100 1000; do
    local cursor
    cursor=$(cursor_at "$base" "$ADMIN" "$per_page" "$page")
    lg closed --label "cursor page $page (per_page $per_page)" -c 16 --duration "$DURATION" \
      --url "$base/api/projects?sort_by=created_at&sort_order=desc&per_page=$per_page&cursor=$cursor" \
      --login "$ADMIN:$PASSWORD"
  done

  # The seed scenario: virtual users with ~1 s think time.
  lg scenario --label "seed scenario" --users "$VUS" --duration "$SCENARIO_DURATION" --ramp 10 \
    --base "$base" --first-account 2 --accounts $(( USERS - 2 ))

  # Login last: each is an Argon2 hash (~19 MiB, tens of ms of CPU), run on one
  # hashing thread per core, so logins queue instead of multiplying memory.
  for c in $LOGIN_CONNS; do
    lg closed --label login -c "$c" --duration "$DURATION" --method POST --url "$base/api/auth/login" \
      --body "{\"email\":\"$LOGINER\",\"password\":\"$PASSWORD\"}"
  done

  local hwm rss_end; hwm=$(kb "$SERVER_PID" VmHWM); rss_end=$(kb "$SERVER_PID" VmRSS)
  stop_server
  [ "$backend" = postgres ] && run_predecessor

  local pgbench_line="not run (SQLite)"
  if [ "$backend" = postgres ]; then
    local out
    out=$(pgbench -n -M prepared -c "$PGBENCH_CLIENTS" -j 2 -T "$DURATION" -f "$ROOT/bench/pgbench_list.sql" "$PG_BENCH_URL" 2>&1) || true
    pgbench_line=$(echo "$out" | grep -E "^(tps|latency average)" | tr '\n' ';' | sed 's/;$//')
    echo "   pgbench: $pgbench_line"
  fi
  local load_after; load_after=$(cut -d' ' -f1-3 /proc/loadavg)

  {
    echo "### $backend"
    echo
    echo "- seed: \`launchpad seed --demo --users $USERS --projects $PROJECTS\` took ${seed_s} s (release build); it reported: $seed_line"
    echo "- server: \`launchpad serve\`, DB_POOL_SIZE=$pool, DB_MAX_OVERFLOW=$overflow, LOG_LEVEL=warn, AUTH_RATE_LIMIT_PER_IP/ACCOUNT=1000000, ulimit -n $(ulimit -n)"
    echo "- cold start (spawn to first healthy /health): ${cold_ms} ms; idle RSS $(mb "$rss_idle") MB; after all runs RSS $(mb "$rss_end") MB, VmHWM $(mb "$hwm") MB"
    echo "- pgbench on the list request's SQL ($PGBENCH_CLIENTS clients, prepared, ${DURATION} s): $pgbench_line"
    echo "- load average (1/5/15 min) before: $load_before; after: $load_after"
    echo
    echo "| scenario | connections | req/s | p50 ms | p95 ms | p99 ms | max ms | non-2xx | errors | RSS peak MB | VmHWM MB | server CPU µs/req | DB CPU µs/req |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    cat "$rows"
    echo
  } > "$md"
}

if [ "$ASSEMBLE" = 0 ]; then
  for b in $BACKENDS; do run_backend "$b"; done
  # What this run was: the head of RESULTS.md, kept for --assemble.
  {
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || echo ' (+ uncommitted changes)')"
  echo "- machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2/1048576 }' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "- kernel: $(uname -r); PostgreSQL: $(psql --version 2>/dev/null | awk '{print $3}'); rustc: $(rustc --version | awk '{print $2}')"
  echo "- command: \`bench/run.sh $*\` (DURATION=$DURATION s per point, USERS=$USERS, PROJECTS=$PROJECTS, VUS=$VUS, SCENARIO_DURATION=$SCENARIO_DURATION s, CONNS=\"$CONNS\", LOGIN_CONNS=\"$LOGIN_CONNS\")"
  echo "- load generator: \`target/release/loadgen\` on the same machine (it shares the 2 cores with the server and the database)"
  echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  } > "$RESULTS_DIR/run.md"
fi

# bench/RESULTS.md from the last run's fragments and the notes.
{
  echo "# Benchmark results"
  echo
  echo "Generated by \`bench/run.sh\` — do not edit by hand (notes go in bench/NOTES.md)."
  echo
  cat "$RESULTS_DIR/run.md"
  echo
  [ -f "$ROOT/bench/NOTES.md" ] && { cat "$ROOT/bench/NOTES.md"; echo; }
  echo "## Side by side"
  echo
  python3 "$ROOT/bench/side_by_side.py" "$RESULTS_DIR"
  echo
  echo "## Reference (the issue's figures for the Python predecessor)"
  echo
  echo "| measure | Python predecessor | goal |"
  echo "|---|---|---|"
  echo "| list, 16 connections | ~400 req/s, p99 ≈ 85 ms | |"
  echo "| list, 64 connections | ~330 req/s, p99 ≈ 390 ms | ≥ 3,300 req/s, p99 ≤ 39 ms |"
  echo "| list, 256 connections | deadlocked | no errors |"
  echo "| list, 1,000 connections | – | no errors |"
  echo "| memory | ~250 MB | < 64 MB RSS under load |"
  echo "| PostgreSQL alone (pgbench, 64 clients) | ~14,000 tps | ≥ 60 % of PostgreSQL's own rate (measured here) |"
  echo
  echo "## Ours"
  echo
  for b in sqlite postgres; do
    [ -f "$RESULTS_DIR/$b.md" ] && cat "$RESULTS_DIR/$b.md"
  done
  echo "Raw results, one JSON object per run: \`bench/results/<backend>.jsonl\`."
} > "$OUT/RESULTS.md"
echo "== wrote $OUT/RESULTS.md"
