#!/usr/bin/env bash
# The API contract, checked as its users meet it: the served /openapi.json validates
# (openapi-spec-validator), a Python client generates from it with no error or warning
# (openapi-python-client, --fail-on-warning), and that generated client drives a short
# journey (register, create, list with filters, upload, download) on SQLite and
# PostgreSQL (scripts/contract_journey.py).
#
#   scripts/contract.sh [sqlite|postgres|both]     (default: both)
#
# openapi-python-client reads only JSON, text and application/octet-stream bodies; the
# binary types a download documents are mapped to octet-stream (its
# content_type_overrides setting), read from the document itself, so the generated
# client returns their bytes.
#
# The tools are pinned and installed into target/contract-venv on first use.
# Environment: CONTRACT_PG_SERVER (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/server.sh
source scripts/lib/server.sh

backends=$(backends_from "${1:-both}")

TOOLS=(openapi-spec-validator==0.9.0 openapi-python-client==0.29.1 ruff==0.14.8)
PG_SERVER=${CONTRACT_PG_SERVER:-postgres://postgres@127.0.0.1:5432}
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
venv="$target_dir/contract-venv"
work=$(mktemp -d "${TMPDIR:-/tmp}/launchpad-contract.XXXXXX")

cleanup() {
  stop_server
  drop_database
  rm -rf "$work"
}
trap cleanup EXIT

# A virtualenv under target/ with the pinned tools; reused when it has them all.
install_tools() {
  local stamp="$venv/.tools"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "${TOOLS[*]}" ]]; then
    return
  fi
  echo "contract: installing ${TOOLS[*]} into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${TOOLS[@]}"
  echo "${TOOLS[*]}" >"$stamp"
}

# The generator's config: every binary response type of the document read as bytes.
write_generator_config() {
  python3 - "$1" >"$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
binary = sorted({
    media
    for path in doc["paths"].values() for op in path.values() if isinstance(op, dict)
    for response in op.get("responses", {}).values()
    for media in response.get("content", {})
    if not (media.endswith("json") or media.startswith("text/"))
})
print(json.dumps({"content_type_overrides": {m: "application/octet-stream" for m in binary}}))
PY
}

install_tools
cargo build --quiet -p launchpad --bin launchpad
export PATH="$venv/bin:$PATH"
for backend in $backends; do
  new_database "$backend"
  start_server "$db_url"
  if [[ ! -d "$work/client" ]]; then
    curl -fsS "$base/openapi.json" -o "$work/openapi.json"
    openapi-spec-validator "$work/openapi.json"
    write_generator_config "$work/openapi.json" "$work/generator.json"
    (cd "$work" && openapi-python-client generate --path openapi.json \
      --config generator.json --output-path client --fail-on-warning)
    echo "contract: the document validates and a Python client generates without warnings"
  fi
  PYTHONPATH="$work/client" python3 scripts/contract_journey.py "$base"
  echo "contract: $backend: the generated client's journey passed"
  stop_server
  drop_database
done
