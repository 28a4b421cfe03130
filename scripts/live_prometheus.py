"""Live-mode helpers for scripts/check-dashboards.py: a throw-away Prometheus (the one unpacked
in .tools/ by scripts/check-deploy.sh) and a few `wharf run` relays, all on 127.0.0.1, each
owned by the caller and stopped by `stop()`. Standard library only.
"""
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALERTS = ROOT / "grafana" / "alerts.yml"


PROMETHEUS = ROOT / ".tools" / "prometheus" / "usr" / "bin" / "prometheus"


def free_port():
    """A port free right now on 127.0.0.1 (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, predicate, deadline_s):
    """Polls `predicate` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise TimeoutError(f"timed out after {deadline_s}s waiting for {what}")


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def prometheus_config(targets, interval):
    """A Prometheus config (JSON is valid YAML) scraping `targets` as job `wharf`."""
    return json.dumps({
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [{"job_name": "wharf", "static_configs": [{"targets": targets}]}],
    })


def start_prometheus(workdir, targets, interval):
    """Starts Prometheus on a free port with its TSDB in `workdir`; returns (process, base URL)."""
    if not PROMETHEUS.exists():
        sys.exit(f"{PROMETHEUS} missing: run scripts/check-deploy.sh first (it unpacks it)")
    cfg = workdir / "prometheus.yml"
    cfg.write_text(prometheus_config(targets, interval))
    port = free_port()
    with open(workdir / "prometheus.log", "w") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen([
            str(PROMETHEUS), f"--config.file={cfg}", f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_for("Prometheus to be ready", lambda: proc.poll() is None and http_ok(base + "/-/ready"), 30)
    return proc, base


def keygen(wharf):
    """(private key hex, peer id) from `wharf keygen`."""
    out = subprocess.run([wharf, "keygen"], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    return fields["private_key"], fields["peer_id"]


def spawn_relays(wharf, n, workdir):
    """Starts `n` relays; relays 2..n peer with relay 1. Returns (processes, metrics targets)."""
    key, peer_id = keygen(wharf)
    first = f"/ip4/127.0.0.1/tcp/{free_port()}"
    procs, targets = [], []
    for i in range(n):
        metrics = f"127.0.0.1:{free_port()}"
        args = [wharf, "run", "--data-dir", str(workdir / f"relay-{i + 1}"),
                "--metrics-listen", metrics,
                "--p2p-listen", first if i == 0 else "/ip4/127.0.0.1/tcp/0",
                "--p2p-listen", "/ip4/127.0.0.1/udp/0/quic-v1"]
        args += ["--p2p-private-key", key] if i == 0 else ["--p2p-peers", f"{first}/p2p/{peer_id}"]
        with open(workdir / f"relay-{i + 1}.log", "w") as log:
            procs.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT))
        targets.append(metrics)
    for t in targets:
        wait_for(f"relay metrics on {t}", lambda t=t: http_ok(f"http://{t}/metrics"), 30)
    return procs, targets


def stop(procs):
    """SIGTERM, then SIGKILL after 10 s, for each process we started."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
