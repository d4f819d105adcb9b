#!/usr/bin/env bash
# A real S3-compatible server on loopback for the tests and the cluster: Garage, built
# from crates.io once and cached outside the checkout (a fresh clone reuses it).
#
#   scripts/object-store.sh install     build Garage if the cache lacks it (~10-15 min cold)
#   scripts/object-store.sh up DIR      start one (idempotent; state in DIR), print its settings
#   scripts/object-store.sh up DIR PID  the same, for as long as process PID lives: then it
#                                       stops and DIR is removed (how the tests use it)
#   scripts/object-store.sh down DIR    stop the one started in DIR
#
# `up` prints, one per line, what a client needs: STORAGE_URL=s3://launchpad?endpoint=…,
# AWS_ACCESS_KEY_ID=… and AWS_SECRET_ACCESS_KEY=…. Garage runs as a single node with
# one bucket (`launchpad`) and one key made at its first start; ports are free ones
# picked then and kept in DIR. Environment: GARAGE_CACHE (default
# ~/.cache/launchpad/garage-$GARAGE_VERSION).
set -euo pipefail

GARAGE_VERSION=2.5.0
cache=${GARAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/launchpad/garage-$GARAGE_VERSION}
garage="$cache/bin/garage"
bucket=launchpad
access_key=GKlaunchpad0000000000000000
secret_key=launchpad-test-secret-0000000000000000000000000000000000000000000

install() {
  if [[ -x "$garage" ]]; then
    return
  fi
  echo "object-store: building Garage $GARAGE_VERSION into $cache (once per machine)" >&2
  mkdir -p "$cache"
  cargo install garage --version "$GARAGE_VERSION" --locked --quiet \
    --root "$cache" --target-dir "$cache/build" >&2
  rm -rf "$cache/build"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Writes DIR/garage.toml with fresh ports, unless it is there.
configure() {
  local dir=$1
  [[ -f "$dir/garage.toml" ]] && return
  mkdir -p "$dir/meta" "$dir/data"
  local rpc
  rpc="127.0.0.1:$(free_port)"
  cat >"$dir/garage.toml" <<EOF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "$rpc"
rpc_public_addr = "$rpc"
rpc_secret = "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$(free_port)"
root_domain = ".s3.garage.localhost"
EOF
}

endpoint() {
  sed -n 's/^api_bind_addr = "\(.*\)"$/http:\/\/\1/p' "$1/garage.toml"
}

running() {
  [[ -f "$1/pid" ]] && kill -0 "$(cat "$1/pid")" 2>/dev/null
}

# Stops the server in $1 once process $2 has exited, and removes $1.
watch_owner() {
  local dir=$1 owner=$2
  while kill -0 "$owner" 2>/dev/null; do sleep 1; done
  down "$dir"
  rm -rf "$dir"
}

up() {
  local dir owner=${2:-}
  dir=$(mkdir -p "$1" && cd "$1" && pwd)
  install
  configure "$dir"
  if ! running "$dir"; then
    GARAGE_DEFAULT_ACCESS_KEY=$access_key GARAGE_DEFAULT_SECRET_KEY=$secret_key \
      GARAGE_DEFAULT_BUCKET=$bucket RUST_LOG=warn \
      setsid "$garage" -c "$dir/garage.toml" server --single-node --default-bucket \
      >>"$dir/garage.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    if [[ -n "$owner" ]]; then
      setsid bash -c "$(declare -f running down watch_owner); watch_owner '$dir' '$owner'" \
        >/dev/null 2>&1 </dev/null &
    fi
  fi
  local url
  url=$(endpoint "$dir")
  for _ in $(seq 1 300); do
    # Any S3 answer (403 without a signature) means it listens.
    if curl -s -o /dev/null -w '%{http_code}' "$url/$bucket" | grep -q '^[2-4]'; then
      echo "STORAGE_URL=s3://$bucket?endpoint=$url&region=garage&allow_http=true"
      echo "AWS_ACCESS_KEY_ID=$access_key"
      echo "AWS_SECRET_ACCESS_KEY=$secret_key"
      return
    fi
    if ! running "$dir"; then
      echo "object-store: Garage exited:" >&2
      cat "$dir/garage.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "object-store: no answer from Garage at $url within 30 s" >&2
  exit 1
}

down() {
  local dir=$1
  if running "$dir"; then
    kill -TERM "$(cat "$dir/pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do running "$dir" || break; sleep 0.1; done
  fi
  rm -f "$dir/pid"
}

case "${1:-}" in
  install) install ;;
  up) up "${2:?usage: $0 up DIR [PID]}" "${3:-}" ;;
  down) down "${2:?usage: $0 down DIR}" ;;
  *)
    echo "usage: $0 install | up DIR [PID] | down DIR" >&2
    exit 2
    ;;
esac
