#!/usr/bin/env bash
# Admin API benchmark (not a test): wrk against GET /api/v1/bans (10,000 bans in the store) and
# GET /api/v1/node, beside GET /healthz as the floor, in the same run, on a release build.
#
#   scripts/bench-api.sh            needs `wrk` (Debian package) and builds `wharf` in release
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "install wrk: apt-get install -y wrk" >&2; exit 2; }
cargo build --release --locked --bin wharf
BIN="${CARGO_TARGET_DIR:-target}/release/wharf"
PORT="${WHARF_BENCH_API_PORT:-18090}"
BANS="${WHARF_BENCH_BANS:-10000}"
# shellcheck source=lib/relay.sh
source scripts/lib/relay.sh
RUST_LOG=warn start_relay "$BIN" "$PORT"

echo "adding $BANS bans through the API..."
python3 - "$PORT" "$TOKEN" "$BANS" <<'PY'
import http.client, json, sys
port, token, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
for i in range(n):
    target = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" if i % 2 else f"2001:db8::{i:x}"
    c.request("POST", "/api/v1/bans", json.dumps({"target": target, "reason": "bench"}), h)
    r = c.getresponse(); r.read()
    assert r.status == 201, (r.status, target)
PY

run() {
  local name="$1" path="$2"
  local out
  out="$(wrk -t2 -c32 -d10s --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$path")"
  local rps p99
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  printf '%-32s %12s req/s   p99 %s\n' "$name" "$rps" "$p99"
}
echo
echo "wrk -t2 -c32 -d10s, $BANS bans, release build, $(nproc) cores"
run "GET /healthz (floor)" "/healthz"
run "GET /api/v1/node" "/api/v1/node"
run "GET /api/v1/bans (100 per page)" "/api/v1/bans?limit=100"
run "GET /api/v1/bans?limit=10" "/api/v1/bans?limit=10"
