#!/usr/bin/env bash
# Fuzzes the API with schemathesis, from its own /openapi.json, on a freshly started
# server: once as a student and once as an admin, on SQLite and/or PostgreSQL.
#
#   scripts/fuzz.sh [sqlite|postgres|both]     (default: both)
#
# Checks: all of schemathesis's — no 5xx, status codes, content types, headers and
# bodies as documented, schema-violating data rejected, schema-valid data accepted
# (positive_data_acceptance: 404s for made-up ids and 409s for state rules count as
# accepted), auth not ignored, created resources available and deleted ones not served
# (stateful, through the document's links). The two rules no OpenAPI document can
# state (paging by page or cursor, times in the future) are taught to it by
# scripts/fuzz_hooks.py. Exits non-zero on any failure. Bounded: FUZZ_MAX_EXAMPLES cases per operation
# (default 10) and FUZZ_RUN_TIMEOUT seconds per run (default 150); about a minute per
# run on two cores. One worker: with two threads, CPython 3.11's ast module (used by
# hypothesis) can fail with "AST constructor recursion depth mismatch".
#
# Sessions: each run logs in afresh, so nothing an earlier run did can spend its token.
# The fuzzer is never given its own refresh token or password, so `logout` and
# `POST /api/users/me/password` only ever see tokens and passwords it made up (or got
# from accounts it registered itself): they stay in. `DELETE /api/users/me` is left out:
# it would end the fuzzer's own account, and every later request would be a 401.
#
# Environment: FUZZ_SEED (a fixed seed, to replay a run), FUZZ_PG_SERVER (default
# postgres://postgres@127.0.0.1:5432): the PostgreSQL run creates a fresh database there
# and drops it afterwards. Failing runs leave their log in target/fuzz-report/.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/server.sh
source scripts/lib/server.sh

backends=$(backends_from "${1:-both}")

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-10}
RUN_TIMEOUT=${FUZZ_RUN_TIMEOUT:-150}
SEED=${FUZZ_SEED:-$(date +%s)}
PG_SERVER=${FUZZ_PG_SERVER:-postgres://postgres@127.0.0.1:5432}
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
venv="$target_dir/fuzz-venv"
work=$(mktemp -d "${TMPDIR:-/tmp}/launchpad-fuzz.XXXXXX")
scripts="$PWD/scripts"

cleanup() {
  stop_server
  drop_database
  rm -rf "$work"
}
trap cleanup EXIT

# A virtualenv under target/ with the pinned schemathesis; reused when it has it.
install_schemathesis() {
  if [[ -x "$venv/bin/schemathesis" ]] &&
    "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
    return
  fi
  echo "fuzz: installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
}

# An access token for the seeded account $1 / $2.
token_for() {
  curl -fsS -X POST "$base/api/auth/login" -H 'content-type: application/json' \
    -d "{\"email\": \"$1\", \"password\": \"$2\"}" |
    "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# One schemathesis run as the role $1 ($2 $3: its seeded credentials).
fuzz_as() {
  local role=$1 token
  token=$(token_for "$2" "$3")
  echo "fuzz: $backend as $role (seed $SEED, $MAX_EXAMPLES examples per operation)"
  local started=$SECONDS status=0
  # From the scratch directory: nothing schemathesis writes lands in the repository.
  (cd "$work" && PYTHONPATH="$scripts" SCHEMATHESIS_HOOKS=fuzz_hooks \
    timeout --signal=INT --kill-after=10 "$RUN_TIMEOUT" \
    "$venv/bin/schemathesis" run "$base/openapi.json" \
    --checks all \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --workers 1 \
    --request-timeout 20 \
    --exclude-operation-id delete_me \
    -H "Authorization: Bearer $token" \
    --generation-database none \
    --no-color) >"$work/$role.log" 2>&1 || status=$?
  echo "fuzz: $backend as $role: exit $status in $((SECONDS - started)) s"
  if [[ $status -ne 0 ]]; then
    cat "$work/$role.log"
    cp "$work/$role.log" "$report_dir/$backend-$role.log"
    failed=1
  else
    sed -n '/Test Phases:/,$p' "$work/$role.log"
  fi
}

install_schemathesis
cargo build --quiet -p launchpad --bin launchpad
report_dir="$target_dir/fuzz-report"
rm -rf "$report_dir"
mkdir -p "$report_dir"
failed=0
for backend in $backends; do
  new_database "$backend"
  start_server "$db_url"
  fuzz_as student student@test.com Test@1234
  fuzz_as admin admin@test.com Admin@1234
  stop_server
  drop_database
  if grep -E "panicked|internal error" "$work/server.log"; then
    echo "fuzz: the server logged a panic or an internal error on $backend" >&2
    failed=1
  fi
done
if [[ $failed -ne 0 ]]; then
  echo "fuzz: FAILED (reports in $report_dir)" >&2
  exit 1
fi
echo "fuzz: no failures"
