"""Benchmark plumbing: a gunicorn server on a free port, a logged-in HTTP client, timing tables."""
from __future__ import annotations

import http.client
import json
import os
import re
import runpy
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(args: list[str], env: dict) -> subprocess.CompletedProcess:
    """Run `flask --app app …` with `env`, streaming its output (progress bars)."""
    return subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, check=True)


def find_csrf_token(body: bytes) -> str | None:
    """The CSRF token of a page: a form's hidden field or the page's meta tag."""
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body) or \
        re.search(rb'value="([^"]+)"[^>]*name="csrf_token"', body) or \
        re.search(rb'<meta name="csrf-token" content="([^"]+)"', body)
    return match.group(1).decode() if match else None


def production_shape() -> tuple[int, int]:
    """The workers and threads gunicorn.conf.py gives production (on this machine, in this environment)."""
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return conf["workers"], conf["threads"]


def add_shape_arguments(parser) -> None:
    """--workers and --threads of the gunicorn a benchmark starts (default: gunicorn.conf.py's)."""
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=None, help="threads per worker (default: gunicorn.conf.py's)")


class Server:
    """The app under gunicorn, as in production (gunicorn.conf.py; its workers and threads unless given)."""

    def __init__(self, env: dict, workers: int | None = None, threads: int | None = None):
        self.port = free_port()
        self.env = env
        default_workers, default_threads = production_shape()
        self.workers, self.threads = workers or default_workers, threads or default_threads
        self.cmd = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(self.workers),
                    "--threads", str(self.threads), "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
                    "app:app"]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                client = Client(self.port)
                if client.request("GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each gunicorn worker (children of the master)."""
        out = subprocess.run(["ps", "-o", "pid=,rss=", "--ppid", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        return [int(line.split()[1]) / 1024 for line in out.strip().splitlines() if line.strip()]

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Client:
    """A keep-alive HTTP client with a cookie jar of one site."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, bytes, dict]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        for key, value in response.getheaders():
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, data, dict(response.getheaders())

    def csrf_token(self, path: str) -> str:
        status, body, _ = self.request("GET", path)
        token = find_csrf_token(body)
        if not token:
            raise RuntimeError(f"no CSRF token on {path} ({status})")
        return token

    def login(self, email: str, password: str) -> None:
        token = self.csrf_token("/login")
        body = urlencode({"csrf_token": token, "email": email, "password": password}).encode()
        status, _, headers = self.request("POST", "/login", body,
                                          {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302 or "/login" in headers.get("Location", ""):
            raise RuntimeError(f"login as {email} failed ({status})")


@dataclass
class Timing:
    name: str
    samples: list[float] = field(default_factory=list)  # seconds
    errors: int = 0
    wall: float = 0.0

    def row(self) -> dict:
        ms = sorted(s * 1000 for s in self.samples) or [float("nan")]
        p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
        return {"name": self.name, "n": len(self.samples), "p50_ms": round(statistics.median(ms), 2),
                "p95_ms": round(p95, 2), "rps": round(len(self.samples) / self.wall, 1) if self.wall else None,
                "errors": self.errors}


def measure(name: str, fn, repeat: int, ok=lambda status: status < 400) -> Timing:
    """Call `fn()` (returning an HTTP status or None) `repeat` times, timing each call."""
    timing = Timing(name)
    start = time.perf_counter()
    for _ in range(repeat):
        t0 = time.perf_counter()
        status = fn()
        timing.samples.append(time.perf_counter() - t0)
        if status is not None and not ok(status):
            timing.errors += 1
    timing.wall = time.perf_counter() - start
    return timing


def print_table(rows: list[dict], extra: tuple[str, ...] = ()) -> None:
    cols = ("name", "n", "p50_ms", "p95_ms", "rps", "errors", *extra)
    widths = {c: max([len(c)] + [len(str(r.get(c, ""))) for r in rows]) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in cols))


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str))
    print(f"wrote {path}")


def base_env(database_url: str) -> dict:
    env = dict(os.environ)
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": "benchmark-secret",
                "MPLCONFIGDIR": str(ROOT / "instance" / "mplconfig")})
    return env
