#!/usr/bin/env python3
"""Proves the Grafana dashboards and the alert rules against a real Prometheus.

Every panel `expr` of every dashboard in grafana/dashboards/ (template variables substituted:
`$fleet` -> `.*`, `$__rate_interval` -> `1m`, ...) and every alert `expr` of grafana/alerts.yml
goes through `/api/v1/query`. The check fails if any query does not parse, or if a dashboard
query returns no data (a panel over a metric the code does not export). Alert expressions only
have to parse: a quiet fleet fires nothing. Prints one table row per query.

Modes:
  --lint-only                 offline: every panel has a title, a description, a unit and
                              targets scoped by $fleet; the JSON matches scripts/gen-dashboards.py.
  --prometheus URL            check against a running Prometheus (e.g. http://127.0.0.1:9090).
  --targets H:P[,H:P...]      start the Prometheus unpacked in .tools/ on a temp dir scraping
                              these /metrics targets every second, wait until all are up and
                              --min-scrapes scrapes happened, run the check, stop Prometheus.
  --spawn-relays N --wharf BIN  start N `wharf run` relays on 127.0.0.1 (relays 2..N list
                              relay 1 in --p2p-peers) and use their metrics listeners as targets.
  --compose FILE --wharf BIN  run FILE's wharf services as processes with the exact flags and
                              env (see compose_processes.py; needs .tools/venv/bin/python),
                              wait for their healthchecks, scrape them.

Only the standard library is used, so CI needs nothing but python3.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_prometheus import http_ok, spawn_relays, start_prometheus, stop, wait_for  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS = ROOT / "grafana" / "dashboards"
ALERTS = ROOT / "grafana" / "alerts.yml"
SUBSTITUTIONS = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "5m",
    "${fleet}": ".*",
    "$fleet": ".*",
}


def substitute(expr):
    """Replaces Grafana template variables with values Prometheus accepts."""
    for var, value in SUBSTITUTIONS.items():
        expr = expr.replace(var, value)
    return expr


def dashboard_queries():
    """(source, panel title, expr) for every target of every dashboard panel."""
    out = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        for p in json.loads(path.read_text())["panels"]:
            for t in p.get("targets", []):
                out.append((f"{path.stem}", p["title"], t["expr"]))
    return out


def alert_queries():
    """(source, alert name, expr) for every rule of grafana/alerts.yml.

    A tiny reader for the file's own shape (`- alert: NAME` then `expr:` either inline or as a
    `|` block), so the check needs no YAML library."""
    out, name, lines = [], None, ALERTS.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := re.match(r"\s*- alert:\s*(\S+)", line):
            name = m.group(1)
        elif m := re.match(r"(\s*)expr:\s*(.*)$", line):
            indent, text = len(m.group(1)), m.group(2).strip()
            if text in ("|", ">", "|-", ">-"):
                block = []
                while i + 1 < len(lines) and (
                    not lines[i + 1].strip() or len(lines[i + 1]) - len(lines[i + 1].lstrip()) > indent
                ):
                    i += 1
                    block.append(lines[i].strip())
                text = " ".join(b for b in block if b)
            out.append(("alerts", name, text))
        i += 1
    return out


def lint():
    """Offline checks of the dashboard JSON; returns a list of problems."""
    problems = []
    gen = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-dashboards.py"), "--check"],
                         capture_output=True, text=True)
    if gen.returncode != 0:
        problems.append(gen.stderr.strip() or gen.stdout.strip())
    for path in sorted(DASHBOARDS.glob("*.json")):
        d = json.loads(path.read_text())
        names = [v["name"] for v in d.get("templating", {}).get("list", [])]
        if "fleet" not in names:
            problems.append(f"{path.name}: no `fleet` template variable")
        for p in d["panels"]:
            where = f"{path.name}: panel {p.get('title')!r}"
            for key in ("title", "description"):
                if not p.get(key):
                    problems.append(f"{where}: no {key}")
            if not p.get("fieldConfig", {}).get("defaults", {}).get("unit"):
                problems.append(f"{where}: no unit")
            if not p.get("targets"):
                problems.append(f"{where}: no query")
            for t in p.get("targets", []):
                if "$fleet" not in t.get("expr", ""):
                    problems.append(f"{where}: query not scoped by $fleet: {t.get('expr')}")
    return problems


def query(base, expr):
    """Runs an instant query; returns (status, number of series, error)."""
    url = base.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        body = json.load(e)
    except (urllib.error.URLError, OSError) as e:
        return "unreachable", 0, str(e)
    if body.get("status") != "success":
        return "parse error", 0, body.get("error", "?")
    return "ok", len(body["data"]["result"]), ""


def exported_names(base):
    """Every metric name Prometheus has series for."""
    url = base.rstrip("/") + "/api/v1/label/__name__/values"
    with urllib.request.urlopen(url, timeout=10) as r:
        return set(json.load(r)["data"])


def missing_metrics(expr, names):
    """Metric names (wharf_*, libp2p_*) that `expr` uses and no target exports."""
    used = set(re.findall(r"\b((?:wharf|libp2p)_[a-zA-Z0-9_]+)", expr))
    return sorted(used - names)


def check(base):
    """Runs every query against `base`; prints a table; returns the number of failures."""
    rows, failures = [], 0
    names = exported_names(base)
    for source, title, expr in dashboard_queries() + alert_queries():
        status, n, err = query(base, substitute(expr))
        must_have_data = source != "alerts"
        if status == "ok" and n == 0 and must_have_data:
            missing = missing_metrics(expr, names)
            status = "no data" + (f" (not exported: {', '.join(missing)})" if missing else "")
        ok = status == "ok"
        failures += not ok
        rows.append(("PASS" if ok else "FAIL", source, title, n, status if not err else f"{status}: {err}"))
    width = max(len(r[2]) for r in rows)
    print(f"{'':4}  {'source':7}  {'panel / alert':{width}}  {'series':>6}  status")
    for verdict, source, title, n, status in rows:
        print(f"{verdict:4}  {source:7}  {title:{width}}  {n:>6}  {status}")
    print(f"\nqueries: {len(rows) - failures} ok, {failures} failing")
    return failures


# ---------------------------------------------------------------------------------------------
# Live mode: a throw-away Prometheus (and optionally relays or the compose stack) on 127.0.0.1.


def scrapes_done(base, targets, min_scrapes):
    """True once every target is up and has been scraped at least `min_scrapes` times."""
    expr = f'count_over_time(up{{job="wharf"}}[10m]) >= {min_scrapes} and up{{job="wharf"}} == 1'
    status, n, _ = query(base, expr)
    return status == "ok" and n == len(targets)


def start_compose(args, workdir):
    """Starts the compose file's wharf services as processes; waits for metrics and health."""
    from compose_processes import Stack  # needs ruamel.yaml: only this mode

    stack = Stack(args.compose, ROOT / "Dockerfile", args.wharf, workdir, args.skip_unsupported)
    try:
        stack.start()
        for line in stack.dropped:
            print(f"SKIPPED (not in this binary yet): {line}", file=sys.stderr)
        for t in stack.targets:
            wait_for(f"metrics on {t}", lambda t=t: http_ok(f"http://{t}/metrics"), 60)
        wait_for("every healthcheck to pass", stack.healthy, 60)
    except BaseException:
        for log in sorted(workdir.glob("*.log")):
            print(f"--- {log.name} (last lines) ---", file=sys.stderr)
            print("\n".join(log.read_text(errors="replace").splitlines()[-15:]), file=sys.stderr)
        stack.stop(stop)
        raise
    return stack


def live(args):
    """Live mode; returns the number of failing queries."""
    workdir = Path(tempfile.mkdtemp(prefix="wharf-prom-"))
    procs, stack = [], None
    try:
        targets = [t for t in (args.targets or "").split(",") if t]
        if args.spawn_relays:
            relays, spawned = spawn_relays(args.wharf, args.spawn_relays, workdir)
            procs += relays
            targets += spawned
        if args.compose:
            stack = start_compose(args, workdir)
            targets += stack.targets
        prom, base = start_prometheus(workdir, targets, args.scrape_interval)
        procs.insert(0, prom)
        print(f"Prometheus {base} scraping {', '.join(targets)} (workdir {workdir})")
        wait_for(f"{args.min_scrapes} scrapes of every target",
                 lambda: scrapes_done(base, targets, args.min_scrapes), args.timeout)
        return check(base)
    finally:
        stop(procs)
        if stack is not None:
            stack.stop(stop)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lint-only", action="store_true")
    ap.add_argument("--prometheus", metavar="URL")
    ap.add_argument("--targets", metavar="HOST:PORT,...")
    ap.add_argument("--spawn-relays", type=int, default=0, metavar="N")
    ap.add_argument("--wharf", default=os.environ.get("WHARF_BIN", "wharf"), metavar="BIN")
    ap.add_argument("--compose", metavar="FILE",
                    help="run the file's wharf services as local processes and scrape them")
    ap.add_argument("--skip-unsupported", action="store_true",
                    help="with --compose: drop flags/subcommands the binary lacks, loudly")
    ap.add_argument("--min-scrapes", type=int, default=10)
    ap.add_argument("--scrape-interval", default="1s")
    ap.add_argument("--timeout", type=float, default=120, help="seconds to wait for scrapes")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, TSDB)")
    args = ap.parse_args()
    if args.lint_only:
        problems = lint()
        for p in problems:
            print(f"FAIL  {p}")
        print(f"dashboards lint: {len(problems)} problem(s)")
        return 1 if problems else 0
    if args.prometheus:
        return 1 if check(args.prometheus) else 0
    if args.targets or args.spawn_relays or args.compose:
        return 1 if live(args) else 0
    ap.error("give --lint-only, --prometheus, --targets, --spawn-relays or --compose")


if __name__ == "__main__":
    sys.exit(main())
