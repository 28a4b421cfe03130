#!/usr/bin/env python3
"""Generates the Grafana dashboards in grafana/dashboards/ from the panel lists below.

Why a generator: every panel must carry a title, a unit, a description and the `fleet`
selector; writing that by hand in four JSON files drifts. Edit this file, then run
`python3 scripts/gen-dashboards.py`; `--check` fails when the committed JSON differs.
"""
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "grafana" / "dashboards"
DS = {"type": "prometheus", "uid": "wharf-prometheus"}
F = '{instance=~"$fleet"}'  # every query is scoped to the selected relays
RI = "$__rate_interval"


def panel(title, unit, desc, exprs, kind="timeseries", legend=None):
    """One panel: `exprs` is a list of (expr, legend format)."""
    targets = [
        {"refId": chr(65 + i), "datasource": DS, "expr": e, "legendFormat": lf or "__auto"}
        for i, (e, lf) in enumerate(exprs)
    ]
    p = {
        "type": kind,
        "title": title,
        "description": desc,
        "datasource": DS,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": targets,
    }
    if kind == "timeseries":
        p["options"] = {"legend": {"displayMode": "table", "placement": "bottom",
                                   "calcs": ["lastNotNull", "max"]},
                        "tooltip": {"mode": "multi", "sort": "desc"}}
        p["fieldConfig"]["defaults"]["custom"] = {"fillOpacity": 10, "lineWidth": 1}
    if kind == "stat":
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "value",
                        "graphMode": "area", "textMode": "auto"}
    return p


def by(labels, metric, agg="sum"):
    return f"{agg} by ({labels}) ({metric})"


def rate(metric, sel=F):
    return f"rate({metric}{sel}[{RI}])"


def fleet_var():
    return {
        "name": "fleet",
        "label": "Relays",
        "type": "query",
        "datasource": DS,
        "query": {"query": "label_values(wharf_build_info, instance)", "refId": "fleet"},
        "definition": "label_values(wharf_build_info, instance)",
        "multi": True,
        "includeAll": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "refresh": 2,
        "sort": 1,
    }


def dashboard(uid, title, desc, panels):
    width = {"stat": 6, "timeseries": 12, "table": 12}
    x = y = 0
    for i, p in enumerate(panels):
        w = width[p["type"]]
        h = 4 if p["type"] == "stat" else 8
        if x + w > 24:
            x, y = 0, y + h
        p["id"] = i + 1
        p["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
        x += w
    return {
        "uid": uid,
        "title": title,
        "description": desc,
        "tags": ["wharf"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [fleet_var()]},
        "links": [{"type": "dashboards", "tags": ["wharf"], "asDropdown": True, "title": "Wharf"}],
        "panels": panels,
    }


def fleet():
    return dashboard("wharf-fleet", "Wharf / Fleet overview",
                     "Health of every relay of the fleet at a glance.", [
        panel("Relays up", "none", "Relays whose /metrics Prometheus scraped successfully.",
              [('sum(up{job="wharf", instance=~"$fleet"})', "up")], "stat"),
        panel("Connected peers", "none", "Open libp2p connections, all selected relays.",
              [(f"sum(wharf_connected_peers{F})", "peers")], "stat"),
        panel("Highest chain head", "none", "Highest block committed by any selected relay.",
              [(f"max(wharf_chain_head{F})", "head")], "stat"),
        panel("Active bans", "none", "Bans in force (shared by the fleet: max over relays).",
              [(f"sum(max by (kind) (wharf_bans_active{F}))", "bans")], "stat"),
        panel("Versions", "none", "Relays per Wharf version (wharf_build_info).",
              [(by("version", f"wharf_build_info{F}", "count"), "{{version}}")], "stat"),
        panel("Peers per relay", "none", "Open connections per relay, both directions.",
              [(by("instance", f"wharf_connected_peers{F}"), "{{instance}}")]),
        panel("Chain head per relay", "none",
              "Highest block each relay has committed; a relay below the others is lagging.",
              [(f"wharf_chain_head{F}", "{{instance}}")]),
        panel("Sync lag per relay", "none",
              "Blocks between the local head and the best known head (gateway or peers).",
              [(f"wharf_sync_lag_blocks{F}", "{{instance}}")]),
        panel("Bandwidth per relay", "Bps",
              "libp2p transport bytes per second, by relay and direction.",
              [(by("instance, direction", rate("libp2p_bandwidth_bytes_total")),
                "{{instance}} {{direction}}")]),
        panel("Blocks served", "ops", "Blocks (any component) served to peers per second.",
              [(by("instance", rate("wharf_blocks_served_total")), "{{instance}}")]),
        panel("Connections refused", "ops", "Connections refused by the gate per second, by reason.",
              [(by("reason", rate("wharf_connections_refused_total")), "{{reason}}")]),
    ])


def sync():
    return dashboard("wharf-sync", "Wharf / Sync",
                     "Block ingestion from the upstream gateway and over P2P, and serving.", [
        panel("Chain head", "none", "Highest committed block per relay.",
              [(f"wharf_chain_head{F}", "{{instance}} local"),
               (f"wharf_gateway_head{F}", "{{instance}} gateway")]),
        panel("Sync lag (blocks)", "none", "Local head behind the best known head, in blocks.",
              [(f"wharf_sync_lag_blocks{F}", "{{instance}}")]),
        panel("Sync lag (time)", "s",
              "Age of the local head relative to the best known head, in seconds.",
              [(f"wharf_sync_lag_seconds{F}", "{{instance}}")]),
        panel("Blocks committed", "ops", "Blocks verified and committed to the store per second.",
              [(by("instance", rate("wharf_blocks_committed_total")), "{{instance}}")]),
        panel("Verification failures", "ops",
              "Blocks rejected by verification per second, by reason (never stored).",
              [(by("reason", rate("wharf_verification_failures_total")), "{{reason}}")]),
        panel("Reorgs detected", "short",
              "Parent-hash mismatches with the stored chain in the range (reported, never overwritten).",
              [(by("instance", f"increase(wharf_reorgs_detected_total{F}[$__range])"),
                "{{instance}}")]),
        panel("Gateway errors", "ops", "Failed upstream gateway requests per second, by kind.",
              [(by("kind", rate("wharf_gateway_errors_total")), "{{kind}}")]),
        panel("Sync requests", "ops",
              "P2P sync requests per second by protocol, outcome and side (client|server).",
              [(by("protocol, outcome, side", rate("wharf_sync_requests_total")),
                "{{side}} {{protocol}} {{outcome}}")]),
        panel("Bytes served", "Bps", "Component bytes served to peers per second.",
              [(by("component", rate("wharf_bytes_served_total")), "{{component}}")]),
        panel("Blocks served by component", "ops", "Items served per second, by component.",
              [(by("component", rate("wharf_blocks_served_total")), "{{component}}")]),
        panel("Gossip messages", "ops",
              "Block announcements received per second, by validation outcome.",
              [(by("outcome", rate("wharf_gossip_messages_total")), "{{outcome}}")]),
        panel("Store operations", "ops", "Store operations per second, by store and operation.",
              [(by("store, op", rate("wharf_store_operations_total")), "{{store}} {{op}}")]),
        panel("Store errors", "ops", "Failed store operations per second, by store and operation.",
              [(by("store, op", rate("wharf_store_errors_total")), "{{store}} {{op}}")]),
    ])


def peers():
    rtt = f"rate(libp2p_ping_rtt_seconds_bucket{F}[{RI}])"
    return dashboard("wharf-peers", "Wharf / Peers & bans",
                     "Connections, the DHT, the connection gate, bans and peer scores.", [
        panel("Connected peers", "none", "Open connections by direction and transport.",
              [(by("direction, transport", f"wharf_connected_peers{F}"),
                "{{direction}} {{transport}}")]),
        panel("DHT routing table", "none", "Peers in each relay's Kademlia routing table.",
              [(f"wharf_dht_routing_table_peers{F}", "{{instance}}")]),
        panel("Connections established", "ops",
              "New libp2p connections per second, by role (Dialer|Listener).",
              [(by("role", rate("libp2p_swarm_connections_established_total")), "{{role}}")]),
        panel("Static peer dials", "ops",
              "Dials of --p2p-peers per second (first dial and every re-dial after a drop).",
              [(by("instance", rate("wharf_static_peer_dials_total")), "{{instance}}")]),
        panel("Connections refused", "ops",
              "Connections refused by the gate per second, by reason (ban, limit_*, pnet).",
              [(by("reason", rate("wharf_connections_refused_total")), "{{reason}}")]),
        panel("Active bans", "none", "Bans in force by kind (ip, cidr, peer).",
              [(by("kind", f"wharf_bans_active{F}", "max"), "{{kind}}")]),
        panel("Penalties", "ops", "Peer score penalties per second, by reason.",
              [(by("reason", rate("wharf_penalties_total")), "{{reason}}")]),
        panel("Automatic bans", "ops", "Peers banned for crossing the score threshold, per second.",
              [(by("reason", rate("wharf_auto_bans_total")), "{{reason}}")]),
        panel("Ping RTT", "s", "Round-trip time to connected peers (libp2p ping), p50 and p99.",
              [(f"histogram_quantile(0.5, sum by (le) ({rtt}))", "p50"),
               (f"histogram_quantile(0.99, sum by (le) ({rtt}))", "p99")]),
        panel("Identify exchanges", "ops", "Identify messages received per second.",
              [(by("instance", rate("libp2p_identify_received_total")), "{{instance}}")]),
    ])


def api():
    req = "wharf_api_requests_total"
    lat = f"rate(wharf_api_request_duration_seconds_bucket{F}[{RI}])"
    err5 = f'sum(rate({req}{{instance=~"$fleet", status=~"5.."}}[{RI}]))'
    return dashboard("wharf-api", "Wharf / Admin API",
                     "The admin REST API: traffic, errors and latency by route template.", [
        panel("Requests by route", "reqps", "Requests per second by route template.",
              [(by("route", rate(req)), "{{route}}")]),
        panel("Requests by status", "reqps", "Requests per second by HTTP status.",
              [(by("status", rate(req)), "{{status}}")]),
        panel("5xx ratio", "percentunit", "Share of requests answered with a 5xx status.",
              [(f"({err5} or vector(0)) / sum({rate(req)})", "5xx")]),
        panel("Auth failures", "reqps", "401 and 403 answers per second, by route (0 for routes without any).",
              [(by("route", f'rate({req}{{instance=~"$fleet", status=~"401|403"}}[{RI}])')
                + " or " + by("route", rate(req)) + " * 0", "{{route}}")]),
        panel("Latency p50", "s", "Median request latency by route template.",
              [(f"histogram_quantile(0.5, sum by (le, route) ({lat}))", "{{route}}")]),
        panel("Latency p99", "s", "99th percentile request latency by route template.",
              [(f"histogram_quantile(0.99, sum by (le, route) ({lat}))", "{{route}}")]),
    ])


DASHBOARDS = {"fleet.json": fleet, "sync.json": sync, "peers.json": peers, "api.json": api}


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for name, build in DASHBOARDS.items():
        text = json.dumps(build(), indent=2) + "\n"
        path = OUT / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.write_text(text)
    if stale:
        sys.exit("stale dashboards (run scripts/gen-dashboards.py): " + ", ".join(stale))


if __name__ == "__main__":
    main()
