#!/usr/bin/env bash
# PgBouncer for the tests that serve through a transaction-mode pooler (Debian's 1.18,
# which has no prepared-statement support: the case DB_TRANSACTION_POOLER is for).
#
#   scripts/pgbouncer.sh install    install the package if /usr/sbin/pgbouncer is missing
#
# The tests start their own instances (crates/launchpad/tests/api/pgbouncer.rs); the
# package's own service is left stopped.
set -euo pipefail

install() {
  [[ -x /usr/sbin/pgbouncer ]] && return
  echo "pgbouncer: installing Debian's package" >&2
  local sudo=()
  [[ $(id -u) == 0 ]] || sudo=(sudo)
  # No service started by the install: the tests start what they need.
  local get=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q)
  "${get[@]}" install --no-install-recommends pgbouncer >/dev/null ||
    { "${get[@]}" update >/dev/null && "${get[@]}" install --no-install-recommends pgbouncer >/dev/null; }
  "${sudo[@]}" service pgbouncer stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  install) install ;;
  *)
    echo "usage: $0 install" >&2
    exit 2
    ;;
esac
