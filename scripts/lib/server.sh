# Shared by the scripts that run the real server: a fresh database, the server on it,
# stopped and dropped afterwards. The caller sets `work` (a scratch directory),
# `target_dir` and `PG_SERVER`, and calls `stop_server` and `drop_database` on exit.
# `base` is the server's URL once started. Messages carry the caller's name (`$tag`).

tag=${tag:-$(basename "$0" .sh)}
server_pid=""
pg_db=""

# The backends a script's argument names: sqlite, postgres or both (the usage otherwise).
backends_from() {
  case "$1" in
    sqlite | postgres) echo "$1" ;;
    both) echo "sqlite postgres" ;;
    *)
      echo "usage: $0 [sqlite|postgres|both]" >&2
      exit 2
      ;;
  esac
}

# Sets `db_url` to a fresh, empty database on backend $1 (sqlite or postgres).
new_database() {
  case "$1" in
    sqlite) db_url="sqlite://$work/$tag-$(date +%s%N).db" ;;
    postgres)
      pg_db="launchpad_${tag}_$(date +%s)_$$"
      psql "$PG_SERVER/postgres" -qtAc "CREATE DATABASE \"$pg_db\"" >/dev/null
      db_url="$PG_SERVER/$pg_db"
      ;;
  esac
}

# Drops the PostgreSQL database `new_database` made, if any.
drop_database() {
  if [[ -n "$pg_db" ]]; then
    psql "$PG_SERVER/postgres" -qtAc "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null || true
    pg_db=""
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts `launchpad serve` on database $1; waits for /health (at most 60 s).
start_server() {
  local url=$1 port
  port=$(free_port)
  base="http://127.0.0.1:$port"
  mkdir -p "$work/uploads"
  DATABASE_URL="$url" API_PORT="$port" APP_ENV=test AUTO_MIGRATE=true \
    JWT_SECRET=script-secret-script-secret-script-0 LOG_LEVEL=warn \
    UPLOAD_DIR="$work/uploads" ARCHIVE_DIR="$work/archive" \
    AUTH_RATE_LIMIT_PER_IP=1000000 AUTH_RATE_LIMIT_PER_ACCOUNT=1000000 \
    "$target_dir/debug/launchpad" serve >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    if curl -fsS "$base/health" >/dev/null 2>&1; then
      return
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "$tag: the server exited:" >&2
      cat "$work/server.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "$tag: no answer from $base/health within 60 s" >&2
  exit 1
}

stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}

