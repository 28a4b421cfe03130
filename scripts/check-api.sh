#!/usr/bin/env bash
# Runs schemathesis (PyPI) against a live relay started from the built `wharf` binary, with a
# valid admin token: fails on any 5xx or any response that violates openapi/openapi.json.
# Installs schemathesis into the repo-local, gitignored .tools/api-venv. Called by .ci/run.
#
#   scripts/check-api.sh [path/to/wharf]     (default: target/debug/wharf, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${1:-${CARGO_TARGET_DIR:-target}/debug/wharf}"
VENV="$PWD/.tools/api-venv"
PORT="${WHARF_CHECK_API_PORT:-18080}"
SCHEMATHESIS_VERSION="4.32.5"

[ -x "$BIN" ] || cargo build --locked --bin wharf
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

WORK="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/api.secret"
cat > "$WORK/wharf.toml" <<TOML
[node]
data_dir = "$WORK/data"
[p2p]
listen = ["/ip4/127.0.0.1/tcp/0"]
[metrics]
listen = "127.0.0.1:0"
[api]
listen = "127.0.0.1:$PORT"
rate_limit_per_second = 100000
rate_limit_burst = 100000
[[api.keys]]
kid = "check"
alg = "HS256"
secret_file = "$WORK/api.secret"
TOML

"$BIN" run --config "$WORK/wharf.toml" > "$WORK/relay.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done
TOKEN="$("$BIN" token --config "$WORK/wharf.toml" --scope admin --ttl 1h --sub schemathesis)"

# The event stream never ends; it is covered by the Rust tests. positive_data_acceptance is left
# out: a peer id or a ban target (IP, CIDR, peer id) has more structure than JSON Schema can say,
# so schema-valid strings can still be refused — with the documented 400/422, which the other
# checks verify. Every other check runs, including "no 5xx" and response schema conformance.
"$VENV/bin/schemathesis" run openapi/openapi.json \
  --url "http://127.0.0.1:$PORT" \
  --header "Authorization: Bearer $TOKEN" \
  --checks all \
  --exclude-checks positive_data_acceptance \
  --exclude-path /api/v1/events \
  --max-examples 30 \
  --seed 1 \
  --no-color || { echo "relay log:"; tail -50 "$WORK/relay.log"; exit 1; }
