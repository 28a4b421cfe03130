# Sourced by scripts that need a live relay with an admin API: start_relay BIN PORT starts
# `BIN run` on 127.0.0.1:PORT (API), ephemeral p2p/metrics ports, an HS256 key and no practical
# rate limit, in a temp dir; sets WORK, PID and TOKEN (an admin token) and stops it all on exit.

start_relay() {
  local bin="$1" port="$2"
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
listen = "127.0.0.1:$port"
rate_limit_per_second = 10000000
rate_limit_burst = 10000000
[[api.keys]]
kid = "local"
alg = "HS256"
secret_file = "$WORK/api.secret"
TOML
  RUST_LOG="${RUST_LOG:-info}" "$bin" run --config "$WORK/wharf.toml" > "$WORK/relay.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$WORK/relay.log"; return 1; }
  TOKEN="$("$bin" token --config "$WORK/wharf.toml" --scope admin --ttl 1h --sub "$(basename "$0")")"
}
