"""Runs the Wharf services of a compose file as local processes: same binary, same flags, same
environment (Dockerfile ENV, then the service's), so the commands the stack runs are tested
without a Docker engine.

What a container gets for free is rewritten, and only that: each service gets its own loopback
address 127.0.0.(20+i) in place of its container IP, so ports stay as written (7777, 9100, 8000,
8080); `/dns4/<service>/` and `http://<service>:` point at that address; `0.0.0.0` becomes it;
`/data` becomes a temp dir; the Postgres URL points at the local server (a fresh database).
The p2p listen addresses, which the image leaves at the `0.0.0.0` default, are given as
`--p2p-listen` flags on the service's address.

Flags and subcommands the binary does not know yet are an error; with `skip_unsupported` they
are dropped (a service whose subcommand is missing is skipped) and listed loudly.
Used by scripts/check-dashboards.py --compose. Needs ruamel.yaml (in .tools/venv).
"""
import functools
import os
import re
import subprocess
import uuid
from pathlib import Path

PG_ADMIN = os.environ.get("WHARF_TEST_PG", "postgres://postgres@127.0.0.1:5432")


def dockerfile_env(path):
    """The ENV of the Dockerfile's last stage, as a dict."""
    text = re.sub(r"\\\n", " ", Path(path).read_text())
    stage = text.split("\nFROM ")[-1]
    env = {}
    for line in stage.splitlines():
        if line.startswith("ENV "):
            env.update(kv.split("=", 1) for kv in line[4:].split() if "=" in kv)
    return env


@functools.lru_cache(maxsize=None)
def help_text(wharf, *sub):
    r = subprocess.run([wharf, *sub, "--help"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else ""


def supported(wharf, sub, flag):
    """Whether `wharf <sub>` exists and, if `flag` is given, knows it."""
    if not re.search(rf"^\s+{re.escape(sub)}\s", help_text(wharf), re.M):
        return False
    return flag is None or re.search(rf"{re.escape(flag)}(?![\w-])", help_text(wharf, sub)) is not None


class Rewriter:
    """Maps container names and addresses to loopback ones."""

    def __init__(self, ips, pg_url):
        self.ips, self.pg_url = ips, pg_url

    def __call__(self, s, own_ip):
        s = re.sub(r"postgres://[^\s@]+@postgres:5432/\w+", lambda _: self.pg_url(), s)
        for name, ip in self.ips.items():
            s = s.replace(f"/dns4/{name}/", f"/ip4/{ip}/").replace(f"http://{name}:", f"http://{ip}:")
        return s.replace("0.0.0.0", own_ip)


def filter_args(wharf, sub, args, skip, dropped):
    """Drops flags `wharf <sub>` lacks (when `skip`), with a separate value if any."""
    out, i = [], 0
    while i < len(args):
        a, has_value = args[i], i + 1 < len(args) and not args[i + 1].startswith("-")
        flag = a.split("=", 1)[0]
        if flag.startswith("--") and not supported(wharf, sub, flag):
            if not skip:
                raise SystemExit(f"`wharf {sub}` has no flag {flag} (the compose stack needs it)")
            dropped.append(f"{sub} {flag}")
            i += 2 if "=" not in a and has_value and flag in UNKNOWN_WITH_VALUE else 1
            continue
        out.append(a)
        i += 1
    return out


# Planned flags that take a value (a separate argument after them); `--feeder` takes none.
UNKNOWN_WITH_VALUE = {"--database-url", "--gateway-url", "--gateway-public-key", "--api-listen",
                      "--listen", "--block-time", "--url"}


class Stack:
    """The compose file's wharf services as processes (start, targets, healthchecks, stop)."""

    def __init__(self, compose_file, dockerfile, wharf, workdir, skip_unsupported):
        from ruamel.yaml import YAML  # only this mode needs it

        self.compose = YAML(typ="safe").load(Path(compose_file).read_text())
        self.base_env = dockerfile_env(dockerfile)
        self.wharf, self.workdir, self.skip = wharf, Path(workdir), skip_unsupported
        self.procs, self.dropped, self.targets, self.health = [], [], [], []
        self.databases = []
        names = [n for n, s in self.compose["services"].items() if self.is_wharf(s)]
        self.ips = {n: f"127.0.0.{20 + i}" for i, n in enumerate(names)}
        self.rewrite = Rewriter(self.ips, self.new_database)

    @staticmethod
    def is_wharf(service):
        return str(service.get("image", "")).startswith("wharf") or "build" in service

    def new_database(self):
        """The fleet's database on the local Postgres: created once per run, shared by every
        service as in the stack, dropped by stop()."""
        if not self.databases:
            name = f"wharf_compose_{uuid.uuid4().hex[:12]}"
            subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {name}"], check=True)
            self.databases.append(name)
        return f"{PG_ADMIN}/{self.databases[0]}"

    def argv(self, name, service):
        """The service's command for the local binary, or None when it cannot run yet."""
        ip, cmd = self.ips[name], [str(a) for a in service.get("command", ["run"])]
        if not supported(self.wharf, cmd[0], None):
            if not self.skip:
                raise SystemExit(f"service {name}: the binary has no `{cmd[0]}` subcommand")
            self.dropped.append(f"service {name} (no `wharf {cmd[0]}`)")
            return None
        args = filter_args(self.wharf, cmd[0], cmd[1:], self.skip, self.dropped)
        args = [self.rewrite(a, ip) for a in args]
        if cmd[0] == "run":
            args += ["--p2p-listen", f"/ip4/{ip}/tcp/7777", "--p2p-listen", f"/ip4/{ip}/udp/7777/quic-v1"]
            # Each container has its own loopback for the API; processes share one host.
            args += ["--api-listen", f"{ip}:8080"]
        return [self.wharf, cmd[0], *args]

    def env(self, name, service):
        """Dockerfile ENV, then the service's environment, rewritten; plus the process's own."""
        env = dict(os.environ)
        merged = {**self.base_env, **{k: str(v) for k, v in (service.get("environment") or {}).items()}}
        data = self.workdir / name
        for k, v in merged.items():
            env[k] = str(data) if v == "/data" else self.rewrite(v, self.ips[name])
        return env

    def healthcheck(self, name, service):
        """The healthcheck command (the service's, else the image's `wharf healthcheck`)."""
        test = (service.get("healthcheck") or {}).get("test") or ["CMD", "wharf", "healthcheck"]
        if test[0] != "CMD" or test[1] != "wharf" or not supported(self.wharf, test[2], None):
            self.dropped.append(f"healthcheck of {name} ({' '.join(test[1:3])} unavailable)")
            return None
        # A container's 127.0.0.1 is the service itself: here, the service's own address.
        args = [self.rewrite(str(a), self.ips[name]).replace("127.0.0.1", self.ips[name]) for a in test[3:]]
        if "--url" not in " ".join(args):  # the image default probes the API on loopback
            args += ["--url", f"http://{self.ips[name]}:8080/healthz"]
        return [self.wharf, *test[2:3], *args]

    def start(self):
        """Starts every runnable wharf service; returns the metrics targets."""
        for name, service in self.compose["services"].items():
            if name not in self.ips or (argv := self.argv(name, service)) is None:
                continue
            with open(self.workdir / f"{name}.log", "w") as log:
                self.procs.append(subprocess.Popen(argv, env=self.env(name, service),
                                                   stdout=log, stderr=subprocess.STDOUT))
            if argv[1] == "run":
                self.targets.append(f"{self.ips[name]}:9100")
            if (hc := self.healthcheck(name, service)) is not None:
                self.health.append(hc)
        return self.targets

    def healthy(self):
        """True when every healthcheck command exits 0 (what Docker's HEALTHCHECK would see)."""
        return all(subprocess.run(hc, capture_output=True).returncode == 0 for hc in self.health)

    def stop(self, stop_procs):
        """Stops the processes (with `stop_procs`) and drops the database."""
        stop_procs(self.procs)
        for name in self.databases:
            subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
