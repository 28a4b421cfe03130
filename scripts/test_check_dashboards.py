"""Tests of scripts/check-dashboards.py against a real Prometheus scraping a stub /metrics
target: a query that does not parse fails, a query over a metric nobody exports has no data and
names the metric, a query over an exported metric passes, template variables are substituted,
and every alert rule's expression is extracted. Run by scripts/check-deploy.sh:
`python3 -m unittest discover -s scripts -p 'test_*.py'` (needs .tools/prometheus).
"""
import http.server
import importlib.util
import shutil
import tempfile
import threading
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("check_dashboards", HERE / "check-dashboards.py")
cd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cd)

STUB_METRICS = b"""# TYPE wharf_build_info gauge
wharf_build_info{version="0.0.0-test"} 1
# TYPE wharf_static_peer_dials counter
wharf_static_peer_dials_total 3
# EOF
"""


class Stub(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "application/openmetrics-text; version=1.0.0")
        self.end_headers()
        self.wfile.write(STUB_METRICS)

    def log_message(self, *args):
        pass


class LiveCheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
        threading.Thread(target=cls.stub.serve_forever, daemon=True).start()
        target = f"127.0.0.1:{cls.stub.server_address[1]}"
        cls.workdir = Path(tempfile.mkdtemp(prefix="wharf-check-test-"))
        cls.prom, cls.base = cd.start_prometheus(cls.workdir, [target], "1s")
        cd.wait_for("2 scrapes", lambda: cd.scrapes_done(cls.base, [target], 2), 60)

    @classmethod
    def tearDownClass(cls):
        cd.stop([cls.prom])
        cls.stub.shutdown()
        cls.stub.server_close()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def test_unparsable_query_is_a_parse_error(self):
        status, _, err = cd.query(self.base, "sum(rate(wharf_static_peer_dials_total[1m])")
        self.assertEqual(status, "parse error")
        self.assertIn("parse error", err)

    def test_exported_metric_returns_data(self):
        expr = cd.substitute('sum(rate(wharf_static_peer_dials_total{instance=~"$fleet"}[$__rate_interval]))')
        self.assertEqual(cd.query(self.base, expr)[:2], ("ok", 1))

    def test_missing_metric_has_no_data_and_is_named(self):
        expr = 'wharf_chain_head{instance=~".*"}'
        self.assertEqual(cd.query(self.base, expr)[:2], ("ok", 0))
        names = cd.exported_names(self.base)
        self.assertIn("wharf_build_info", names)
        self.assertEqual(cd.missing_metrics(expr, names), ["wharf_chain_head"])


class Offline(unittest.TestCase):
    def test_substitution_leaves_no_template_variable(self):
        for _, _, expr in cd.dashboard_queries():
            self.assertNotIn("$", cd.substitute(expr), expr)

    def test_every_alert_rule_is_extracted(self):
        alerts = cd.alert_queries()
        text = cd.ALERTS.read_text()
        self.assertEqual(len(alerts), text.count("- alert:"))
        self.assertTrue(all(expr and "{" in expr for _, _, expr in alerts))

    def test_dashboards_lint_clean(self):
        self.assertEqual(cd.lint(), [])


if __name__ == "__main__":
    unittest.main()
