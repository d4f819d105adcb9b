#!/usr/bin/env bash
# A production topology on one machine, on loopback: a PostgreSQL primary with a
# streaming replica (pg_basebackup + a hot standby, clusters of the harness's own), an
# S3-compatible object store (scripts/object-store.sh), two `launchpad serve` nodes and
# one `launchpad worker`, all on the same database and the same bucket; the nodes read
# from the replica (DATABASE_REPLICA_URL).
#
#   scripts/cluster.sh up          start what is not running (idempotent); print the settings
#   scripts/cluster.sh down        stop everything `up` started and remove its state
#   scripts/cluster.sh node NAME   (re)start node NAME (a or b), e.g. after killing it
#   scripts/cluster.sh worker      (re)start the worker
#   scripts/cluster.sh replica stop|start   stop the replica (fast) or start it again
#   scripts/cluster.sh env         print the settings again
#
# `up` prints one per line: NODE_URL=… and NODE_PID=… for each node, WORKER_PID=…,
# DATABASE_URL=… (the primary), REPLICA_URL=… and STORAGE_URL=…. State (data, logs,
# pids) lives in CLUSTER_DIR (default target/cluster). The binary is
# ${CARGO_TARGET_DIR:-target}/debug/launchpad, built when missing (LAUNCHPAD_BIN overrides).
set -euo pipefail
cd "$(dirname "$0")/.."

state=${CLUSTER_DIR:-$PWD/target/cluster}
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
bin=${LAUNCHPAD_BIN:-$target_dir/debug/launchpad}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
nodes=(a b)

log() { echo "cluster: $*" >&2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs a PostgreSQL program as `postgres` when we are root (initdb and postgres refuse root).
as_postgres() {
  if [[ $(id -u) == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Whether the process whose pid is in file $1 runs (a killed one not yet reaped is a
# zombie: it does not).
alive() {
  local pid
  [[ -f "$1" ]] && pid=$(cat "$1") && kill -0 "$pid" 2>/dev/null &&
    [[ $(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) != Z ]]
}

# A setting kept in $state/ports (chosen once, so a restart keeps its address).
port_of() {
  local name=$1 port
  port=$(sed -n "s/^$name=//p" "$state/ports" 2>/dev/null || true)
  if [[ -z "$port" ]]; then
    port=$(free_port)
    echo "$name=$port" >>"$state/ports"
  fi
  echo "$port"
}

pg_start() {
  local name=$1 port=$2
  if as_postgres "$pg_bin/pg_ctl" -D "$state/$name" status >/dev/null 2>&1; then
    return
  fi
  as_postgres "$pg_bin/pg_ctl" -D "$state/$name" -l "$state/$name.log" -w -t 60 \
    -o "-p $port -k $state -c listen_addresses=127.0.0.1" start >/dev/null
}

primary_up() {
  local port
  port=$(port_of primary)
  if [[ ! -d "$state/primary" ]]; then
    log "initdb the primary (port $port)"
    as_postgres "$pg_bin/initdb" -D "$state/primary" -U postgres -A trust --no-sync >/dev/null
    cat >>"$state/primary/postgresql.conf" <<EOF
wal_level = replica
max_wal_senders = 10
hot_standby = on
max_connections = 200
EOF
    echo "host replication all 127.0.0.1/32 trust" >>"$state/primary/pg_hba.conf"
  fi
  pg_start primary "$port"
  if ! psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'launchpad'" | grep -q 1; then
    createdb -h 127.0.0.1 -p "$port" -U postgres launchpad
  fi
}

replica_up() {
  local port
  port=$(port_of replica)
  if [[ ! -d "$state/replica" ]]; then
    log "pg_basebackup the replica (port $port)"
    as_postgres pg_basebackup -h 127.0.0.1 -p "$(port_of primary)" -U postgres \
      -D "$state/replica" -R -X stream --no-sync
  fi
  pg_start replica "$port"
}

storage_up() {
  if [[ ! -f "$state/storage.env" ]] || ! alive "$state/object-store/pid"; then
    bash scripts/object-store.sh up "$state/object-store" >"$state/storage.env"
  fi
}

# The environment every launchpad process of the cluster runs with.
launchpad_env() {
  echo "DATABASE_URL=postgres://postgres@127.0.0.1:$(port_of primary)/launchpad"
  cat "$state/storage.env"
  echo "APP_ENV=test"
  echo "AUTO_MIGRATE=true"
  echo "SERVE_JOBS=false"
  echo "LOG_LEVEL=warn"
  echo "JWT_SECRET=cluster-secret-cluster-secret-cluster-0"
  # Every client of a loopback cluster has one address: the per-account limit stays.
  echo "AUTH_RATE_LIMIT_PER_IP=100000"
  echo "DATABASE_REPLICA_URL=postgres://postgres@127.0.0.1:$(port_of replica)/launchpad"
}

# Starts `launchpad $1` as process $2 (pid and log in $state) with `env` and $3….
spawn() {
  local command=$1 name=$2
  shift 2
  alive "$state/$name.pid" && return
  local settings
  mapfile -t settings < <(launchpad_env)
  env "${settings[@]}" "$@" setsid "$bin" "$command" >>"$state/$name.log" 2>&1 </dev/null &
  echo $! >"$state/$name.pid"
}

node_up() {
  local name=$1 port
  port=$(port_of "node_$name")
  spawn serve "node-$name" API_PORT="$port" UPLOAD_DIR="$state/node-$name-incoming"
  for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return
    if ! alive "$state/node-$name.pid"; then
      log "node $name exited:"
      tail -n 20 "$state/node-$name.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  log "node $name did not answer /health within 60 s"
  exit 1
}

worker_up() {
  # A job of a killed worker is taken back after JOB_LOCK_TIMEOUT: seconds here (every
  # job of the cluster takes milliseconds), so that the soak sees it happen.
  spawn worker worker JOB_POLL_INTERVAL_MS=200 JOB_LOCK_TIMEOUT=2
}

print_env() {
  for name in "${nodes[@]}"; do
    echo "NODE_URL=http://127.0.0.1:$(port_of "node_$name")"
    echo "NODE_PID=$(cat "$state/node-$name.pid")"
  done
  echo "WORKER_PID=$(cat "$state/worker.pid")"
  echo "STORE_CONFIG=$state/object-store/garage.toml"
  echo "DATABASE_URL=postgres://postgres@127.0.0.1:$(port_of primary)/launchpad"
  echo "REPLICA_URL=postgres://postgres@127.0.0.1:$(port_of replica)/launchpad"
  sed -n 's/^STORAGE_URL=/STORAGE_URL=/p' "$state/storage.env"
}

up() {
  mkdir -p "$state"
  chmod 777 "$state"
  [[ -x "$bin" ]] || cargo build --quiet --bin launchpad >&2
  primary_up
  replica_up
  storage_up
  # Both nodes start at once, as after a deploy: the migration lock lets one migrate.
  local starting=()
  for name in "${nodes[@]}"; do
    node_up "$name" &
    starting+=($!)
  done
  for pid in "${starting[@]}"; do wait "$pid"; done
  worker_up
  print_env
}

stop_pid() {
  local file=$1
  if alive "$file"; then
    kill -TERM "$(cat "$file")" 2>/dev/null || true
    for _ in $(seq 1 100); do alive "$file" || break; sleep 0.1; done
    alive "$file" && kill -KILL "$(cat "$file")" 2>/dev/null || true
  fi
  rm -f "$file"
}

down() {
  [[ -d "$state" ]] || return 0
  for name in "${nodes[@]}"; do stop_pid "$state/node-$name.pid"; done
  stop_pid "$state/worker.pid"
  for name in replica primary; do
    if [[ -d "$state/$name" ]]; then
      as_postgres "$pg_bin/pg_ctl" -D "$state/$name" -m fast -w stop >/dev/null 2>&1 || true
    fi
  done
  bash scripts/object-store.sh down "$state/object-store"
  rm -rf "$state"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  node)
    node_up "${2:?usage: $0 node a|b}"
    print_env
    ;;
  worker)
    worker_up
    print_env
    ;;
  replica)
    case "${2:-}" in
      stop) as_postgres "$pg_bin/pg_ctl" -D "$state/replica" -m fast -w stop >/dev/null ;;
      start) replica_up ;;
      *) echo "usage: $0 replica stop|start" >&2; exit 2 ;;
    esac
    ;;
  env) print_env ;;
  *)
    echo "usage: $0 up | down | node a|b | worker | replica stop|start | env" >&2
    exit 2
    ;;
esac
