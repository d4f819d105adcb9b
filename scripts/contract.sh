#!/usr/bin/env bash
# The API contract, checked as its users meet it: the served /openapi.json validates
# (openapi-spec-validator); a Python client generates from it with no error or warning
# (openapi-python-client, --fail-on-warning), and drives a short journey (register,
# create, list with filters, upload, download) on SQLite and PostgreSQL
# (scripts/contract_journey.py); TypeScript types generate from it (openapi-typescript)
# and compile with what the server takes and without what it refuses
# (scripts/contract_types.ts, tsc --strict).
#
#   scripts/contract.sh [sqlite|postgres|both]     (default: both)
#
# openapi-python-client reads only JSON, text and application/octet-stream bodies; the
# binary types a download documents are mapped to octet-stream (its
# content_type_overrides setting), read from the document itself, so the generated
# client returns their bytes.
#
# The tools are pinned and installed into target/contract-venv and
# target/contract-node on first use.
# Environment: CONTRACT_PG_SERVER (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/server.sh
source scripts/lib/server.sh

backends=$(backends_from "${1:-both}")

TOOLS=(openapi-spec-validator==0.9.0 openapi-python-client==0.29.1 ruff==0.14.8)
NODE_TOOLS=(openapi-typescript@7.13.0 typescript@5.9.3)
PG_SERVER=${CONTRACT_PG_SERVER:-postgres://postgres@127.0.0.1:5432}
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
venv="$target_dir/contract-venv"
node="$target_dir/contract-node"
work=$(mktemp -d "${TMPDIR:-/tmp}/launchpad-contract.XXXXXX")

cleanup() {
  stop_server
  drop_database
  rm -rf "$work"
}
trap cleanup EXIT

# Whether directory $1 already holds the pinned tools $2… (its stamp names them).
has_tools() {
  local stamp="$1/.tools"
  shift
  [[ -f "$stamp" && "$(cat "$stamp")" == "$*" ]]
}

# A virtualenv under target/ with the pinned tools; reused when it has them all.
install_tools() {
  has_tools "$venv" "${TOOLS[@]}" && return
  echo "contract: installing ${TOOLS[*]} into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${TOOLS[@]}"
  echo "${TOOLS[*]}" >"$venv/.tools"
}

# The TypeScript generator and compiler under target/; reused when they are the pinned ones.
install_node_tools() {
  has_tools "$node" "${NODE_TOOLS[@]}" && return
  echo "contract: installing ${NODE_TOOLS[*]} into $node"
  rm -rf "$node"
  mkdir -p "$node"
  npm install --silent --no-audit --no-fund --prefix "$node" "${NODE_TOOLS[@]}" >/dev/null
  echo "${NODE_TOOLS[*]}" >"$node/.tools"
}

# TypeScript types from the document $1, compiled against scripts/contract_types.ts.
check_typescript() {
  local types="$work/ts"
  mkdir -p "$types"
  "$node/node_modules/.bin/openapi-typescript" "$1" --output "$types/api.ts"
  cp scripts/contract_types.ts "$types/check.ts"
  "$node/node_modules/.bin/tsc" --strict --noEmit --skipLibCheck --target es2020 \
    --module es2020 --moduleResolution bundler "$types/check.ts"
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
install_node_tools
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
    check_typescript "$work/openapi.json"
    echo "contract: TypeScript types generate and hold the server's rules"
  fi
  PYTHONPATH="$work/client" python3 scripts/contract_journey.py "$base"
  echo "contract: $backend: the generated client's journey passed"
  stop_server
  drop_database
done
