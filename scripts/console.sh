#!/usr/bin/env bash
# The admin console, end to end in a real browser: Debian's Chromium, headless, driven
# by playwright-core (no browser download: the package drives the system's Chromium),
# against a freshly started server on each backend (scripts/console_e2e.cjs says what
# it does). Screenshots of every page go to target/console-shots/<backend>/.
#
#   scripts/console.sh [sqlite|postgres|both]     (default: both)
#
# Installs what it needs, idempotently: the `chromium` package (apt, when
# /usr/bin/chromium is missing) and playwright-core, pinned, into target/console-node.
# Environment: CONSOLE_PG_SERVER (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/server.sh
source scripts/lib/server.sh

backends=$(backends_from "${1:-both}")

NODE_TOOLS=(playwright-core@1.65.2)
PG_SERVER=${CONSOLE_PG_SERVER:-postgres://postgres@127.0.0.1:5432}
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
node="$target_dir/console-node"
shots="$target_dir/console-shots"
work=$(mktemp -d "${TMPDIR:-/tmp}/launchpad-console.XXXXXX")

cleanup() {
  stop_server
  drop_database
  rm -rf "$work"
}
trap cleanup EXIT

install_browser() {
  [[ -x /usr/bin/chromium ]] && return
  echo "console: installing Debian's chromium"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
}

install_node_tools() {
  local stamp="$node/.tools"
  [[ -f "$stamp" && "$(cat "$stamp")" == "${NODE_TOOLS[*]}" ]] && return
  echo "console: installing ${NODE_TOOLS[*]} into $node"
  rm -rf "$node"
  mkdir -p "$node"
  # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: the system's Chromium is the browser.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$node" --silent --no-audit --no-fund \
    "${NODE_TOOLS[@]}" >/dev/null
  echo "${NODE_TOOLS[*]}" >"$stamp"
}

install_browser
install_node_tools
cargo build --quiet -p launchpad

for backend in $backends; do
  new_database "$backend"
  start_server "$db_url"
  mkdir -p "$shots/$backend"
  echo "console: $backend — $base"
  NODE_PATH="$node/node_modules" BASE="$base" SHOTS="$shots/$backend" BACKEND="$backend" \
    node scripts/console_e2e.cjs
  stop_server
  drop_database
done
